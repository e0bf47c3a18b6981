/**
 * `npm run bench` — the benchmarks, each beside its baseline in the same run:
 *   failover  service SIGKILL → route gone at BIRD: quorate vs ExaBGP's healthcheck
 *   bulk      10,000 prefixes to BIRD: quorate undrain vs `gobgp mrt inject` vs `gobgp global rib add`
 *   sigkill   agent SIGKILL → routes gone at BIRD, vs SIGKILL of exabgp
 *   lease-table  the quorum server's lease table in-process: 10,000 clusters renewing every second
 *   split     link cut between the two sites → the losing side withdrew everything at BIRD
 *   quorum-e2e  1,000 clusters renewing every second over mutual TLS: answer time, CPU of generator and server
 *   arp       ARP takeover on one segment (service, host, agent death): outage seen by a client, vs keepalived
 * Flags: --trials N (default 20), --only NAME[,NAME]. Prints a table; writes bench/results/<date>.json.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { labRequirements } from '../lab/requirements.js';
import { arpFailoverBench } from './arp-failover.js';
import { bulkBench } from './bulk.js';
import type { BenchContext, Teardownable } from './context.js';
import { failoverBench } from './failover.js';
import { leaseTableBench } from './lease-table.js';
import { machineInfo } from './machine.js';
import type { BenchmarkResult } from './measurement.js';
import { quorumE2eBench } from './quorum-e2e.js';
import { renderTable } from './report-table.js';
import { writeResults } from './results-file.js';
import { sigkillBench } from './sigkill.js';
import { splitBench } from './split.js';

const BENCHES = { failover: failoverBench, bulk: bulkBench, sigkill: sigkillBench, 'lease-table': leaseTableBench, split: splitBench, 'quorum-e2e': quorumE2eBench, arp: arpFailoverBench } as const;
type BenchName = keyof typeof BENCHES;

function parseFlags(argv: string[]): { trials: number; only: BenchName[]; partial: boolean } {
  const { values } = parseArgs({ args: argv, options: { trials: { type: 'string', default: '20' }, only: { type: 'string' } } });
  const trials = Number(values.trials);
  if (!Number.isInteger(trials) || trials < 1) throw new Error(`--trials must be a positive integer, got "${values.trials}"`);
  const names = values.only ? values.only.split(',').map((n) => n.trim()) : Object.keys(BENCHES);
  for (const name of names) if (!(name in BENCHES)) throw new Error(`--only: unknown benchmark "${name}" (${Object.keys(BENCHES).join('|')})`);
  return { trials, only: names as BenchName[], partial: values.only !== undefined };
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const requirements = labRequirements({ programs: { exabgp: 'exabgp', curl: 'curl' } });
  if (!requirements.ok) {
    console.error(`bench: cannot run: ${requirements.reason}`);
    return 2;
  }
  const live = new Set<Teardownable>();
  // Set on Ctrl-C / SIGTERM: resolves once every live lab is torn down, then the run exits.
  let interrupted: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    console.error(`\nbench: ${signal}: tearing down ${live.size} lab(s)…`);
    interrupted = Promise.allSettled([...live].map((l) => l.teardown())).then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const ctx: BenchContext = {
    trials: flags.trials,
    progress: (message) => process.stderr.write(`  ${message}\n`),
    async withLab(create, body) {
      const lab = await create();
      live.add(lab);
      try {
        return await body(lab);
      } finally {
        live.delete(lab);
        await lab.teardown();
      }
    },
  };

  const startedAt = new Date().toISOString();
  const machine = await machineInfo();
  const results: BenchmarkResult[] = [];
  const failures: { name: string; error: string }[] = [];
  for (const name of flags.only) {
    process.stderr.write(`bench ${name} (${flags.trials} trials)\n`);
    try {
      results.push(await BENCHES[name](ctx));
    } catch (err) {
      // The teardown under way made the benchmark fail: let it finish, it exits the process.
      if (interrupted) await interrupted;
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      console.error(`bench ${name} failed: ${error}`);
      failures.push({ name, error });
    }
  }
  const path = await writeResults({
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    trials: flags.trials,
    machine,
    results,
    failures,
    loadAverageAtEnd: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  }, flags.partial ? flags.only : undefined);
  process.stdout.write(`\n${renderTable(results)}`);
  for (const r of results) for (const note of r.notes) process.stdout.write(`- ${r.name}: ${note}\n`);
  process.stdout.write(`\nmachine: ${machine.nproc} × ${machine.cpu}, Linux ${machine.kernel}, Node ${machine.node}, gobgpd ${machine.gobgpd}, BIRD ${machine.bird}, exabgp ${machine.exabgp}; load average at start ${machine.loadAverageAtStart}\n`);
  process.stdout.write(`results: ${path}\n`);
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
