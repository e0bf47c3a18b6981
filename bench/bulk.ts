import type { BenchContext } from './context.js';
import type { BenchmarkResult } from './measurement.js';
export async function bulkBench(_ctx: BenchContext): Promise<BenchmarkResult> { throw new Error('todo'); }
