/**
 * Polling until something holds. Tests use it to wait for an outcome with a generous bound;
 * the bound is a deadline for a failure message, not a timing assertion.
 */
import type { Millis } from '../src/core/duration.js';

export interface WaitOptions {
  /** Give up after this long. */
  timeout: Millis;
  /** Pause between probes. Default 50 ms; benchmarks pass 1 ms. */
  interval?: Millis;
  /** What is being waited for, for the error message. */
  what?: string;
}

/**
 * Calls `probe` until it returns something other than undefined, null or false, and returns
 * that. A probe that throws counts as "not yet" (a daemon still starting); the last error or
 * value is quoted when time runs out.
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeout;
  const interval = options.interval ?? 50;
  let last: unknown = undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${options.timeout} ms waiting for ${options.what ?? 'a condition'} (last: ${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
