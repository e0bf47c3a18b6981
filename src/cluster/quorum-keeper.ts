/**
 * The node's standing in its cluster, as one object the agent asks: is this node quorate
 * now (and until when), which peers does it see and what do they say, and may it start
 * serving an exclusive service. It owns membership (peer heartbeats), the configured quorum
 * modules (`voting`, `server`), and the handover tracker; a cluster of one node has none of
 * the moving parts and is always quorate.
 */
import type { Registry } from 'prom-client';
import type { AgentConfig, Method } from '../config/types.js';
import { ms, type Millis } from '../core/duration.js';
import type { NodeId, ServiceName } from '../core/ids.js';
import type { PeerView } from '../decide.js';
import type { Logger } from '../observe/logger.js';
import { QuorumServerClient } from '../quorum-server/client.js';
import { channelCredentials, warnInsecure } from '../tls/credentials.js';
import { loadTls, ownBindingProblem, type TlsSetup } from '../tls/material.js';
import * as grpc from '@grpc/grpc-js';
import { HandoverTracker, type Clearance, type HandoverContext } from './handover.js';
import { NODE_DRIFT_RATE } from './lease.js';
import { digestBytes } from './membership-digest.js';
import type { LocalNodeState, NodeState } from './membership-node-state.js';
import { Membership } from './membership-runtime.js';
import { runQuorumChain, type ModuleVerdict, type QuorumVerdict } from './quorum-chain.js';
import { ServerQuorumModule, type ServerModuleStatus } from './server-module.js';
import { partitionViewOf } from './server-module-view.js';
import { votingVerdict } from './voting.js';
import { ownWithdrawBound } from './withdraw-bound.js';

/** After a holder's release: time for the routers (and OSPF behind them) to act on the withdrawal. */
export const CONVERGENCE_ALLOWANCE = ms(500);
/**
 * After a release by ARP: the old holder's service may still answer a request it took in just
 * before its address left (a socket bound to the address sends on); clients must never get
 * answers from two nodes close together.
 */
export const ADDRESS_ALLOWANCE = ms(30);

export interface QuorumKeeperOptions {
  config: AgentConfig;
  /** What this node tells its peers (asked at every heartbeat: keep it cheap). */
  localState: () => LocalNodeState;
  /** Something this node's standing depends on changed: decide again. */
  onChange: () => void;
  logger: Logger;
  registry: Registry;
  now?: () => Millis;
}

export class QuorumKeeper {
  private readonly membership?: Membership;
  private readonly server?: ServerQuorumModule;
  private readonly serverClient?: QuorumServerClient;
  private readonly handover: HandoverTracker;
  private readonly now: () => Millis;

  constructor(private readonly opts: QuorumKeeperOptions) {
    const { config, logger } = opts;
    const { cluster, node } = config;
    this.now = opts.now ?? (() => ms(performance.now()));
    const serverModule = cluster.quorum.find((q) => q.kind === 'server');
    const tls = cluster.peers.length > 0 || serverModule ? this.loadOwnTls() : undefined;
    if (tls && cluster.peers.length > 0) {
      this.membership = new Membership({
        cluster, node, tls, localState: opts.localState, logger: logger.child({ component: 'membership' }), registry: opts.registry,
      });
      this.membership.on('change', () => this.refresh());
    }
    if (tls && serverModule?.kind === 'server') {
      const credentials = tls.insecure ? grpc.credentials.createInsecure() : channelCredentials(tls, { role: 'quorum-server' });
      this.serverClient = new QuorumServerClient(`${serverModule.address.host}:${serverModule.address.port}`, credentials);
      this.server = new ServerQuorumModule({
        cluster: cluster.name, self: node.id, client: this.serverClient, lease: serverModule.lease,
        heartbeat: cluster.heartbeat, logger: logger.child({ component: 'quorum-server-client' }),
        // One heartbeat interval is short for an mTLS round trip on a busy host: a lost answer
        // costs a tie (no quorum) or an unreleased lease. A lease counts from its request's
        // send time whatever the wait, and re-asks still come within the settle window.
        requestTimeout: cluster.heartbeat.deadAfter,
        onChange: () => opts.onChange(),
      });
    }
    this.handover = new HandoverTracker(node.id, {
      interval: cluster.heartbeat.interval,
      deadAfter: cluster.heartbeat.deadAfter,
      // Assumed of every peer; a peer that states a longer one in its heartbeats is waited for longer.
      withdrawBound: ownWithdrawBound(config),
      convergenceAllowance: CONVERGENCE_ALLOWANCE,
      addressAllowance: ADDRESS_ALLOWANCE,
      driftRate: NODE_DRIFT_RATE,
    }, this.now());
  }

  private loadOwnTls(): TlsSetup {
    const { config, logger } = this.opts;
    const tls = loadTls(config.tls ?? { insecure: false });
    if (tls.insecure) {
      warnInsecure(logger, 'cluster traffic (peer heartbeats, quorum server)');
      return tls;
    }
    const problem = ownBindingProblem(tls, { kind: 'node', cluster: config.cluster.name, node: config.node.id });
    if (problem) throw new Error(`tls.cert: ${problem}`);
    return tls;
  }

  async start(): Promise<void> {
    await this.membership?.start();
    this.refresh();
  }

