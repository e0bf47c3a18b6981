/**
 * When may this node start serving an exclusive service that another node may still hold?
 * Pure: observations and time come in as arguments. DESIGN.md "Quorum" (handover), S2.
 *
 * The rules, each a reason to wait:
 * 1. A seen peer still sees a node this node does not (a partition that is not transitive:
 *    A–C cut, both still see B): that node may hold the service and still have quorum, so
 *    nobody on this side takes anything new until the views agree.
 * 2. A seen peer neither holds the service nor says it released it: it decided to stop, but
 *    its withdrawal has not completed (or its speaker is unreachable, so nobody knows what it
 *    still announces). Its `holding` flag drops at the decision, before the withdrawal: taking
 *    over on that flag alone put db on two sites at BIRD (three-node lab, heal). Wait for its
 *    release.
 * 2b. The last holder said it released (its withdrawal completed): wait a convergence
 *    allowance, for the routers to act on the withdrawal — or, if it held by ARP (its address
 *    is gone from its interface; the successor's gratuitous ARP does the rest), a short one
 *    for the answers its service was still sending. A peer seen anew that says it
 *    released counts as having released just now: this node cannot know how recently it
 *    stopped (it may never have seen it hold — the three-node lab's heal, where the holder saw
 *    the new winner seconds before the winner saw it).
 * 3. A peer is no longer seen — the last holder, or any other (it may have taken the service
 *    in its last interval, before a heartbeat said so): wait until it must have withdrawn. It
 *    stops counting this node as seen at the latest at `lastSeenSend + deadAfter` (the last round trip this
 *    node completed may have been answered as late as that, and its own view of us ends no
 *    later than its own last completed round trip plus deadAfter, which is before our next
 *    heartbeat's deadline plus one interval), it notices within one heartbeat interval, its
 *    round trip to us took at most `longestRoundTrip` (≤ deadAfter), and it withdraws within
 *    `withdrawBound` (which covers its guard killing a stalled speaker). Every duration is
 *    stretched by the clock-rate drift bound, since it runs on the other node's clock.
 *    A peer's bound is the longer of this node's and the one it states in its heartbeats
 *    (for an address: its kernel lifetime plus the kernel's lateness, cluster/withdraw-bound.ts).
 *    A peer never seen counts as last seen when this node started.
 * 4. Rule 3's wait for a peer that can only have held the service by ARP (it said so, or the
 *    service has no other method) ends early once its heartbeats are dead and a series of
 *    duplicate-address probes started after that went all unanswered: no host on the segment
 *    answers for the address (issue 4: a whole host gone, or its copy expired). Not for BGP:
 *    a speaker's routes cannot be probed from here.
 * A seen peer that still says it holds the service is handled by decide() itself (it waits
 * for the release, then rule 2 and 2b apply).
 */
import type { Millis } from '../core/duration.js';
import { ms } from '../core/duration.js';
import type { NodeId, ServiceName } from '../core/ids.js';
import type { Method } from '../config/types.js';
import type { NodeState } from './membership-node-state.js';

export interface HandoverTiming {
  interval: Millis;
  deadAfter: Millis;
  /** The longest a node takes to finish withdrawing once it must (its guard's stall timeout included). */
  withdrawBound: Millis;
  /** After a holder's release: the time routers get to act on the withdrawal. */
  convergenceAllowance: Millis;
  /** After a release by ARP (the address already removed): the old holder's last answers. */
  addressAllowance: Millis;
  /** Clock-rate drift bound between two nodes (e.g. 0.02). */
  driftRate: number;
}

export interface HandoverContext {
  seen: ReadonlySet<NodeId>;
  /** What each seen peer said last. */
  peers: ReadonlyMap<NodeId, NodeState>;
  /** The configured peers not seen now (rule 3 waits for each). */
  unseen?: ReadonlySet<NodeId>;
  lastSeenSend(peer: NodeId): Millis | undefined;
  longestRoundTrip(peer: NodeId): Millis | undefined;
  /** The service's methods (`via`): a peer can hold it only by these. */
  methodsOf?(service: ServiceName): readonly Method[] | undefined;
  /**
   * The latest completed series of duplicate-address probes for the service's addresses
   * (`arping -D`): when it started, and whether every probe went unanswered.
   */
  addressProbe?(service: ServiceName): { startedAt: Millis; unanswered: boolean } | undefined;
}

