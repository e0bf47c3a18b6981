/**
 * The quorum server's lease table in-process (issue 3, benchmark b): 10,000 two-node
 * clusters, one partition of each renewing its lease every second, for a few simulated
 * seconds. Per-decision time (median, p99; target p99 < 1 ms), decisions per second of CPU
 * time, and the heap the table holds (target < 200 MB). No network: this is the pure core
 * every answer of the server goes through.
 */
import { ms, type Millis } from '../src/core/duration.js';
import { clusterName, nodeId } from '../src/core/ids.js';
import { membershipDigest, type LeaseAsk } from '../src/quorum-server/lease-ask.js';
import { LeaseTable } from '../src/quorum-server/lease-table.js';
import type { BenchContext } from './context.js';
import type { BenchmarkResult, Row } from './measurement.js';
import { summarize } from './summary.js';

const CLUSTERS = 10_000;
const SECONDS = 10;
const LEASE_MAX = ms(10_000);

export async function leaseTableBench(ctx: BenchContext): Promise<BenchmarkResult> {
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const table = new LeaseTable({ leaseMax: LEASE_MAX, startedAt: ms(0) });
  const digest = membershipDigest(Buffer.alloc(32, 7));
  const asks: LeaseAsk[] = Array.from({ length: CLUSTERS }, (_, i) => ({
    cluster: clusterName(`cluster-${i}`),
    node: nodeId('ny-1'),
    digest,
    partition: [nodeId('ny-1')],
    votes: 1,
    totalVotes: 2,
    lease: ms(4000),
    // Longer than the re-ask period (1 s): a partition stays in the running while it re-asks within its settle window.
    settle: ms(1500),
  }));
  // Past the table's start-up wait (no state file: one lease.max plus the gap).
  let now = LEASE_MAX + table.gap + 1;
  const samples: number[] = [];
  let granted = 0;
  let busy = 0;
  for (let second = 0; second < SECONDS; second++) {
    const base = now + second * 1000;
    for (let i = 0; i < CLUSTERS; i++) {
      // The renewals of one second, spread over it.
      const at = (base + (i * 1000) / CLUSTERS) as Millis;
      const t0 = performance.now();
      const decision = table.request(asks[i]!, at);
      const took = performance.now() - t0;
      busy += took;
      samples.push(took);
      if (decision.verdict === 'GRANTED') granted++;
    }
    ctx.progress(`lease-table second ${second + 1}/${SECONDS}: ${granted} grants so far`);
  }
  global.gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  const decisions = samples.length;
  const summary = summarize(samples as Millis[]);
  const latency: Row = {
    name: `one decision (${CLUSTERS} clusters renewing every second)`,
    subject: 'quorate',
    summary,
    samples: [],
    targets: [{ stat: 'p99', below: 1 }],
    note: `${decisions} decisions; samples not stored`,
  };
  return {
    name: 'lease-table',
    settings: { clusters: CLUSTERS, simulatedSeconds: SECONDS, leaseMax: LEASE_MAX, leaseAsked: 4000, settle: 1500 },
    rows: [latency],
    notes: [
      `${Math.round(decisions / (busy / 1000)).toLocaleString('en')} decisions per second of CPU time (${decisions} decisions in ${busy.toFixed(0)} ms); ${granted} grants or renewals.`,
      `Heap held by the table after ${decisions} decisions: ${heapMb.toFixed(1)} MB (target < 200 MB)${global.gc ? '' : ' (without --expose-gc: an upper bound, garbage included)'}.`,
      'In-process, no gRPC and no state file: the pure decision every answer of the server goes through.',
    ],
    facts: { decisionsPerCpuSecond: Math.round(decisions / (busy / 1000)), heapMb: Math.round(heapMb * 10) / 10, granted },
  };
}