  /**
   * The peers whose votes count: seen through a complete round trip AND saying, in that
   * round trip's reply, that they see this node too. Seeing a peer alone is not enough when
   * the views are asymmetric: as a link heals, this node's heartbeats may get through while
   * the peer's own still fail (its channel backing off), so the peer is alone in a tie and
   * asks the quorum server. Had this node counted it, it would hold a majority of 2 of 2 and
   * release its lease — and the server would grant the lone peer: two quorate partitions, an
   * exclusive service on both (found by the cluster lab's link-cut scenario on heal). Counting
   * only mutual sightings keeps this node in its tie, on its lease, until the peer sees it too.
   */
  private counted(now: Millis): Set<NodeId> {
    const membership = this.membership;
    if (!membership) return new Set();
    return mutuallySeen(this.opts.config.node.id, membership.seen(now), membership.peerStates(now));
  }

  /**
   * The partition the server module stands on: the counted peers whose sighting stays valid
   * for at least one more heartbeat interval. A majority resting on a sighting about to expire
   * — a round trip as slow as dead-after, as on a link that is healing under load — would make
   * a lease holder drop its lease for an instant's majority, then find itself in a tie again
   * with no lease, and withdraw (found by arp-takeover c/d: the holder lost its service on the
   * heal). Leaving such a peer out only keeps a lease longer; voting still counts it while it
   * is seen, and the next round trip (each refreshes this) brings it in.
   */
  private countedForServer(now: Millis): Set<NodeId> {
    const membership = this.membership;
    if (!membership) return new Set();
    const { interval, deadAfter } = this.opts.config.cluster.heartbeat;
    return new Set([...this.counted(now)].filter((peer) => (membership.lastSeenSend(peer) ?? -Infinity) + deadAfter - now >= interval));
  }

  /** Membership may have changed: tell the server module the partition, note holders, decide again. */
  private refresh(): void {
    const now = this.now();
    if (this.membership) {
      const { node, cluster } = this.opts.config;
      // Observe first: server.update() may itself ask the agent to decide again, and that
      // decision must already know which holder released (handover.ts, clearance()).
      this.handover.observe(now, this.membership.peerStates(now));
      this.server?.update(partitionViewOf(node, cluster.peers, this.countedForServer(now), digestBytes(this.membership.digest)));
    } else {
      const { node } = this.opts.config;
      this.server?.update(partitionViewOf(node, [], new Set(), new Uint8Array()));
    }
    this.opts.onChange();
  }

  verdict(now: Millis = this.now()): QuorumVerdict {
    const { node, cluster } = this.opts.config;
    const seen = this.counted(now);
    const modules = cluster.quorum.map((module): { name: string; verdict: ModuleVerdict } =>
      module.kind === 'voting'
        ? { name: 'voting', verdict: votingVerdict({ self: node, members: cluster.peers, seen }) }
        : { name: 'server', verdict: this.server?.verdict(now) ?? { vote: 'QUORUMTIE', reason: 'no quorum server client' } },
    );
    return runQuorumChain(modules);
  }

  /** Sends this node's state to its peers now (after a release, so a successor need not wait an interval). */
  announce(): void {
    this.membership?.announce();
  }

  peerViews(now: Millis = this.now()): PeerView[] {
    return this.membership?.peerViews(now) ?? [];
  }

  /** For each exclusive service this node does not serve: why it may not start yet, if so. */
  clearances(services: readonly ServiceName[], now: Millis = this.now(), addressProbe?: HandoverContext['addressProbe']): Map<ServiceName, Clearance> {
    const out = new Map<ServiceName, Clearance>();
    const membership = this.membership;
    if (!membership) return out;
    const seen = membership.seen(now);
    const { config } = this.opts;
    const ctx: HandoverContext = {
      seen,
      unseen: new Set(config.cluster.peers.map((p) => p.id).filter((id) => !seen.has(id))),
      methodsOf: (service) => config.services.find((s) => s.name === service)?.via,
      peers: membership.peerStates(now),
      lastSeenSend: (peer) => membership.lastSeenSend(peer),
      longestRoundTrip: (peer) => membership.longestRoundTrip(peer),
      ...(addressProbe ? { addressProbe } : {}),
    };
    for (const service of services) {
      const clearance = this.handover.clearance(service, now, ctx);
      if (clearance) out.set(service, clearance);
    }
    return out;
  }

  /** This node now serves `service`. */
  holds(service: ServiceName): void {
    this.handover.selfHolds(service);
  }

  /** What this node knows of the service's last holder (for logs and status). */
  lastHolder(service: ServiceName): ReturnType<HandoverTracker['lastHolder']> {
    return this.handover.lastHolder(service);
  }

  /** This node stopped serving `service` (it held it by `method`). */
  released(service: ServiceName, method?: Method, now: Millis = this.now()): void {
    this.handover.selfReleased(service, now, method);
  }

  /** The peers this node sees now (complete round trips). */
  seen(now: Millis = this.now()): ReadonlySet<NodeId> {
    return this.membership?.seen(now) ?? new Set();
  }

  /** The quorum server module's state (for the status API); undefined without one. */
  serverStatus(now: Millis = this.now()): ServerModuleStatus | undefined {
    return this.server?.status(now);
  }

  /** After everything is withdrawn: stop heartbeats, give the lease back. */
  async stop(): Promise<void> {
    this.server?.stop();
    await this.server?.release().catch(() => undefined);
    this.serverClient?.close();
    await this.membership?.stop();
  }
}

/** The seen peers whose latest state says they see `self` too (see QuorumKeeper.counted). */
export function mutuallySeen(self: NodeId, seen: ReadonlySet<NodeId>, states: ReadonlyMap<NodeId, NodeState>): Set<NodeId> {
  return new Set([...seen].filter((peer) => states.get(peer)?.seenPeers.has(self) === true));
}
