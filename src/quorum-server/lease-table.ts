/**
 * The quorum server's decisions: which partition of each cluster holds the lease. Pure: no
 * I/O, no clock reads; every call takes `now`, a monotonic instant in milliseconds (never
 * wall-clock time, which jumps). Many clusters; each is independent of the others.
 *
 * The safety property (S1/S2 at the server): for one cluster, the server-side intervals
 * [grant, end + takeover gap) of two different partitions never overlap. Together with the
 * client's rule (count from the send time, stop a drift margin early; takeover-gap.ts) this
 * means two partitions never both believe they hold quorum.
 */
import { ms, type Millis } from '../core/duration.js';
import type { ClusterName, NodeId } from '../core/ids.js';
import type { ServedCluster } from '../config/server-types.js';
import { chooseWinner, type Contender } from './grant-policy.js';
import { partitionKey, type LeaseAsk, type MembershipDigest, type PartitionKey, type ReleaseAsk } from './lease-ask.js';
import { takeoverGap } from './takeover-gap.js';

/** Why a request was refused (a metric label; words go in `reason`). */
export type TableRefusal = 'unknown-cluster' | 'digest-mismatch' | 'held-by-other' | 'lost';
/** Why a request must ask again. */
export type TableRetry = 'starting' | 'settling' | 'previous-lease';

export interface HolderView {
  partition: readonly NodeId[];
  /** The node whose request won (or created) the grant. */
  grantedTo: NodeId;
}

export type LeaseDecision =
  | { verdict: 'GRANTED'; granted: Millis; renewal: boolean; holder: HolderView; reason: string; event?: LeaseEvent }
  | { verdict: 'REFUSED'; refusal: TableRefusal; holder?: HolderView; reason: string; event?: LeaseEvent }
  | { verdict: 'RETRY'; retry: TableRetry; retryAfter: Millis; holder?: HolderView; reason: string; event?: undefined };

/** A change of state worth one log line (renewals are not). */
export type LeaseEvent =
  | { kind: 'granted'; cluster: ClusterName; partition: readonly NodeId[]; node: NodeId; granted: Millis; criterion: string; previous?: readonly NodeId[] }
  | { kind: 'refused'; cluster: ClusterName; partition: readonly NodeId[]; node: NodeId; refusal: TableRefusal; reason: string }
  | { kind: 'expired'; cluster: ClusterName; partition: readonly NodeId[] }
  | { kind: 'released'; cluster: ClusterName; partition: readonly NodeId[]; node: NodeId; ended: boolean };

export type ReleaseDecision = { released: boolean; reason: string; event?: LeaseEvent };

/**
 * A cluster's latest grant, as recorded in the state file and resumed from it. The record is
 * kept after the lease ended: it is "the partition that held it last" for the policy.
 */
export interface HolderRecord {
  cluster: ClusterName;
  digest: MembershipDigest;
  /** Sorted member ids. */
  partition: readonly NodeId[];
  votes: number;
  grantedTo: NodeId;
  /** Each node of the partition still holding a grant, and when (monotonic) the server's count of it ends. */
  ends: readonly { node: NodeId; end: Millis }[];
}

export interface LeaseTableOptions {
  leaseMax: Millis;
  /** The clusters served; undefined serves any. */
  clusters?: readonly ServedCluster[];
  /** Monotonic instant the server started. */
  startedAt: Millis;
  /**
   * The grants recorded before a restart, their ends already converted to this process's
   * monotonic time (state-file.ts does that conservatively). Undefined: nothing is known, so
   * the table grants nothing before `startedAt + leaseMax + gap`.
   */
  resumed?: readonly HolderRecord[];
}

interface Holder {
  key: PartitionKey;
  partition: readonly NodeId[];
  votes: number;
  digest: MembershipDigest;
  grantedTo: NodeId;
  ends: Map<NodeId, Millis>;
  expiryReported: boolean;
}

interface Candidate extends Contender {
  node: NodeId;
  digest: MembershipDigest;
  lastAsked: Millis;
  settle: Millis;
}

