/**
 * `quorate server`: the quorum server process. Resumes the state file (or, without one, waits
 * out any lease a previous run may have granted), serves the QuorumServer protocol, and
 * sweeps expired leases once a second (or a quarter of lease.max) for the log and the gauge,
 * and keeps the state file ahead of renewals in the background.
 */
import { ms, type Millis } from '../core/duration.js';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server-types.js';
import type { IdentifyCaller } from './identity.js';
import { LeaseTable } from './lease-table.js';
import { QuorumServerMetrics } from './metrics.js';
import { quorumServiceDefinition, quorumServiceHandlers } from './service.js';
import { ensureStateFolder, loadState, renderState, StateFileWriter, systemServerClock, type ServerClock } from './state-file.js';

/**
 * Attaches a listening port to the server made here, instead of `credentials`: src/tls's
 * listenMutualTls does the handshake itself so that every refused connection is counted.
 */
export type AttachListener = (server: grpc.Server) => Promise<{ port: number; close(): Promise<void> }>;

export type QuorumServerOptions = {
  /** The caller's bound identity (identity.ts; `identityFromRequest` in insecure mode). */
  identify: IdentifyCaller;
  logger: Logger;
  metrics?: QuorumServerMetrics;
  /** Tests only: another clock. */
  clock?: ServerClock;
} & (
  /** `grpc.ServerCredentials.createInsecure()` for labs; mutual TLS from src/tls otherwise. */
  | { credentials: grpc.ServerCredentials; listen?: undefined }
  | { listen: AttachListener; credentials?: undefined }
);

export interface QuorumServerHandle {
  /** `host:port` as bound (the port resolved when the config asked for 0). */
  address: string;
  port: number;
  metrics: QuorumServerMetrics;
  table: LeaseTable;
  /** Stops serving (in-flight calls get a moment to finish) and waits for the last state write. */
  stop(): Promise<void>;
}

/** At most; a short lease.max sweeps more often, so the background write keeps ahead of renewals. */
const SWEEP_INTERVAL_MS = 1000;
const SHUTDOWN_GRACE_MS = 2000;

export async function runQuorumServer(config: ServerConfig, opts: QuorumServerOptions): Promise<QuorumServerHandle> {
  const { logger } = opts;
  const clock = opts.clock ?? systemServerClock;
  const metrics = opts.metrics ?? new QuorumServerMetrics();

  const loaded = await loadState(config.stateFile, clock, config.lease.max);
  const table = new LeaseTable({
    leaseMax: config.lease.max,
    ...(config.clusters ? { clusters: config.clusters } : {}),
    startedAt: clock.mono(),
    ...(loaded.ok ? { resumed: loaded.records } : {}),
  });
  if (loaded.ok) {
    logger.info({ stateFile: config.stateFile, leases: loaded.records.length, takeoverGapMs: table.gap }, 'resumed the recorded leases');
  } else {
    const waitMs = table.blockedUntil - clock.mono();
    const line = `no usable state file (${loaded.problem}): no grant for ${Math.round(waitMs)} ms (one lease.max plus the takeover gap), RETRY meanwhile`;
    if (loaded.missing) logger.info({ stateFile: config.stateFile, waitMs }, line);
    else logger.warn({ stateFile: config.stateFile, waitMs }, line);
  }
  await ensureStateFolder(config.stateFile);

  // Recorded ends run one lease.max ahead of the real ones, so a renewal whose end the file
  // already covers is answered without a write: after one write no renewal needs another for
  // lease.max, instead of every renewal waiting for a whole-file fsync. Still safe after a
  // restart: a recorded end is never earlier than the real one, and a resumed lease is never
  // longer than lease.max (state-file.ts), so a restart waits at most what it waits without
  // a file.
  let covered = new Map<string, Millis>();
  const coverKey = (cluster: string, node: string): string => `${cluster}\u0000${node}`;
  const writer = new StateFileWriter(config.stateFile, () => {
    const records = table.records();
    const cover = new Map<string, Millis>();
    for (const r of records) for (const e of r.ends) cover.set(coverKey(r.cluster, e.node), ms(e.end + table.leaseMax));
    // Trusted only once on disk: a renewal answered as covered by a write still under way
    // would be lost by a crash before that write lands.
    return { text: renderState(records, clock, table.leaseMax), landed: () => { covered = cover; } };
  });
  // Renewals push real ends toward the recorded ones; a write in the background, once less
  // than half the headroom is left on some lease, keeps the file ahead of them, so a renewal
  // almost never waits for a disk flush (that wait was the answer-time tail under load).
  const refreshInBackground = (now: Millis): void => {
    let needed = false;
    for (const r of table.records()) {
      for (const e of r.ends) {
        const recorded = covered.get(coverKey(r.cluster, e.node));
        if (e.end > now && (recorded === undefined || recorded - e.end < table.leaseMax / 2)) needed = true;
      }
    }
    if (!needed) return;
    writer.persist().then(
      () => metrics.stateWrites.inc({ result: 'ahead' }),
      (err: unknown) => {
        metrics.stateWrites.inc({ result: 'error' });
        logger.error({ err }, 'cannot refresh the state file');
      },
    );
  };
  const persist = async (renewal?: { cluster: string; node: string; end: Millis }): Promise<void> => {
    if (renewal && (covered.get(coverKey(renewal.cluster, renewal.node)) ?? -Infinity) >= renewal.end) {
      metrics.stateWrites.inc({ result: 'covered' });
      return;
    }
    try {
      await writer.persist();
      metrics.stateWrites.inc({ result: 'ok' });
    } catch (err) {
      metrics.stateWrites.inc({ result: 'error' });
      throw err;
    }
  };

  const server = new grpc.Server();
  server.addService(quorumServiceDefinition(metrics), quorumServiceHandlers({ table, clock, identify: opts.identify, logger, metrics, persist }));
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  let attached: Awaited<ReturnType<AttachListener>> | undefined;
  let port: number;
  if (opts.listen) {
    attached = await opts.listen(server);
    port = attached.port;
  } else {
    const credentials = opts.credentials;
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${config.listen.port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  }
  const address = `${host}:${port}`;
  logger.info({ address, leaseMaxMs: config.lease.max, clusters: config.clusters?.map((c) => c.name) ?? 'any' }, 'quorum server listening');

  const sweep = setInterval(() => {
    const now = clock.mono();
    for (const e of table.sweep(now)) {
      if (e.kind === 'expired') {
        metrics.expiries.inc();
        logger.info({ cluster: e.cluster, partition: e.partition }, `lease of ${e.cluster} held by partition [${e.partition}] expired`);
      }
    }
    metrics.activeLeases.set(table.activeLeases(now));
    refreshInBackground(now);
  }, Math.min(SWEEP_INTERVAL_MS, table.leaseMax / 4));
  sweep.unref();

  let stopped: Promise<void> | undefined;
  return {
    address, port, metrics, table,
    stop() {
      stopped ??= (async () => {
        clearInterval(sweep);
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => { server.forceShutdown(); resolve(); }, SHUTDOWN_GRACE_MS);
          server.tryShutdown(() => { clearTimeout(force); resolve(); });
        });
        await attached?.close();
        await writer.idle();
        logger.info({ address }, 'quorum server stopped');
      })();
      return stopped;
    },
  };
}
