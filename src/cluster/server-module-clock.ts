/**
 * Time as the `server` quorum module sees it: the node's monotonic clock (the same one
 * QuorumServerClient stamps `sentAt` with, so lease ends and "now" are comparable) and timers,
 * injectable so that tests drive the module with a fake clock instead of waiting.
 */
import { ms, type Millis } from '../core/duration.js';

export interface ModuleClock {
  /** Monotonic milliseconds; never wall-clock time, which jumps. */
  now(): Millis;
  /** Runs `fn` once after `delay`; returns a function that cancels it (a no-op once it ran). */
  schedule(delay: Millis, fn: () => void): () => void;
}

/** performance.now(): QuorumServerClient's default clock, so the two agree. */
export const monotonicModuleClock: ModuleClock = {
  now: () => ms(performance.now()),
  schedule(delay, fn) {
    const timer = setTimeout(fn, Math.max(0, delay));
    return () => clearTimeout(timer);
  },
};
