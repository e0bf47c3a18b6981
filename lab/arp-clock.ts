/**
 * The one clock of the ARP lab: epoch milliseconds with sub-millisecond resolution,
 * `performance.timeOrigin + performance.now()`. Every lab process (prober, whoami, GARP
 * watcher) and the test process stamp events with it, so a benchmark can line up a probe
 * reply, a gratuitous ARP and an agent's log line on one axis. `Date.now()` would do for
 * ordering but has whole-millisecond steps and can jump with NTP; this one is monotonic
 * within a process and agrees with the wall clock across processes to well under a ms.
 */

/** A moment as epoch milliseconds (fractional) on the lab clock. */
export type EpochMillis = number & { readonly __clock: 'epoch-ms' };

export const epochMillis = (n: number): EpochMillis => n as EpochMillis;

/** Now, on the lab clock. */
export function epochNow(): EpochMillis {
  return (performance.timeOrigin + performance.now()) as EpochMillis;
}
