/**
 * Lease safety, the node's side (issue 3 item 5): until when a grant from the quorum server
 * lets this node serve, and which grants it must not believe. Pure: every instant is a value
 * of the node's monotonic clock (performance.now(), the clock QuorumServerClient stamps
 * `sentAt` with), never wall-clock time, which jumps.
 *
 * THE RULE. A lease of length L granted in answer to a request this node SENT at s is valid
 * until
 *
 *     end = s + L·(1 − ρ) − m          ρ = NODE_DRIFT_RATE (2 %), m = WITHDRAW_MARGIN (500 ms)
 *
 * and the agent must have stopped serving (decide() drops everything at `validUntil`) by then.
 *
 * THE ARGUMENT (real time t; the node's clock runs at a rate r_n ∈ [1−ρ, 1+ρ] of real time, the
 * server's at r_s ∈ [1−ρ_s, 1+ρ_s], ρ_s = SERVER_DRIFT_RATE; L ≤ lease.max):
 *
 *  1. The node's side. The request left at real time S. The node's clock reads `end` after
 *     (L·(1−ρ) − m)/r_n of real time, which is longest on the slowest clock:
 *         deadline ≤ S + (L·(1−ρ) − m)/(1−ρ) = S + L − m/(1−ρ) ≤ S + L − m.
 *     Withdrawing takes the node at most W ≤ m of real time (below), so the node has FINISHED
 *     withdrawing by S + L: before a true clock started when the request left counts L.
 *
 *  2. The server's side (src/quorum-server/takeover-gap.ts). It granted at real time G ≥ S
 *     (it cannot answer a request before it was sent) and grants the cluster to another
 *     partition only once its own clock has counted L plus the takeover gap
 *     gap = 250 ms + ρ_s·lease.max from G. On its fastest clock that is real time
 *         G + (L + 250 + ρ_s·lease.max)/(1+ρ_s) ≥ G + (L·(1+ρ_s) + 250)/(1+ρ_s) = G + L + 250/(1+ρ_s)
 *                                               ≥ S + L + 245 ms.
 *
 *  So (1) < (2): the old holder has finished withdrawing at least 245 ms before any other
 *  partition can be granted, and the new holder starts later still (it waits for the grant
 *  to reach it). The two sides split the work: the node's margin covers its own slow clock
 *  and its own withdrawal; the server's gap covers its fast clock, and its fixed 250 ms is
 *  slack for what neither side measures (the server reading "now" a little after deciding,
 *  the routers processing the withdrawal). Neither side needs the other's clock to be right
 *  to within more than its own bound, and no message delay can break it: delay only moves G
 *  later, which moves the server's end later.
 *
 * WHY ρ = 2 %: the same bound the server assumes for its own clock (takeover-gap.ts). A crystal
 * is off by ~10⁻⁴ and NTP slews at most 5·10⁻⁴; 2 % covers a VM that loses ticks or a stepped
 * slew. It costs 2 % of each lease, which renewing at a third of it makes irrelevant.
 *
 * WHY m = 500 ms: W is the node's own withdrawal, from the instant its clock reads `end` to the
 * instant nothing it announced is still out there at its edge:
 *   - the agent's timer for `validUntil` firing late (event-loop lag; a loop stalled for longer
 *     is the guard's business, rule S4: its deadline is never past the quorum validity),
 *   - decide() + a DeletePath to gobgpd over its unix socket + gobgpd's withdrawing UPDATE
 *     (milliseconds to tens of milliseconds),
 *   - for an ARP-held address, the kernel removing an expired address up to ~0.3 s late (the
 *     address's lifetime never reaches past `end`, DESIGN.md "ARP takeover").
 * 300 ms for the kernel plus 200 ms for the rest. A deployment with a slower path passes a
 * larger margin (LeaseSafety).
 *
 * OUT-OF-ORDER ANSWERS. A grant answering a request sent before this node's latest release
 * is ignored: the server may have processed that request before the release, so the
 * release ended that very grant on the server's side, and the server may already be counting
 * the cluster as free. Believing the grant would be serving on a lease nobody else respects.
 * (A request sent after the release is either processed after it — a fresh grant the server
 * counts — or refused/retried.)
 */
import { ms, type Millis } from '../core/duration.js';

/** The node's clock may run slow by up to this rate (see above). */
export const NODE_DRIFT_RATE = 0.02;
/** The node's own withdrawal time, counted out of every lease (see above). */
export const WITHDRAW_MARGIN = ms(500);

export interface LeaseSafety {
  /** ρ: how far the node's monotonic clock may run slow, as a rate (0.02 = 2 %). */
  driftRate: number;
  /** m: the longest the node takes to finish withdrawing once its lease ends. */
  margin: Millis;
}

export const DEFAULT_LEASE_SAFETY: LeaseSafety = { driftRate: NODE_DRIFT_RATE, margin: WITHDRAW_MARGIN };

/**
 * The instant (node's monotonic clock) this node must have stopped serving by, for a grant of
 * `granted` answering a request sent at `sentAt`. Rounded down: a millisecond early is safe.
 */
export function nodeLeaseEnd(sentAt: Millis, granted: Millis, safety: LeaseSafety = DEFAULT_LEASE_SAFETY): Millis {
  return ms(Math.floor(sentAt + granted * (1 - safety.driftRate) - safety.margin));
}

/**
 * The shortest grant that leaves the node any time to serve at all. A shorter one is of no use
 * (its end is at or before the send time); the config should ask for several times this.
 */
export function shortestUsefulLease(safety: LeaseSafety = DEFAULT_LEASE_SAFETY): Millis {
  return ms(Math.ceil(safety.margin / (1 - safety.driftRate)) + 1);
}

/**
 * Whether an answer may be believed: only if its request was sent after this node's latest
 * release (see OUT-OF-ORDER ANSWERS). "Sent after" is the node's own send order — one counter
 * over every request and release it sends — rather than clock readings, which two sends in
 * quick succession (or a fake clock) can share. `lastRelease` undefined: it never released.
 */
export function sentAfterRelease(requestSeq: number, lastReleaseSeq: number | undefined): boolean {
  return lastReleaseSeq === undefined || requestSeq > lastReleaseSeq;
}

/**
 * When to renew a lease: at a third of the granted length after sending (so two more tries
 * fit before it ends), and never later than halfway to the node's end (a short grant,
 * where the margin eats most of it, still leaves a retry before the end).
 */
export function renewalDue(sentAt: Millis, granted: Millis, end: Millis): Millis {
  return ms(Math.min(sentAt + granted / 3, sentAt + (end - sentAt) / 2));
}