export interface Clearance {
  /** No start before this instant (monotonic); Infinity: until something changes. */
  until: Millis;
  reason: string;
  /**
   * The wait is for a vanished holder's address: duplicate-address probes that all go
   * unanswered (started after its heartbeats died) end it early — its host is gone.
   */
  probeAddress?: true;
}

interface HolderRecord {
  holder: NodeId;
  state: 'holding' | 'released';
  /** When this node learned it (its own clock). */
  at: Millis;
  /** While holding: how it served (from its heartbeats). */
  method?: Method;
}

export class HandoverTracker {
  private readonly holders = new Map<ServiceName, HolderRecord>();
  /** The peers of the previous observe(): a peer missing there is seen anew. */
  private present: ReadonlySet<NodeId> = new Set();

  /** Each peer's withdrawal bound, as its last heartbeat stated it. */
  private readonly boundOf = new Map<NodeId, Millis>();

  /** `startedAt`: a peer never seen counts as last seen then. */
  constructor(private readonly self: NodeId, private readonly timing: HandoverTiming, private readonly startedAt: Millis = ms(0)) {}

  /** Records who holds or released what, from the seen peers' latest states. */
  observe(now: Millis, peers: ReadonlyMap<NodeId, NodeState>): void {
    for (const [id, state] of peers) {
      const seenAnew = !this.present.has(id);
      if (state.withdrawBound > 0) this.boundOf.set(id, state.withdrawBound);
      for (const [service, s] of state.services) {
        const known = this.holders.get(service);
        if (s.holding) {
          const said = s.method ? { method: s.method } : {};
          if (known?.holder !== id || known.state !== 'holding') this.holders.set(service, { holder: id, state: 'holding', at: now, ...said });
          else Object.assign(known, { at: now, ...said });
        } else if (s.released && known?.holder === id && known.state === 'holding') {
          // The method it held by decides the allowance (an address is gone once released).
          this.holders.set(service, { holder: id, state: 'released', at: now, ...(known.method ? { method: known.method } : {}) });
        } else if (s.released && seenAnew && (!known || known.holder === this.self || known.state === 'released')) {
          // Rule 2b: a release of unknown age. A record of another, unreleased holder stays:
          // its own rules are stricter.
          this.holders.set(service, { holder: id, state: 'released', at: now });
        }
      }
    }
    this.present = new Set(peers.keys());
  }

  /** What this node knows of the service's last holder (for logs and status). */
  lastHolder(service: ServiceName): { holder: NodeId; state: 'holding' | 'released'; at: Millis; method?: Method } | undefined {
    const known = this.holders.get(service);
    return known ? { ...known } : undefined;
  }

  /** This node serves `service` now: earlier holders are history. */
  selfHolds(service: ServiceName): void {
    this.holders.set(service, { holder: this.self, state: 'holding', at: ms(0) });
  }

  /**
   * This node stopped serving `service`. Its own record must not say "holding" any more: a
   * node that lost quorum during a stall and wakes to find a peer that took the service and
   * already released it would otherwise see only its own old record, and take the service
   * back with no allowance at all.
   */
  selfReleased(service: ServiceName, now: Millis, method?: Method): void {
    const known = this.holders.get(service);
    if (known?.holder !== this.self) return;
    this.holders.set(service, { holder: this.self, state: 'released', at: now, ...(method ? { method } : {}) });
  }

