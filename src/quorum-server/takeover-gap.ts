/**
 * The takeover gap: how long after the server's own count of a lease has ended it still
 * refuses to grant the cluster to another partition.
 *
 * Why a lease never overlaps its successor (the argument, in real time):
 *   - The holder counts its lease from the instant it SENT the request, and stops serving
 *     (withdraws everything) a drift margin before that count ends (the client's rule). The
 *     server counts from the instant it GRANTED, which is after the request was sent. So, with
 *     both clocks running at the true rate, the server's end is always later than the
 *     holder's: the holder's count starts earlier and is the same length or shorter.
 *   - Clocks do not run at the true rate. The holder's margin covers its own clock running
 *     slow. The gap covers the server's clock running fast: over a lease of at most
 *     `lease.max`, a server clock fast by a rate ρ ends its count up to `lease.max·ρ` early.
 *     We allow ρ = 2 % — far beyond a crystal (≈ 10⁻⁴) or NTP's slew (5·10⁻⁴), so a VM that
 *     loses time or an adjtime() slew is still covered.
 *   - A fixed 250 ms more covers what is not drift: the old holder's withdrawal, issued by its
 *     deadline, still has to leave its speaker (a gRPC DeletePath and a BGP UPDATE), and the
 *     server's own reading of "now" happens a little after the grant was decided.
 *   - The new holder starts serving only after the grant reached it, later still than the
 *     server's decision, which adds to the margin rather than taking from it.
 * With `lease.max` = 10 s the gap is 450 ms.
 *
 * A restart without the state file waits one `lease.max` plus this gap before its first
 * grant: a lease granted just before the restart ends, by the server's count, no later than
 * `lease.max` after it, and then the same gap applies.
 */
import { ms, type Millis } from '../core/duration.js';

/** The server's clock may run fast by up to this rate (see above). */
export const SERVER_DRIFT_RATE = 0.02;
/** The part of the gap that is not drift (see above). */
export const TAKEOVER_GAP_FIXED = ms(250);

export function takeoverGap(leaseMax: Millis): Millis {
  return ms(TAKEOVER_GAP_FIXED + Math.ceil(leaseMax * SERVER_DRIFT_RATE));
}
