/**
 * The seen-table: which peers this node sees, decided only from complete round trips. Pure —
 * no I/O, no clock reads; every method takes `now` (monotonic milliseconds).
 *
 * The rule (DESIGN.md "Quorum"): a peer is seen only through a heartbeat this node sent at
 * t_send whose matching reply came back, and only until t_send(last such round trip) +
 * dead-after. Why the *send* time and not the reply's arrival: the peer answered at some instant
 * after t_send, and that instant is all either side can know about the other; counting from
 * t_send makes this node give the peer up no later than dead-after after the last moment the
 * peer is known to have been alive and reachable both ways. The peer applies the same rule to
 * us, so after a cut both sides lose each other within about one interval of each other.
 *
 * What does not count:
 * - one-way reachability: the peer's requests reaching us say nothing about our packets
 *   reaching it, so they are not even an input here (only our round trips are);
 * - a reply that arrives at or after t_send + dead-after (it would be stale on arrival);
 * - a reply to a sequence we did not send, or that does not echo the sequence it answers;
 * - a reply from another cluster, from a node other than the one we addressed, or with another
 *   membership digest (the two configs disagree on the members, so on what a majority is).
 * Each such problem is reported once per change (see `poll`), with its reason.
 *
 * Reordered replies are harmless: an older round trip completing after a newer one never moves
 * the peer's last successful send time backwards, nor replaces its newer state.
 */
import type { Millis } from '../core/duration.js';
import type { ClusterName, NodeId } from '../core/ids.js';
import type { Heartbeat } from './heartbeat-wire.js';
import type { MembershipDigest } from './membership-digest.js';
import type { NodeState } from './membership-node-state.js';

export interface MembershipTableOptions {
  cluster: ClusterName;
  self: NodeId;
  digest: MembershipDigest;
  peers: readonly NodeId[];
  deadAfter: Millis;
}

/** Why a heartbeat to a peer did not make a round trip that counts. */
export type RoundTripProblem = { kind: RoundTripProblemKind; detail: string };
export type RoundTripProblemKind =
  /** The call failed: no connection, deadline passed, an error status from the transport. */
  | 'unreachable'
  /** The peer answered with a refusal (our identity, our message). */
  | 'refused'
  /** The reply is not a valid heartbeat reply. */
  | 'bad-reply'
  /** The reply came back at or after its send time + dead-after. */
  | 'late'
  /** The reply answers no heartbeat we have outstanding, or echoes another sequence. */
  | 'unmatched'
  | 'wrong-cluster'
  | 'wrong-node'
  | 'digest-mismatch';

/** What became of one heartbeat: it counted, or the kind of problem that kept it from counting. */
export type RoundTripResult = 'counted' | RoundTripProblemKind;

export type MembershipChange =
  /** The peer became seen: `roundTrip` is the round trip that made it so. */
  | { kind: 'seen'; peer: NodeId; at: Millis; roundTrip: Millis; cause: string }
  /** The peer is no longer seen: no round trip sent in the last dead-after completed. */
  | { kind: 'lost'; peer: NodeId; at: Millis; lastSeenSend: Millis; cause: string }
  /** A heartbeat did not count, for a reason other than the last one reported for this peer. */
  | { kind: 'not-counted'; peer: NodeId; at: Millis; problem: RoundTripProblem }
  /** A seen peer's state (services, seen peers, quorum) differs from its previous one. */
  | { kind: 'updated'; peer: NodeId; at: Millis };

interface PeerRecord {
  /** sequence → send time, for heartbeats not yet answered (nor failed). */
  readonly outstanding: Map<number, Millis>;
  /** The last round trip that counted (by send time) and the state its reply carried. */
  lastGood?: { sentAt: Millis; state: NodeState; stateKey: string };
  longestRoundTrip?: Millis;
  /** The latest problem since lastGood (cleared by a round trip that counts). */
  problem?: RoundTripProblem;
  /** The kind of problem last reported, so one reason is said once, not every heartbeat. */
  reportedProblem?: RoundTripProblemKind;
  /** Whether the last change reported for the peer was `seen` (not yet followed by `lost`). */
  reportedSeen: boolean;
}

export class MembershipTable {
  private readonly peers = new Map<NodeId, PeerRecord>();
  private pending: MembershipChange[] = [];