  /**
   * Why (and until when) this node must not start serving `service`; undefined: it may.
   * It first observes `ctx.peers` itself: a seen holder whose latest state says it released
   * must start the convergence allowance now, even if nobody called observe() with that state
   * yet. Otherwise, asked in between, the record still says "holding", the holder is seen, so
   * the answer is "decide() waits for the release" — and decide(), seeing the holder no longer
   * holding, serves at once, with no allowance (the cluster lab's three-node heal: the new
   * holder announced 33 ms after the old one's withdrawal reached BIRD, 500 ms allowed).
   */
  clearance(service: ServiceName, now: Millis, ctx: HandoverContext): Clearance | undefined {
    this.observe(now, ctx.peers);
    for (const [id, state] of ctx.peers) {
      if (!ctx.seen.has(id)) continue;
      const unseen = [...state.seenPeers].find((x) => x !== this.self && !ctx.seen.has(x));
      if (unseen) return { until: ms(Infinity), reason: `${id} still sees ${unseen}, which this node does not` };
      const theirs = state.services.get(service);
      if (theirs && !theirs.holding && !theirs.released) return { until: ms(Infinity), reason: `${id} has not completed its withdrawal of it` };
    }
    const known = this.holders.get(service);
    if (known?.holder === this.self && known.state === 'holding') return undefined;
    const t = this.timing;
    if (known?.state === 'released' && ctx.seen.has(known.holder)) {
      // An address is off the old holder's interface once it says released: no router has to
      // converge (the new holder's gratuitous ARP retrains the neighbours), so a release by ARP
      // waits only for answers the old holder's service was still sending (it may reply from
      // the address a moment after it left). BGP, or an unknown method, waits for the routers.
      const allowance = known.method === 'arp' ? t.addressAllowance : t.convergenceAllowance;
      const until = ms(known.at + allowance);
      if (now < until) return { until, reason: `${known.holder} released it; waiting ${allowance} ms ${known.method === 'arp' ? 'for its last answers' : 'for the routers to converge'}` };
    }
    // Rule 3, for every peer not seen now — not only the holder this node knows of: a peer may
    // have taken the service in the last interval before it vanished, before any heartbeat
    // said so (the ARP lab: NY took the address back 90 ms before its agent was killed; NJ,
    // never told, would have taken it while NY's copy lived on). A peer never seen counts as
    // last seen when this node started.
    let wait: Clearance | undefined;
    for (const peer of ctx.unseen ?? []) {
      if (peer === this.self) continue;
      const held = known?.holder === peer && known.state === 'holding' ? known : undefined;
      const lastSend = ctx.lastSeenSend(peer) ?? this.startedAt;
      const roundTrip = ctx.longestRoundTrip(peer) ?? t.deadAfter;
      const withdrawBound = Math.max(t.withdrawBound, this.boundOf.get(peer) ?? 0);
      const span = (t.deadAfter + t.interval + Math.min(roundTrip, t.deadAfter) + withdrawBound) * (1 + t.driftRate);
      const until = ms(lastSend + span);
      if (now >= until) continue;
      // Rule 4: the peer can only have held it by ARP (it said so, or the service has no other
      // method): if its heartbeats are dead (from lastSend + deadAfter on) and every
      // duplicate-address probe since then went unanswered, no host on the segment answers for
      // the address — its host is gone, or its copy expired.
      const byArpOnly = held ? held.method === 'arp' : ctx.methodsOf?.(service)?.every((m) => m === 'arp') === true;
      if (byArpOnly) {
        const probe = ctx.addressProbe?.(service);
        if (probe?.unanswered && probe.startedAt >= lastSend + t.deadAfter) continue;
      }
      const reason = held
        ? byArpOnly
          ? `${peer} held its address and is no longer seen: waiting until the address must have expired, or until duplicate-address probes go unanswered`
          : `${peer} held it and is no longer seen: waiting until it must have withdrawn`
        : `${peer} is no longer seen and may have taken it since its last heartbeat: waiting until it must have withdrawn${byArpOnly ? ', or until duplicate-address probes go unanswered' : ''}`;
      if (!wait || until > wait.until) wait = { until, reason, ...(byArpOnly ? { probeAddress: true as const } : {}) };
      else if (byArpOnly && !wait.probeAddress) wait = { ...wait, probeAddress: true };
    }
    return wait;
  }
}
