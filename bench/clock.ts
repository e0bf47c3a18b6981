/**
 * The benchmarks' clock: epoch milliseconds with sub-millisecond precision, the same
 * expression the agent uses for `checkEndedAt` in its log, so times taken in the bench
 * process and in the agent can be subtracted.
 */
import { ms, type Millis } from '../src/core/duration.js';

/** An instant: epoch milliseconds (fractional). Branded so it is not mistaken for a span. */
export type EpochMillis = number & { readonly __unit: 'epoch-ms' };

export function epochNow(): EpochMillis {
  return (performance.timeOrigin + performance.now()) as EpochMillis;
}

/** The span from `from` to `to`. */
export function between(from: EpochMillis, to: EpochMillis): Millis {
  return ms(to - from);
}

export function sleep(duration: Millis): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, duration));
}
