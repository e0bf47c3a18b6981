/**
 * decide: the pure heart of the agent. From what the node knows — its services' health, the
 * quorum verdict, what its peers say, which methods it can use — it computes which services
 * this node serves, and why. No I/O and no clock: time comes in as `now`.
 *
 * Safety lives here:
 * - S1: nothing is served without quorum; a bounded quorum (a lease) must still be valid.
 * - S3: a service whose checks fail is not served.
 * - S2: an exclusive service goes to one node (the highest healthy priority, then the lowest id),
 *   and this node does not take one that a seen peer still says it holds, nor one whose
 *   handover is not cleared yet (a released holder's convergence allowance, a vanished
 *   holder's withdrawal bound, a peer that still sees a node this one does not).
 */
import type { Millis } from './core/duration.js';
import type { NodeId, ServiceName } from './core/ids.js';
import type { Method, ServiceConfig } from './config/types.js';
import type { QuorumVerdict } from './cluster/quorum-chain.js';

/** What a seen peer of the quorate partition says about one service (from its heartbeats). */
export interface PeerServiceView {
  healthy: boolean;
  drained: boolean;
  /** Some method in the service's `via` is usable on that peer. */
  announceable: boolean;
  priority: number;
  /** The peer says it serves (announces / holds) the service now. */
  holding: boolean;
}

export interface PeerView {
  id: NodeId;
  services: ReadonlyMap<ServiceName, PeerServiceView>;
}

export interface DecideInput {
  now: Millis;
  self: NodeId;
  services: readonly ServiceConfig[];
  /** Own health, per service (from the rise/fall monitor). Missing = not healthy. */
  health: ReadonlyMap<ServiceName, boolean>;
  drained: ReadonlySet<ServiceName>;
  /**
   * Drained services still inside their graceful-shutdown time (bgp.graceful-shutdown), until
   * when: an anycast one stays announced, marked for the routers to move away (RFC 8326).
   */
  draining?: ReadonlyMap<ServiceName, Millis>;
  /** Services flap damping holds down (health/flap-damping.ts): withdrawn whatever their checks say. */
  heldDown?: ReadonlySet<ServiceName>;
  quorum: QuorumVerdict;
  /** Seen peers of this node's partition. Empty in a cluster of one. */
  peers: readonly PeerView[];
  /**
   * The methods this node can use now, per service (bgp: the speaker has an established
   * session; arp: the service's interface is up with an address in the service address's
   * subnet). Missing: none.
   */
  methods: ReadonlyMap<ServiceName, ReadonlySet<Method>>;
  /**
   * Exclusive services this node does not serve yet and may not start before `until`
   * (another node may still hold them: cluster/handover.ts says why).
   */
  clearance?: ReadonlyMap<ServiceName, { until: Millis; reason: string }>;
  /**
   * The exclusive services this node serves now (its previous decision). Without `preempt` a
   * holder keeps its service: the node must know that the holder is itself, or it would hand
   * its own service to a recovered higher priority as if preempt were on.
   */
  holding?: ReadonlySet<ServiceName>;
}

export interface ServiceDecision {
  service: ServiceName;
  serve: boolean;
  /** The method to serve by, when serving. */
  method?: Method;
  /** Why — one short sentence an operator can act on. */
  reason: string;
  /** Served only until its drain's graceful shutdown ends: announce with GRACEFUL_SHUTDOWN. */
  gracefulShutdown?: true;
}

export function decide(input: DecideInput): ServiceDecision[] {
  return input.services.map((service) => decideService(input, service));
}

function decideService(input: DecideInput, service: ServiceConfig): ServiceDecision {
  const name = service.name;
  const no = (reason: string): ServiceDecision => ({ service: name, serve: false, reason });

  if (!input.quorum.quorate) return no(`no quorum (${input.quorum.reason})`);
  if (input.quorum.validUntil !== undefined && input.now >= input.quorum.validUntil) {
    return no('quorum lease has ended');
  }
  const drained = input.drained.has(name);
  const shutdownUntil = input.draining?.get(name);
  // An exclusive service is released at once: announcing it on the way out would make two holders.
  const gracefully = drained && service.mode === 'anycast' && shutdownUntil !== undefined && input.now < shutdownUntil;
  if (drained && !gracefully) return no('drained by the operator');
  if (input.heldDown?.has(name)) return no('held down for flapping');
  if (input.health.get(name) !== true) return no('checks failing');
  const usable = input.methods.get(name);
  const method = service.via.find((m) => usable?.has(m));
  if (!method) return no(`no usable method among ${service.via.join(', ')}`);
  if (gracefully) {
    if (method !== 'bgp') return no('drained by the operator');
    return { service: name, serve: true, method, reason: 'drained: announced with GRACEFUL_SHUTDOWN until the withdrawal', gracefulShutdown: true };
  }

  if (service.mode === 'anycast') return { service: name, serve: true, method, reason: 'healthy and quorate' };

  // exclusive: this node serves only if it is the placement's winner among eligible nodes …
  const winner = exclusiveWinner(input, service);
  if (winner !== input.self) return no(`${winner} has precedence (priority, then lowest node id)`);
  // … and only once no seen peer still says it holds the service (handover never overlaps).
  const holder = input.peers.find((p) => p.services.get(name)?.holding);
  if (holder) return no(`waiting for ${holder.id} to release`);
  const clearance = input.clearance?.get(name);
  if (clearance && input.now < clearance.until) return no(clearance.reason);
  return { service: name, serve: true, method, reason: 'placed here (exclusive)' };
}

/**
 * The node an exclusive service belongs on: among eligible nodes (healthy, not drained,
 * announceable) the highest priority, ties to the lowest node id. Without `preempt`, a
 * current holder that is still eligible keeps it even against a higher priority.
 */
export function exclusiveWinner(input: DecideInput, service: ServiceConfig): NodeId {
  const self: Candidate = { id: input.self, priority: service.priority, holding: input.holding?.has(service.name) ?? false };
  return placement([self, ...eligiblePeers(input.peers, service.name)], service.preempt)!;
}

/**
 * Where an exclusive service goes once this node steps aside (a drain): the same placement,
 * among the eligible peers alone. Undefined when no peer can take it.
 */
export function successor(peers: readonly PeerView[], service: ServiceConfig): NodeId | undefined {
  return placement(eligiblePeers(peers, service.name), service.preempt);
}

interface Candidate { id: NodeId; priority: number; holding: boolean }

function eligiblePeers(peers: readonly PeerView[], name: ServiceName): Candidate[] {
  return peers.flatMap((peer) => {
    const view = peer.services.get(name);
    return view && view.healthy && !view.drained && view.announceable ? [{ id: peer.id, priority: view.priority, holding: view.holding }] : [];
  });
}

function placement(candidates: readonly Candidate[], preempt: boolean): NodeId | undefined {
  if (!preempt) {
    const holder = candidates.find((c) => c.holding);
    if (holder) return holder.id;
  }
  const sorted = [...candidates].sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sorted[0]?.id;
}