  constructor(private readonly opts: MembershipTableOptions) {
    for (const id of opts.peers) {
      if (id === opts.self) throw new Error(`node ${id} is listed as its own peer`);
      this.peers.set(id, { outstanding: new Map(), reportedSeen: false });
    }
  }

  get deadAfter(): Millis {
    return this.opts.deadAfter;
  }

  /** A heartbeat with `sequence` left for `peer` at `now`. Sequences are new for every heartbeat. */
  sent(peer: NodeId, sequence: number, now: Millis): void {
    const record = this.record(peer);
    this.prune(record, now);
    if (record.outstanding.has(sequence)) throw new Error(`heartbeat sequence ${sequence} to ${peer} sent twice`);
    record.outstanding.set(sequence, now);
  }

  /** The reply to the heartbeat `sequence` we sent `peer` arrived at `now`. Says whether it counted, or why not. */
  replied(peer: NodeId, sequence: number, reply: Heartbeat, now: Millis): RoundTripResult {
    const record = this.record(peer);
    const sentAt = record.outstanding.get(sequence);
    record.outstanding.delete(sequence);
    this.prune(record, now);
    if (sentAt === undefined) {
      return this.problem(record, peer, now, { kind: 'unmatched', detail: `reply to heartbeat ${sequence}, which is not outstanding (answered already, or sent more than twice dead-after ago)` });
    }
    const { sender } = reply;
    if (reply.sequence !== sequence) {
      return this.problem(record, peer, now, { kind: 'unmatched', detail: `the reply to heartbeat ${sequence} echoes sequence ${reply.sequence}` });
    }
    if (sender.cluster !== this.opts.cluster) {
      return this.problem(record, peer, now, { kind: 'wrong-cluster', detail: `the node at ${peer}'s address is ${sender.node} of cluster "${sender.cluster}", not of "${this.opts.cluster}"` });
    }
    if (sender.node !== peer) {
      return this.problem(record, peer, now, { kind: 'wrong-node', detail: `the node at ${peer}'s address says it is ${sender.node}` });
    }
    if (sender.digest !== this.opts.digest) {
      return this.problem(record, peer, now, {
        kind: 'digest-mismatch',
        detail: `${peer} has another membership digest (${sender.digest.slice(0, 12)}…, ours ${this.opts.digest.slice(0, 12)}…): its configured members or votes differ from ours`,
      });
    }
    const roundTrip = (now - sentAt) as Millis;
    if (now >= sentAt + this.opts.deadAfter) {
      return this.problem(record, peer, now, { kind: 'late', detail: `the reply took ${Math.round(roundTrip)} ms, not less than dead-after (${this.opts.deadAfter} ms)` });
    }
    record.longestRoundTrip = Math.max(record.longestRoundTrip ?? 0, roundTrip) as Millis;
    record.problem = undefined;
    record.reportedProblem = undefined;
    if (record.lastGood && record.lastGood.sentAt >= sentAt) return 'counted'; // reordered: a newer one already counted
    // A peer that expired since the last poll is said lost before it is said seen again.
    this.expireIfDue(peer, record, now);
    const stateKey = stateIdentity(sender);
    if (record.reportedSeen && record.lastGood && record.lastGood.stateKey !== stateKey) this.pending.push({ kind: 'updated', peer, at: now });
    record.lastGood = { sentAt, state: sender, stateKey };
    if (!record.reportedSeen) {
      // Said at once, not at the next poll: a peer seen and lost again between two polls still
      // leaves both lines.
      record.reportedSeen = true;
      this.pending.push({ kind: 'seen', peer, at: now, roundTrip, cause: `a heartbeat round trip completed in ${Math.round(roundTrip)} ms` });
    }
    return 'counted';
  }

  /** The heartbeat `sequence` to `peer` failed at `now` (no reply, or an error in its place). */
  failed(peer: NodeId, sequence: number, problem: RoundTripProblem, now: Millis): RoundTripResult {
    const record = this.record(peer);
    record.outstanding.delete(sequence);
    this.prune(record, now);
    return this.problem(record, peer, now, problem);
  }

  /** The peers seen at `now`. */
  seen(now: Millis): Set<NodeId> {
    const out = new Set<NodeId>();
    for (const [id, record] of this.peers) if (this.isSeen(record, now)) out.add(id);
    return out;
  }