interface Collection {
  opened: Millis;
  /** The longest settle window asked by any request of this collection. */
  longestSettle: Millis;
  candidates: Map<PartitionKey, Candidate>;
}

interface ClusterState {
  name: ClusterName;
  prefer?: NodeId;
  holder?: Holder;
  collection?: Collection;
  /** The last refusal logged per partition, so a loser asking every interval logs once. */
  refusalsLogged: Map<PartitionKey, string>;
}

export class LeaseTable {
  readonly leaseMax: Millis;
  readonly gap: Millis;
  /** Before this instant nothing new is granted (a restart that lost its records). */
  readonly blockedUntil: Millis;
  private readonly served?: Map<ClusterName, ServedCluster>;
  private readonly clusters = new Map<ClusterName, ClusterState>();

  constructor(opts: LeaseTableOptions) {
    this.leaseMax = opts.leaseMax;
    this.gap = takeoverGap(opts.leaseMax);
    if (opts.clusters) this.served = new Map(opts.clusters.map((c) => [c.name, c]));
    // Safety: without records, a lease granted by the previous run just before it stopped
    // may still be valid: by the server's count it ends at most leaseMax after the grant,
    // and the gap applies after that as always. So nothing is granted before then.
    this.blockedUntil = opts.resumed ? opts.startedAt : ms(opts.startedAt + opts.leaseMax + this.gap);
    for (const r of opts.resumed ?? []) {
      const state = this.cluster(r.cluster);
      if (!state) continue; // a cluster no longer served: its record is dropped
      state.holder = {
        key: partitionKey(r.partition),
        partition: r.partition,
        votes: r.votes,
        digest: r.digest,
        grantedTo: r.grantedTo,
        ends: new Map(r.ends.map((e) => [e.node, e.end])),
        expiryReported: false,
      };
    }
  }

  /** Decides a lease request. The caller records a GRANTED decision before it answers. */
  request(ask: LeaseAsk, now: Millis): LeaseDecision {
    const state = this.cluster(ask.cluster);
    if (!state) {
      return { verdict: 'REFUSED', refusal: 'unknown-cluster', reason: `cluster "${ask.cluster}" is not served here` };
    }
    const key = partitionKey(ask.partition);
    const holder = state.holder;

    if (holder && now < this.busyUntil(holder)) {
      const view = holderView(holder);
      // The membership is pinned while a lease may be valid: votes counted against another
      // member list are not comparable, and a node with another list could reach a majority
      // that the holder's list does not allow.
      if (ask.digest !== holder.digest) {
        return this.refuse(state, ask, key, 'digest-mismatch', view,
          `membership digest ${short(ask.digest)} differs from the pinned ${short(holder.digest)} while partition [${holder.partition}] holds the lease`);
      }
      if (key === holder.key && now < leaseEnd(holder)) {
        // A renewal by the holding partition before its lease ends: granted at once. Safe:
        // the interval only grows for the partition that already holds it; no other partition
        // can hold an overlapping one, since none is granted while this one may be valid.
        return this.grant(state, ask, now, 'renewal by the holding partition', true);
      }
      if (key !== holder.key && now < leaseEnd(holder)) {
        return this.refuse(state, ask, key, 'held-by-other', view,
          `partition [${holder.partition}] holds the lease for another ${leaseEnd(holder) - now} ms`);
      }
      // The holder's count has ended but its gap has not: fall through to a collection, which
      // decides no earlier than the end of the gap.
    }
    return this.collect(state, ask, key, now);
  }

