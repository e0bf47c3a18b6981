/**
 * A typed client for gobgpd 3.10's gRPC API (service apipb.GobgpApi), covering what the
 * agent needs: read the global config, originate and withdraw paths, list what gobgpd
 * originates, list and watch peers. Path encoding lives in path-codec.ts.
 */
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Logger } from 'pino';
import type { Millis } from '../core/duration.js';
import type { Family as IpFamily } from '../core/prefix.js';
import { GobgpError, UntargetedDeleteError, type GobgpCall } from './errors.js';
import type { ProtoGrpcType } from './generated/gobgp.js';
import type { AddPathResponse__Output } from './generated/apipb/AddPathResponse.js';
import type { GetBgpResponse__Output } from './generated/apipb/GetBgpResponse.js';
import type { Empty__Output } from './generated/google/protobuf/Empty.js';
import type { DeletePathRequest } from './generated/apipb/DeletePathRequest.js';
import type { GobgpApiClient } from './generated/apipb/GobgpApi.js';
import { apiFamily, checkPathSpec, decodePath, encodePath, isLocallyOriginated } from './path-codec.js';
import type { PathSpec, RibPath } from './path.js';
import { peerInfoOf, type PeerInfo } from './peer.js';
import { GOBGP_PROTO_FILES, gobgpProtoDir } from './proto-files.js';

export interface GobgpClientOptions {
  /** `unix:///path/to/socket` or `host:port`. */
  target: string;
  /** Deadline of every unary call. */
  callTimeout: Millis;
  /** Deadline of whole-table calls (ListPath, ListPeer, AddPathStream). Default 10 × callTimeout. */
  bulkTimeout?: Millis;
  /** Paths per AddPathStreamRequest. Default 500 (well under gobgpd's 4 MiB receive limit). */
  streamBatch?: number;
  logger?: Logger;
}

/** ListPath of a full table easily passes gRPC's 4 MiB default. */
const MAX_RECEIVE_BYTES = 512 * 1024 * 1024;
/** Re-subscription backoff of watch streams: first wait, and the cap. */
const WATCH_BACKOFF_FIRST_MS = 100;
const WATCH_BACKOFF_MAX_MS = 5_000;

let cachedPackage: ProtoGrpcType | undefined;

