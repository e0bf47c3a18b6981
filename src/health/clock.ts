/**
 * Time as the monitor sees it, injectable so that scheduling, hysteresis and timeouts can be
 * tested with a manual clock (manual-clock.ts) instead of waiting.
 */
export interface Clock {
  /** Epoch milliseconds with sub-millisecond precision. */
  now(): number;
  /** Runs `fn` once after `delayMs`; returns a function that cancels it (a no-op once it ran). */
  schedule(delayMs: number, fn: () => void): () => void;
}

/**
 * performance.timeOrigin + performance.now(): epoch-based like Date.now(), so outcomes can be
 * compared with other processes' timestamps, but precise to microseconds and (within one
 * process) monotonic.
 */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  schedule(delayMs, fn) {
    const timer = setTimeout(fn, delayMs);
    return () => clearTimeout(timer);
  },
};