  /** Whether `state` differs from what `peer`'s last counted round trip said (or none counted yet). */
  isNews(peer: NodeId, state: NodeState): boolean {
    const last = this.peers.get(peer)?.lastGood;
    return !last || last.stateKey !== stateIdentity(state);
  }

  /** The send time of the peer's last round trip that counted (undefined: never). */
  lastSeenSend(peer: NodeId): Millis | undefined {
    return this.record(peer).lastGood?.sentAt;
  }

  /**
   * The longest round trip of this peer that ever counted (always < dead-after). The takeover
   * bound adds it: the peer may have acted on our last heartbeat that long after we sent it.
   */
  longestRoundTrip(peer: NodeId): Millis | undefined {
    return this.record(peer).longestRoundTrip;
  }

  /** The state the peer sent in its last counted reply, while it is seen. */
  stateOf(peer: NodeId, now: Millis): NodeState | undefined {
    const record = this.record(peer);
    return this.isSeen(record, now) ? record.lastGood?.state : undefined;
  }

  /** Every seen peer's last state. */
  seenStates(now: Millis): Map<NodeId, NodeState> {
    const out = new Map<NodeId, NodeState>();
    for (const [id, record] of this.peers) if (this.isSeen(record, now) && record.lastGood) out.set(id, record.lastGood.state);
    return out;
  }

  /** The latest problem of the peer since its last counted round trip (for status pages). */
  problemOf(peer: NodeId): RoundTripProblem | undefined {
    return this.record(peer).problem;
  }

  /**
   * The changes since the last poll, in order: seen, not-counted and updated as the inputs
   * brought them, then the peers lost by `now`. Call it after every input and at `nextExpiry`:
   * a peer is lost by time passing, with no input at all.
   */
  poll(now: Millis): MembershipChange[] {
    for (const [peer, record] of this.peers) this.expireIfDue(peer, record, now);
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** The next instant after `now` at which a seen peer will stop being seen without new input. */
  nextExpiry(now: Millis): Millis | undefined {
    let next: number | undefined;
    for (const record of this.peers.values()) {
      if (!record.lastGood) continue;
      const end = record.lastGood.sentAt + this.opts.deadAfter;
      if (end > now && (next === undefined || end < next)) next = end;
    }
    return next as Millis | undefined;
  }

  private expireIfDue(peer: NodeId, record: PeerRecord, now: Millis): void {
    if (!record.reportedSeen || this.isSeen(record, now)) return;
    record.reportedSeen = false;
    const why = record.problem ? `${record.problem.kind}: ${record.problem.detail}` : 'no reply came back yet to any later heartbeat';
    this.pending.push({
      // `at`: the instant it stopped being seen, which may be before this call noticed it.
      kind: 'lost', peer, at: (record.lastGood!.sentAt + this.opts.deadAfter) as Millis, lastSeenSend: record.lastGood!.sentAt,
      cause: `no heartbeat round trip completed within dead-after (${this.opts.deadAfter} ms) of its sending; last problem: ${why}`,
    });
  }

  private isSeen(record: PeerRecord, now: Millis): boolean {
    return record.lastGood !== undefined && now < record.lastGood.sentAt + this.opts.deadAfter;
  }

  private problem(record: PeerRecord, peer: NodeId, now: Millis, problem: RoundTripProblem): RoundTripResult {
    record.problem = problem;
    if (record.reportedProblem !== problem.kind) {
      record.reportedProblem = problem.kind;
      this.pending.push({ kind: 'not-counted', peer, at: now, problem });
    }
    return problem.kind;
  }

  /**
   * Forgets heartbeats that can no longer count. Kept for twice dead-after, so that a reply
   * arriving late is reported as late rather than as unmatched.
   */
  private prune(record: PeerRecord, now: Millis): void {
    for (const [sequence, sentAt] of record.outstanding) {
      if (now - sentAt > 2 * this.opts.deadAfter) record.outstanding.delete(sequence);
    }
  }

  private record(peer: NodeId): PeerRecord {
    const record = this.peers.get(peer);
    if (!record) throw new Error(`${peer} is not a configured peer`);
    return record;
  }
}

/** Two states with the same key tell decide() the same thing. */
function stateIdentity(s: NodeState): string {
  return JSON.stringify([
    [...s.seenPeers].sort(),
    s.quorum.quorate,
    s.quorum.reason,
    [...s.services].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, v]) => [name, v.healthy, v.drained, v.announceable, v.priority, v.holding, v.released]),
  ]);
}
