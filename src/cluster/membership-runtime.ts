/**
 * Membership: the imperative shell around the seen-table. It serves this node's heartbeats
 * (heartbeat-service.ts), runs one heartbeat loop per configured peer (heartbeat-client.ts),
 * feeds every send and outcome into the pure MembershipTable (membership.ts), and turns the
 * table's changes into one log line each, metrics and `change` events for the agent.
 *
 * The agent constructs it once, supplies `localState()` (its quorum and services, asked for at
 * every heartbeat), and reads `seen()` for the voting module and `peerViews()` for decide().
 */
import * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import type { ClusterConfig, HostPort } from '../config/types.js';
import { ms, type Millis } from '../core/duration.js';
import type { NodeId } from '../core/ids.js';
import type { PeerView } from '../decide.js';
import type { Logger } from '../observe/logger.js';
import { channelCredentials } from '../tls/credentials.js';
import type { TlsSetup } from '../tls/material.js';
import { listenMutualTls, type MutualTlsListener } from '../tls/mutual-tls-listener.js';
import { RefusalRecorder } from '../tls/refusals.js';
import { grpcHeartbeatTransport, HeartbeatLoop, type GrpcHeartbeatTransport, type HeartbeatTransport } from './heartbeat-client.js';
import { heartbeatServiceDefinition, heartbeatServiceHandlers } from './heartbeat-service.js';
import { MembershipTable, type MembershipChange } from './membership.js';
import { computeMembershipDigest, type MembershipDigest } from './membership-digest.js';
import { MembershipMetrics } from './membership-metrics.js';
import type { LocalNodeState, NodeState } from './membership-node-state.js';

// What the agent needs alongside the class, from one import.
export type { MembershipChange } from './membership.js';
export type { LocalNodeState, NodeState, ServiceState } from './membership-node-state.js';
export { digestBytes } from './membership-digest.js';

export interface MembershipOptions {
  cluster: ClusterConfig;
  node: { id: NodeId; votes: number };
  /** Mutual TLS from src/tls (loadTls), or `{ insecure: true }` for labs and tests. */
  tls: TlsSetup;
  /** The agent's part of this node's state; called for every heartbeat sent or answered. */
  localState: () => LocalNodeState;
  logger: Logger;
  registry: Registry;
  /** Monotonic clock; performance.now() by default. */
  now?: () => Millis;
  /**
   * Tests only: wraps the transport to a peer, to drop requests or replies deterministically
   * (one-way loss without touching packets).
   */
  wrapTransport?: (peer: NodeId, transport: HeartbeatTransport) => HeartbeatTransport;
}

export type MembershipListener = (change: MembershipChange) => void;

/** How long in-flight heartbeat calls get to finish when the server stops. */
const SHUTDOWN_GRACE_MS = 1000;