  /** The holder gives its lease up; it has already stopped serving. */
  release(ask: ReleaseAsk, now: Millis): ReleaseDecision {
    const state = this.cluster(ask.cluster);
    const holder = state?.holder;
    if (!state || !holder || !holder.partition.includes(ask.node) || !((holder.ends.get(ask.node) ?? -Infinity) > now)) {
      return { released: false, reason: `node ${ask.node} holds no lease of cluster "${ask.cluster}"` };
    }
    // Only this node's grant ends. Another node of the same partition may still count on the
    // shared lease (even one whose end by the server's count has just passed: it is still
    // covered by the gap), so the partition blocks others until the last remaining node's end
    // plus the gap. When no node of it is left, no gap is needed: every holder said it stopped.
    holder.ends.delete(ask.node);
    const ended = holder.ends.size === 0;
    if (ended) holder.expiryReported = true;
    return {
      released: true,
      reason: ended ? 'the lease is released' : `released for ${ask.node}; other nodes of the partition still hold it`,
      event: { kind: 'released', cluster: state.name, partition: holder.partition, node: ask.node, ended },
    };
  }

  /**
   * Housekeeping, run every second or so: reports leases that ended without renewal and
   * forgets partitions not heard from within their settle window. Decisions never depend on
   * it having run (every request checks the times itself).
   */
  sweep(now: Millis): LeaseEvent[] {
    const events: LeaseEvent[] = [];
    for (const state of this.clusters.values()) {
      const h = state.holder;
      if (h && !h.expiryReported && leaseEnd(h) !== -Infinity && now >= leaseEnd(h)) {
        h.expiryReported = true;
        events.push({ kind: 'expired', cluster: state.name, partition: h.partition });
      }
      if (state.collection) {
        pruneSilent(state.collection, now);
        if (state.collection.candidates.size === 0) delete state.collection;
      }
    }
    return events;
  }

  /** How many clusters have a lease whose server-side count has not ended. */
  activeLeases(now: Millis): number {
    let n = 0;
    for (const state of this.clusters.values()) if (state.holder && now < leaseEnd(state.holder)) n++;
    return n;
  }

  /** Every cluster's latest grant, for the state file. */
  records(): HolderRecord[] {
    const out: HolderRecord[] = [];
    for (const state of this.clusters.values()) {
      const h = state.holder;
      if (!h) continue;
      out.push({
        cluster: state.name, digest: h.digest, partition: h.partition, votes: h.votes, grantedTo: h.grantedTo,
        ends: [...h.ends].map(([node, end]) => ({ node, end })),
      });
    }
    return out;
  }

  private cluster(name: ClusterName): ClusterState | undefined {
    let state = this.clusters.get(name);
    if (state) return state;
    const served = this.served ? this.served.get(name) : { name };
    if (!served) return undefined;
    state = { name, refusalsLogged: new Map(), ...(served.prefer ? { prefer: served.prefer } : {}) };
    this.clusters.set(name, state);
    return state;
  }

  /** Until when no other partition may be granted: the holder's end plus the takeover gap. */
  private busyUntil(h: Holder): Millis {
    return ms(leaseEnd(h) + this.gap);
  }

  /**
   * No valid lease: listen for every partition for a settle window, then grant by policy.
   * The decision instant is the same for every partition of the cluster.
   */
  private collect(state: ClusterState, ask: LeaseAsk, key: PartitionKey, now: Millis): LeaseDecision {
    let c = state.collection;
    if (c) pruneSilent(c, now);
    // A collection nobody is still asking in is stale: a newcomer must wait a whole window so
    // that every other partition can be heard. Arrival order never decides.
    if (!c || c.candidates.size === 0) {
      c = { opened: now, longestSettle: ask.settle, candidates: new Map() };
      state.collection = c;
    }
    c.longestSettle = ms(Math.max(c.longestSettle, ask.settle));
    c.candidates.set(key, {
      key, partition: ask.partition, votes: ask.votes, node: ask.node, digest: ask.digest, lastAsked: now, settle: ask.settle,
    });

    const windowEnd = c.opened + c.longestSettle;
    const previous = state.holder ? this.busyUntil(state.holder) : -Infinity;
    // Safety: never decide before the previous holder's end plus the gap (so its interval and
    // the next one cannot overlap), nor before a restart without records has waited long
    // enough for any forgotten lease to be over.
    const decideAt = Math.max(windowEnd, previous, this.blockedUntil);
    if (now < decideAt) {
      const retry: TableRetry = decideAt === this.blockedUntil ? 'starting' : decideAt === windowEnd ? 'settling' : 'previous-lease';
      const why = retry === 'starting' ? 'the server restarted without its records and waits out any lease it may have granted'
        : retry === 'settling' ? 'listening for every partition (settle window)'
        : `the previous lease of partition [${state.holder?.partition}] may still be valid`;
      return {
        verdict: 'RETRY', retry, retryAfter: ms(decideAt - now), reason: `${why}; decision in ${decideAt - now} ms`,
        ...(state.holder ? { holder: holderView(state.holder) } : {}),
      };
    }

    const h = state.holder;
    const { winner, criterion } = chooseWinner([...c.candidates.values()], {
      ...(h ? { lastHolder: { key: h.key, stillValid: now < this.busyUntil(h) } } : {}),
      ...(state.prefer ? { prefer: state.prefer } : {}),
    });
    if (winner.key !== key) {
      return this.refuse(state, ask, key, 'lost', { partition: winner.partition, grantedTo: winner.node },
        `partition [${winner.partition}] wins: ${criterion}`);
    }
    return this.grant(state, ask, now, criterion, false);
  }

