/** Many trials → one row: count, median, p99, min, max (milliseconds). */
import type { Millis } from '../src/core/duration.js';

export interface Summary {
  trials: number;
  median: number;
  p99: number;
  min: number;
  max: number;
}

/**
 * Median by the midpoint of the two middle values; p99 by the nearest-rank method, which with
 * fewer than 100 trials is the maximum (said so in BENCHMARKS.md, not hidden).
 */
export function summarize(samples: readonly Millis[]): Summary {
  if (samples.length === 0) return { trials: 0, median: NaN, p99: NaN, min: NaN, max: NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  const median = n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const p99 = sorted[Math.min(n - 1, Math.ceil(0.99 * n) - 1)]!;
  return { trials: n, median: round(median), p99: round(p99), min: round(sorted[0]!), max: round(sorted[n - 1]!) };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