export class Membership {
  readonly digest: MembershipDigest;
  private readonly table: MembershipTable;
  private readonly metrics: MembershipMetrics;
  private readonly now: () => Millis;
  private readonly listeners = new Set<MembershipListener>();
  private readonly loops: HeartbeatLoop[] = [];
  private readonly transports: GrpcHeartbeatTransport[] = [];
  private server?: grpc.Server;
  private listener?: MutualTlsListener;
  private expiryTimer?: NodeJS.Timeout;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: MembershipOptions) {
    const { cluster, node } = opts;
    this.now = opts.now ?? (() => ms(performance.now()));
    this.digest = computeMembershipDigest(cluster.name, node, cluster.peers);
    this.table = new MembershipTable({
      cluster: cluster.name, self: node.id, digest: this.digest, peers: cluster.peers.map((p) => p.id), deadAfter: cluster.heartbeat.deadAfter,
    });
    this.metrics = new MembershipMetrics(opts.registry);
    for (const p of cluster.peers) this.metrics.peerSeen.set({ peer: p.id }, 0);
  }

  /** The port heartbeats are served on (resolved when the config asked for port 0). */
  get port(): number | undefined {
    return this.listener?.port;
  }

  /** Serves heartbeats on `cluster.listen` (when set), then starts heartbeating every peer. */
  async start(): Promise<void> {
    if (this.started) throw new Error('Membership.start called twice');
    this.started = true;
    const { cluster, node, tls, logger } = this.opts;
    if (cluster.listen) await this.listen(cluster.listen);
    else if (cluster.peers.length > 0) logger.warn('cluster.listen is not set: peers cannot heartbeat this node, so none of them will count it');
    for (const peer of cluster.peers) {
      const transport = grpcHeartbeatTransport(
        target(peer.address),
        // The peer must prove it is node `peer.id` of this cluster: a host at its address with
        // another certificate (of our CA) cannot pose as it.
        channelCredentials(tls, { role: 'node', cluster: cluster.name, node: peer.id }, this.refusals()),
      );
      this.transports.push(transport);
      const send = this.opts.wrapTransport ? this.opts.wrapTransport(peer.id, transport.send) : transport.send;
      const loop = new HeartbeatLoop({
        peer: peer.id,
        interval: cluster.heartbeat.interval,
        deadAfter: cluster.heartbeat.deadAfter,
        transport: send,
        state: () => this.nodeState(),
        now: this.now,
        onSent: (sequence, at) => this.table.sent(peer.id, sequence, at),
        onOutcome: (sequence, outcome, at) => {
          const result = outcome.ok
            ? this.table.replied(peer.id, sequence, outcome.reply, at)
            : this.table.failed(peer.id, sequence, outcome.problem, at);
          this.metrics.heartbeatsSent.inc({ peer: peer.id, result });
          this.update();
        },
      });
      this.loops.push(loop);
      loop.start();
    }
    logger.info({
      node: node.id, cluster: cluster.name, digest: this.digest, peers: cluster.peers.map((p) => p.id),
      intervalMs: cluster.heartbeat.interval, deadAfterMs: cluster.heartbeat.deadAfter, listen: this.port,
    }, 'membership started');
  }

  /** Stops heartbeating and serving. Every peer reads as not seen afterwards. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.expiryTimer);
    await Promise.all(this.loops.map((l) => l.stop()));
    for (const t of this.transports) t.close();
    if (this.server) {
      const server = this.server;
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => { server.forceShutdown(); resolve(); }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => { clearTimeout(force); resolve(); });
      });
    }
    await this.listener?.close();
    for (const p of this.opts.cluster.peers) this.metrics.peerSeen.set({ peer: p.id }, 0);
    this.opts.logger.info('membership stopped');
  }

  /** Peers seen through complete round trips with an agreeing digest: the voting module's input. */
  seen(now: Millis = this.now()): Set<NodeId> {
    return this.stopped ? new Set() : this.table.seen(now);
  }

  /** Every seen peer's last state, in decide()'s shape. */
  peerViews(now: Millis = this.now()): PeerView[] {
    return [...this.peerStates(now)].map(([id, state]) => ({ id, services: state.services }));
  }

  /** Every seen peer's last full state (with `released`, its seen peers and its quorum). */
  peerStates(now: Millis = this.now()): Map<NodeId, NodeState> {
    return this.stopped ? new Map() : this.table.seenStates(now);
  }

  /** The send time of the peer's last counted round trip (the takeover bound starts there). */
  lastSeenSend(peer: NodeId): Millis | undefined {
    return this.table.lastSeenSend(peer);
  }

  /** The peer's longest round trip that counted (< dead-after; an input of the takeover bound). */
  longestRoundTrip(peer: NodeId): Millis | undefined {
    return this.table.longestRoundTrip(peer);
  }

  /** Tells every peer this node's state now, without waiting for the next interval. */
  announce(): void {
    for (const loop of this.loops) loop.beatNow();
  }

  /** What this node tells its peers now. */
  nodeState(now: Millis = this.now()): NodeState {
    const local = this.opts.localState();
    return {
      cluster: this.opts.cluster.name, node: this.opts.node.id, digest: this.digest,
      seenPeers: this.seen(now), quorum: local.quorum, services: local.services, withdrawBound: local.withdrawBound,
    };
  }

  /** `change`: a peer seen or lost, a heartbeat that did not count (once per reason), a peer's state updated. */
  on(event: 'change', listener: MembershipListener): this {
    if (event !== 'change') throw new Error(`Membership has no event ${String(event)}`);
    this.listeners.add(listener);
    return this;
  }

  off(event: 'change', listener: MembershipListener): this {
    if (event === 'change') this.listeners.delete(listener);
    return this;
  }

  private async listen(at: HostPort): Promise<void> {
    const { cluster, tls, logger } = this.opts;
    const server = new grpc.Server();
    server.addService(heartbeatServiceDefinition(this.metrics), heartbeatServiceHandlers({
      cluster: cluster.name,
      state: () => this.nodeState(),
      ...(tls.insecure ? {} : { identity: { refusals: this.refusals() } }),
      logger,
      metrics: this.metrics,
      now: this.now,
      // A peer whose state changed (a release, say) tells us in its own heartbeat; that does
      // not count as a sighting, so ask it with a round trip of our own at once instead of up
      // to one interval later.
      onRequest: (sender) => {
        if (this.table.isNews(sender.node, sender)) this.loops.find((l) => l.peer === sender.node)?.beatNow();
      },
    }));
    this.server = server;
    this.listener = await listenMutualTls(server, { host: at.host, port: at.port, tls, refusals: this.refusals() });
  }

  private recorder?: RefusalRecorder;
  private refusals(): RefusalRecorder {
    this.recorder ??= new RefusalRecorder(this.opts.registry, this.opts.logger);
    return this.recorder;
  }

  /** Drains the table's changes into logs, metrics and listeners; re-arms the expiry timer. */
  private update(): void {
    if (this.stopped) return;
    const now = this.now();
    for (const change of this.table.poll(now)) {
      this.report(change);
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (err) {
          this.opts.logger.error({ err }, 'a membership change listener failed');
        }
      }
    }
    clearTimeout(this.expiryTimer);
    const next = this.table.nextExpiry(now);
    if (next !== undefined) {
      // +1: wake just after the instant, when the peer has certainly expired by the table's `<`.
      this.expiryTimer = setTimeout(() => this.update(), Math.max(0, next - now) + 1);
      this.expiryTimer.unref();
    }
  }

  private report(change: MembershipChange): void {
    const { logger } = this.opts;
    switch (change.kind) {
      case 'seen':
        this.metrics.peerSeen.set({ peer: change.peer }, 1);
        this.metrics.longestRoundTrip.set({ peer: change.peer }, (this.table.longestRoundTrip(change.peer) ?? 0) / 1000);
        logger.info({ peer: change.peer, roundTripMs: Math.round(change.roundTrip) }, `peer ${change.peer} seen: ${change.cause}`);
        break;
      case 'lost':
        this.metrics.peerSeen.set({ peer: change.peer }, 0);
        logger.warn({ peer: change.peer, lastSeenSend: change.lastSeenSend }, `peer ${change.peer} lost: ${change.cause}`);
        break;
      case 'not-counted':
        logger.warn({ peer: change.peer, problem: change.problem.kind }, `heartbeat to ${change.peer} does not count (${change.problem.kind}): ${change.problem.detail}`);
        break;
      case 'updated':
        this.metrics.longestRoundTrip.set({ peer: change.peer }, (this.table.longestRoundTrip(change.peer) ?? 0) / 1000);
        logger.debug({ peer: change.peer }, `peer ${change.peer} updated its state`);
        break;
    }
  }
}

function target(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