  private grant(state: ClusterState, ask: LeaseAsk, now: Millis, criterion: string, renewal: boolean): LeaseDecision {
    const granted = ms(Math.min(ask.lease, this.leaseMax));
    const key = partitionKey(ask.partition);
    let event: LeaseEvent | undefined;
    if (!renewal) {
      const previous = state.holder;
      event = {
        kind: 'granted', cluster: state.name, partition: ask.partition, node: ask.node, granted, criterion,
        ...(previous && previous.key !== key ? { previous: previous.partition } : {}),
      };
      state.holder = {
        key, partition: ask.partition, votes: ask.votes, digest: ask.digest, grantedTo: ask.node,
        ends: new Map(), expiryReported: false,
      };
      delete state.collection;
      state.refusalsLogged.clear();
    }
    const holder = state.holder!;
    // The server counts from now (the grant), which is after the client sent its request: the
    // server's end is later than the client's (takeover-gap.ts). An end never moves earlier.
    const end = ms(now + granted);
    holder.ends.set(ask.node, ms(Math.max(holder.ends.get(ask.node) ?? -Infinity, end)));
    holder.expiryReported = false;
    return {
      verdict: 'GRANTED', granted, renewal, holder: holderView(holder),
      reason: renewal ? 'renewed' : `granted: ${criterion}`,
      ...(event ? { event } : {}),
    };
  }

  private refuse(state: ClusterState, ask: LeaseAsk, key: PartitionKey, refusal: TableRefusal, holder: HolderView, reason: string): LeaseDecision {
    const signature = `${refusal} ${holder.partition.join(',')}`;
    const fresh = state.refusalsLogged.get(key) !== signature;
    if (fresh) state.refusalsLogged.set(key, signature);
    return {
      verdict: 'REFUSED', refusal, holder, reason,
      ...(fresh ? { event: { kind: 'refused', cluster: state.name, partition: ask.partition, node: ask.node, refusal, reason } } : {}),
    };
  }
}

/** The end of the partition's lease by the server's count: the last of its nodes' ends. */
function leaseEnd(h: Holder): Millis {
  let end = -Infinity;
  for (const e of h.ends.values()) if (e > end) end = e;
  return end as Millis;
}

/**
 * A partition still asking re-asks at least once per heartbeat interval, and the settle
 * window it sent is longer than that (dead-after + one interval). One not heard within its
 * own window has gone (or healed) and must not win a grant it will never collect. One asking
 * again exactly as its window ends is still heard.
 */
function pruneSilent(c: Collection, now: Millis): void {
  for (const [key, cand] of c.candidates) if (now > cand.lastAsked + cand.settle) c.candidates.delete(key);
}

function holderView(h: Holder): HolderView {
  return { partition: h.partition, grantedTo: h.grantedTo };
}

function short(d: MembershipDigest): string {
  return d.length > 16 ? `${d.slice(0, 16)}…` : d;
}
