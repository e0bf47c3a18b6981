/**
 * What a benchmark hands back: named rows (each a series of samples, or one figure) grouped
 * by benchmark, with the target beside the figure it is about, and notes for the reader.
 */
import type { Millis } from '../src/core/duration.js';
import { summarize, type Summary } from './summary.js';

export interface Target {
  /** Which statistic the target is about. */
  stat: 'median' | 'p99' | 'max';
  /** Below this (ms) the target is met. */
  below: number;
}

export interface Row {
  /** e.g. `quorate: kill → route gone`. */
  name: string;
  /** `quorate`, `exabgp`, `gobgp CLI`…: who the figure is about. */
  subject: string;
  summary: Summary;
  samples: number[];
  targets: Target[];
  /** Extra words for the table (e.g. "extrapolated"). */
  note?: string;
}

export interface BenchmarkResult {
  name: 'failover' | 'bulk' | 'sigkill' | 'lease-table' | 'split' | 'quorum-e2e' | 'arp';
  settings: Record<string, unknown>;
  rows: Row[];
  notes: string[];
  /** One-off observations that are not series (e.g. whether a route stayed). */
  facts?: Record<string, unknown>;
}

export function row(name: string, subject: string, samples: readonly Millis[], targets: Target[] = [], note?: string): Row {
  return { name, subject, summary: summarize(samples), samples: samples.map((s) => Math.round(s * 100) / 100), targets, ...(note ? { note } : {}) };
}

/** Whether a row meets each of its targets. */
export function targetVerdicts(r: Row): { target: Target; met: boolean; value: number }[] {
  return r.targets.map((target) => {
    const value = r.summary[target.stat];
    return { target, value, met: Number.isFinite(value) && value < target.below };
  });
}