function gobgpPackage(): ProtoGrpcType {
  if (!cachedPackage) {
    const definition = protoLoader.loadSync([...GOBGP_PROTO_FILES], {
      includeDirs: [gobgpProtoDir()],
      // These options must match the proto-loader-gen-types flags in proto/gobgp/generate-types.sh.
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    cachedPackage = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return cachedPackage;
}

export interface GlobalInfo {
  asn: number;
  routerId: string;
  /** -1 when gobgpd does not listen for BGP. */
  listenPort: number;
  listenAddresses: string[];
}

export class GobgpClient {
  private readonly stub: GobgpApiClient;
  private readonly callTimeout: Millis;
  private readonly bulkTimeout: Millis;
  private readonly streamBatch: number;
  private readonly logger: Logger | undefined;
  private readonly watchStops = new Set<() => void>();
  private closed = false;

  constructor(opts: GobgpClientOptions) {
    const pkg = gobgpPackage();
    this.callTimeout = opts.callTimeout;
    this.bulkTimeout = opts.bulkTimeout ?? ((opts.callTimeout * 10) as Millis);
    this.streamBatch = opts.streamBatch ?? 500;
    this.logger = opts.logger;
    this.stub = new pkg.apipb.GobgpApi(opts.target, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
      // grpc-js reconnects by itself; keep its backoff short so a restarted gobgpd is
      // found again within a reconcile period (the default grows to 120 s).
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2_000,
    });
  }

  async getGlobal(): Promise<GlobalInfo> {
    const res = await this.unary<GetBgpResponse__Output>('GetBgp', (md, o, cb) => this.stub.GetBgp({}, md, o, cb));
    const g = res.global;
    if (!g) throw new GobgpError('GetBgp', grpc.status.INTERNAL, 'answer without global');
    return { asn: g.asn, routerId: g.router_id, listenPort: g.listen_port, listenAddresses: g.listen_addresses };
  }

  /** Originates (or replaces) one path; returns the 16-byte uuid gobgpd gave it. */
  async addPath(p: PathSpec): Promise<Uint8Array> {
    const path = encodePath(p);
    const res = await this.unary<AddPathResponse__Output>('AddPath', (md, o, cb) => this.stub.AddPath({ table_type: 'GLOBAL', path }, md, o, cb));
    return new Uint8Array(res.uuid);
  }

  /** Originates many paths over AddPathStream, in batches. gobgpd stops at the first bad one. */
  async addPaths(ps: readonly PathSpec[]): Promise<void> {
    await this.stream(ps, false);
  }

  /** Withdraws one locally originated path, named by its prefix and attributes. */
  async deletePath(p: PathSpec): Promise<void> {
    const path = encodePath(p);
    await this.deleteRequest({ table_type: 'GLOBAL', family: path.family ?? null, path });
  }

  /** Withdraws many paths over AddPathStream (is_withdraw). */
  async deletePaths(ps: readonly PathSpec[]): Promise<void> {
    await this.stream(ps, true);
  }

  /** Withdraws the path AddPath returned this uuid for. */
  async deleteByUuid(uuid: Uint8Array): Promise<void> {
    if (uuid.length !== 16) throw new UntargetedDeleteError(`a path uuid has 16 bytes, not ${uuid.length}`);
    await this.deleteRequest({ table_type: 'GLOBAL', uuid: Buffer.from(uuid) });
  }

  /**
   * The paths this gobgpd originates itself in its global RIB for one family (learned paths
   * left out), decoded so that `samePath(listed, added)` holds for what `addPath` sent.
   */
  async listLocalPaths(family: IpFamily): Promise<RibPath[]> {
    const out: RibPath[] = [];
    await this.serverStream(
      'ListPath',
      (md, o) => this.stub.ListPath({ table_type: 'GLOBAL', family: apiFamily(family) }, md, o),
      (res) => {
        for (const path of res.destination?.paths ?? []) {
          if (isLocallyOriginated(path)) out.push(decodePath(path));
        }
      },
    );
    return out;
  }

  async listPeers(): Promise<PeerInfo[]> {
    const out: PeerInfo[] = [];
    await this.serverStream(
      'ListPeer',
      (md, o) => this.stub.ListPeer({ address: '', enableAdvertised: false }, md, o),
      (res) => {
        if (res.peer) out.push(peerInfoOf(res.peer));
      },
    );
    return out;
  }

  /**
   * Calls `onChange` with every peer's current state once subscribed, then with every
   * state change gobgpd reports. After an error or a gobgpd restart it subscribes again
   * (capped exponential backoff) and re-sends the current states, so the caller may treat
   * each call as level, not edge. Returns a function that stops watching.
   */
  watchPeers(onChange: (p: PeerInfo) => void, onError?: (err: GobgpError) => void): () => void {
    let stopped = false;
    let backoff = WATCH_BACKOFF_FIRST_MS;
    let call: grpc.ClientReadableStream<unknown> | undefined;
    let timer: NodeJS.Timeout | undefined;

    const report = (err: GobgpError): void => {
      this.logger?.warn({ err, call: err.call }, 'gobgp peer watch failed; subscribing again');
      onError?.(err);
    };
    const retry = (): void => {
      if (stopped || timer) return;
      const wait = backoff;
      backoff = Math.min(backoff * 2, WATCH_BACKOFF_MAX_MS);
      timer = setTimeout(() => {
        timer = undefined;
        subscribe();
      }, wait);
    };
    const subscribe = (): void => {
      if (stopped) return;
      const stream = this.stub.WatchEvent({ peer: {} }, new grpc.Metadata({ waitForReady: true }));
      call = stream;
      let ended = false;
      // Peers the stream already reported: the snapshot below may be older for them.
      const freshFromStream = new Set<string>();
      const finish = (err?: GobgpError): void => {
        if (ended) return;
        ended = true;
        if (stopped) return;
        if (err) report(err);
        retry();
      };
      stream.on('data', (res) => {
        backoff = WATCH_BACKOFF_FIRST_MS; // a live stream proves the connection
        const peer = res.peer?.peer;
        if (!peer) return;
        const info = peerInfoOf(peer);
        // gobgpd 3.10 opens the stream with an event for no neighbor at all ("<nil>"): not a peer.
        if (!isIP(info.address)) return;
        freshFromStream.add(info.address);
        onChange(info);
      });
      stream.on('error', (err: grpc.ServiceError) => {
        if (err.code === grpc.status.CANCELLED && stopped) return;
        finish(GobgpError.from('WatchEvent', err));
      });
      stream.on('end', () => finish(new GobgpError('WatchEvent', grpc.status.UNAVAILABLE, 'stream ended')));
      // The watch carries changes only: send the states as they are now, after subscribing,
      // so nothing that changes in between is missed.
      this.listPeers().then(
        (peers) => {
          if (stopped || ended) return;
          backoff = WATCH_BACKOFF_FIRST_MS;
          for (const p of peers) if (!freshFromStream.has(p.address)) onChange(p);
        },
        (err: unknown) => {
          if (stopped || ended) return;
          finish(err instanceof GobgpError ? err : GobgpError.from('ListPeer', err as Error));
          stream.cancel(); // already finished: its CANCELLED error is ignored
        },
      );
    };

    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      call?.cancel();
      this.watchStops.delete(stop);
    };
    this.watchStops.add(stop);
    subscribe();
    return stop;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stop of [...this.watchStops]) stop();
    this.stub.close();
  }

  // --- transport helpers -------------------------------------------------------------

  private async deleteRequest(req: DeletePathRequest): Promise<void> {
    // Without a path or a uuid gobgpd withdraws every local path: refuse to send that.
    const hasPath = req.path?.nlri != null;
    const hasUuid = req.uuid != null && req.uuid.length === 16;
    if (!hasPath && !hasUuid) throw new UntargetedDeleteError('refusing DeletePath without path or uuid');
    await this.unary<Empty__Output>('DeletePath', (md, o, cb) => this.stub.DeletePath(req, md, o, cb));
  }

  private deadline(ms: Millis): Date {
    return new Date(Date.now() + ms);
  }

  /** Waits for a connection (up to the deadline) instead of failing while grpc-js reconnects. */
  private metadata(): grpc.Metadata {
    return new grpc.Metadata({ waitForReady: true });
  }

  private unary<Res>(
    name: GobgpCall,
    start: (md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      start(this.metadata(), { deadline: this.deadline(this.callTimeout) }, (err, res) => {
        if (err) reject(GobgpError.from(name, err));
        else if (res === undefined) reject(new GobgpError(name, grpc.status.INTERNAL, 'empty answer'));
        else resolve(res);
      });
    });
  }

  private serverStream<Res>(
    name: GobgpCall,
    start: (md: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientReadableStream<Res>,
    onData: (res: Res) => void,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const stream = start(this.metadata(), { deadline: this.deadline(this.bulkTimeout) });
      let failed = false;
      stream.on('data', (res: Res) => {
        if (failed) return;
        try {
          onData(res);
        } catch (err) {
          // A path we cannot decode is an error of this call, not a reason to hide it.
          failed = true;
          stream.cancel();
          reject(err);
        }
      });
      stream.on('error', (err: grpc.ServiceError) => {
        if (!failed) reject(GobgpError.from(name, err));
        failed = true;
      });
      stream.on('end', () => {
        if (!failed) resolve();
      });
    });
  }

  /**
   * AddPathStream in batches. Every path is encoded (and so validated) before the first
   * batch leaves; between batches the event loop gets a turn so gRPC sends batch n while
   * batch n+1 is serialized, and gobgpd works in parallel with us.
   */
  /**
   * Sends `specs` over AddPathStream in batches. Every spec is checked before anything is sent
   * (gobgpd aborts a stream at its first bad path); each batch is encoded just before it is
   * written, so the first routes leave while later ones are still being encoded.
   */
  private async stream(specs: readonly PathSpec[], withdraw: boolean): Promise<void> {
    if (specs.length === 0) return;
    for (const spec of specs) checkPathSpec(spec);
    let finished = false;
    const done = new Promise<void>((resolve, reject) => {
      const call = this.stub.AddPathStream(this.metadata(), { deadline: this.deadline(this.bulkTimeout) }, (err) => {
        finished = true;
        if (err) reject(GobgpError.from('AddPathStream', err));
        else resolve();
      });
      void (async () => {
        for (let i = 0; i < specs.length && !finished; i += this.streamBatch) {
          const batch = specs.slice(i, i + this.streamBatch).map((p) => encodePath(p, { withdraw }));
          const roomLeft = call.write({ table_type: 'GLOBAL', paths: batch });
          if (roomLeft) {
            await new Promise<void>((go) => setImmediate(go));
          } else {
            // Wait for room, or for the call to end (a failed call never drains).
            await new Promise<void>((go) => {
              const wake = (): void => {
                call.off('drain', wake);
                call.off('status', wake);
                go();
              };
              call.on('drain', wake);
              call.on('status', wake);
            });
          }
        }
        if (!finished) call.end();
      })();
    });
    const started = performance.now();
    await done;
    this.logger?.debug({ paths: specs.length, ms: Math.round(performance.now() - started) }, 'gobgp AddPathStream done');
  }
}
