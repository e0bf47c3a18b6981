/**
 * (b) bulk: 10,000 prefixes announced until BIRD holds them all.
 *   quorate: one anycast service with 10,000 prefixes; `POST /drain/all`, wait until BIRD holds
 *            none, then t0 = `POST /undrain/all`, t1 = BIRD has imported all 10,000 on both
 *            sessions (eBGP `speaker` and iBGP `speaker_i`).
 *   gobgp mrt inject: the same 10,000 from an MRT TABLE_DUMP_V2 file into an external gobgpd
 *            peered the same way; gobgp 3.10's inject drops the tail of a large file (its
 *            stream is never closed), so the file carries the last 1,000 prefixes twice: what
 *            is dropped at its end are duplicates.
 *   gobgp global rib add: one CLI call per prefix, for a sample only; the full 10,000 is an
 *            extrapolation, labelled as such.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ms, type Millis } from '../src/core/duration.js';
import { AgentLab, EBGP, IBGP, SERVER_AS, SERVER_V4, SERVER_V6 } from '../lab/agent-lab.js';
import { between, epochNow, sleep, type EpochMillis } from './clock.js';
import { importedCount, untilImported } from './bird-watch.js';
import { benchAgentConfig, statusUrl } from './agent-config.js';
import { BULK_COUNT, bulkPrefixes } from './bulk-prefixes.js';
import type { BenchContext } from './context.js';
import { row, type BenchmarkResult } from './measurement.js';
import { tableDumpV2 } from './mrt-table-dump.js';
import { NamespaceHttp } from './namespace-http.js';

/** Bulk trials are long and the spread small: at most this many (the rest of --trials). */
export const BULK_MAX_TRIALS = 5;
/** Prefixes sent again after the first inject (more than gobgp 3.10 was seen to drop). */
export const MRT_TAIL = 1000;
/** Prefixes in the one-call-per-prefix sample. */
export const RIB_ADD_SAMPLE = 1000;
const SESSIONS = [EBGP, IBGP] as const;
const LOAD_TIMEOUT = ms(30_000);
const SETTLE = ms(500);
/**
 * Polling BIRD twice per query (two sessions) every millisecond competes for the 2 cores
 * with the very daemons being timed while they move 10,000 routes; 5 ms is resolution
 * enough for a figure near a second.
 */
const BULK_POLL = ms(5);

export async function bulkBench(ctx: BenchContext): Promise<BenchmarkResult> {
  const trials = Math.min(ctx.trials, BULK_MAX_TRIALS);
  const prefixes = bulkPrefixes();
  // The agent's default reconcile interval (1s), and a long one as a diagnostic: the periodic
  // full sync lists all 10,000 paths from gobgpd, and a change waits for a sync in flight.
  const agentRuns: AgentBulkRun[] = [];
  await ctx.withLab(
    () => AgentLab.create({ tag: 'bbulk', speaker: 'run' }),
    async (lab) => {
      const http = await NamespaceHttp.start(lab.server);
      for (const reconcileInterval of ['1s', '60s']) {
        agentRuns.push(await agentBulkTrials(ctx, lab, http, reconcileInterval, trials));
      }
    },
  );
  const [agentDefault, agentLongSync] = agentRuns as [AgentBulkRun, AgentBulkRun];

  const mrtTimes: Millis[] = [];
  const mrtFirst: Millis[] = [];
  let singleInjectHeld = -1;
  let ribAdd: { sample: number; ms: Millis } | undefined;
  await ctx.withLab(
    () => AgentLab.create({ tag: 'bmrt', speaker: 'external' }),
    async (lab) => {
      await lab.waitSessions();
      const file = join(lab.dir, 'bulk.mrt');
      await writeFile(file, tableDumpV2({ peerAs: SERVER_AS, peerBgpId: SERVER_V4, nextHop: SERVER_V6, prefixes }));
      // The same 10,000 followed by the last MRT_TAIL again: what inject drops at its end are
      // then duplicates. (A second inject of the tail alone loses its own tail the same way.)
      const padded = join(lab.dir, 'bulk-padded.mrt');
      await writeFile(padded, tableDumpV2({ peerAs: SERVER_AS, peerBgpId: SERVER_V4, nextHop: SERVER_V6, prefixes: [...prefixes, ...prefixes.slice(-MRT_TAIL)] }));
      const clear = async (): Promise<void> => {
        await lab.gobgp(['global', 'rib', '-a', 'ipv6', 'del', 'all']);
        await untilImported(lab.bird.control, SESSIONS, 'ipv6', 0, LOAD_TIMEOUT, BULK_POLL);
        await sleep(SETTLE);
      };

      // Once, for the record: what one inject of the whole file leaves at BIRD.
      await lab.gobgp(['mrt', 'inject', 'global', file]);
      await sleep(ms(3000));
      singleInjectHeld = await importedCount(lab.bird.control, EBGP, 'ipv6');
      ctx.progress(`bulk mrt: one inject of ${BULK_COUNT} left ${singleInjectHeld} at BIRD`);
      await clear();

      for (let i = 0; i < trials; i++) {
        const t0 = epochNow();
        const injected = lab.gobgp(['mrt', 'inject', 'global', padded]);
        const { firstAt, allAt } = await untilImported(lab.bird.control, SESSIONS, 'ipv6', BULK_COUNT, LOAD_TIMEOUT, BULK_POLL);
        await injected;
        mrtTimes.push(between(t0, allAt));
        if (firstAt) mrtFirst.push(between(t0, firstAt));
        ctx.progress(`bulk mrt inject ${i + 1}/${trials}: ${mrtTimes.at(-1)!.toFixed(0)} ms`);
        await clear();
      }

      // One CLI process per prefix: a sample, measured once.
      const sample = prefixes.slice(0, RIB_ADD_SAMPLE);
      const t0: EpochMillis = epochNow();
      for (const p of sample) await lab.gobgp(['global', 'rib', 'add', '-a', 'ipv6', p.key, 'nexthop', SERVER_V6]);
      const { allAt } = await untilImported(lab.bird.control, SESSIONS, 'ipv6', sample.length, LOAD_TIMEOUT, BULK_POLL);
      ribAdd = { sample: sample.length, ms: between(t0, allAt) };
      ctx.progress(`bulk rib add: ${sample.length} prefixes in ${ribAdd.ms.toFixed(0)} ms`);
    },
  );

  const perPrefix = ribAdd ? ribAdd.ms / ribAdd.sample : NaN;
  return {
    name: 'bulk',
    settings: {
      prefixes: `${BULK_COUNT} × 2001:db8:100:N::/64`,
      trials,
      counted: 'until BIRD has imported all of them on both sessions (eBGP speaker, iBGP speaker_i), polled every 5 ms via `show protocols all`',
      quorate: 'one anycast service, http check 100ms/1s/rise 2/fall 2, gobgpd run by the agent; t0 = POST /undrain/all sent (from a helper inside the server namespace); reconcile-interval 1s (the default), then 60s as a diagnostic',
      mrt: `gobgp mrt inject global FILE, FILE holding the ${BULK_COUNT} prefixes and then the last ${MRT_TAIL} of them again; external gobgpd`,
      ribAdd: `${RIB_ADD_SAMPLE} sequential \`gobgp global rib add -a ipv6 PREFIX nexthop ${SERVER_V6}\`, one trial`,
    },
    rows: [
      row(`undrain → all ${BULK_COUNT} at BIRD`, 'quorate', agentDefault.all, [{ stat: 'median', below: 1000 }], 'reconcile-interval 1s, the default'),
      row('undrain → first route at BIRD', 'quorate', agentDefault.first, [], 'reconcile-interval 1s'),
      row(`undrain → all ${BULK_COUNT} at BIRD`, 'quorate', agentLongSync.all, [], 'diagnostic: reconcile-interval 60s'),
      row(`mrt inject (tail sent twice) → all ${BULK_COUNT} at BIRD`, 'gobgp CLI', mrtTimes),
      row('inject start → first route at BIRD', 'gobgp CLI', mrtFirst),
      row(`rib add × ${ribAdd?.sample ?? RIB_ADD_SAMPLE} → all at BIRD`, 'gobgp CLI', ribAdd ? [ribAdd.ms] : [], [], 'measured sample'),
      row(`rib add × ${BULK_COUNT}`, 'gobgp CLI', Number.isFinite(perPrefix) ? [ms(perPrefix * BULK_COUNT)] : [], [], 'EXTRAPOLATED from the sample, not measured'),
    ],
    notes: [
      `${trials} trials for quorate and mrt inject (each bulk trial moves 10,000 routes twice; the spread comes from the shared 2-core machine more than from the count); the rib add sample ran once.`,
      `One inject of the whole file (no re-send) left ${singleInjectHeld} of ${BULK_COUNT} routes at BIRD after 3 s (gobgp 3.10 does not close its AddPathStream).`,
      ribAdd ? `rib add: ${(1000 / perPrefix).toFixed(0)} prefixes/s measured (${perPrefix.toFixed(1)} ms per call).` : 'rib add: not measured.',
    ],
    facts: { singleInjectHeld, ribAdd },
  };
}

interface AgentBulkRun {
  reconcileInterval: string;
  all: Millis[];
  first: Millis[];
}

/** Starts the agent with the 10,000-prefix service, times `trials` drain/undrain rounds, stops it. */
async function agentBulkTrials(ctx: BenchContext, lab: AgentLab, http: NamespaceHttp, reconcileInterval: string, trials: number): Promise<AgentBulkRun> {
  const config = benchAgentConfig(lab, {
    name: 'bulk',
    prefixes: bulkPrefixes().map((p) => p.key),
    interval: '100ms',
    timeout: '90ms',
    rise: 2,
    fall: 2,
    reconcileInterval,
  });
  const agent = await lab.startAgent(await lab.writeConfig(config, `agent-${reconcileInterval}.yaml`));
  await lab.waitSessions();
  await untilImported(lab.bird.control, SESSIONS, 'ipv6', BULK_COUNT, LOAD_TIMEOUT, BULK_POLL);
  const run: AgentBulkRun = { reconcileInterval, all: [], first: [] };
  for (let i = 0; i < trials; i++) {
    await http.request('POST', statusUrl('/drain/all'));
    await untilImported(lab.bird.control, SESSIONS, 'ipv6', 0, LOAD_TIMEOUT, BULK_POLL);
    await sleep(SETTLE);
    const { sentAt } = await http.request('POST', statusUrl('/undrain/all'));
    const { firstAt, allAt } = await untilImported(lab.bird.control, SESSIONS, 'ipv6', BULK_COUNT, LOAD_TIMEOUT, BULK_POLL);
    run.all.push(between(sentAt, allAt));
    if (firstAt) run.first.push(between(sentAt, firstAt));
    ctx.progress(`bulk quorate (reconcile ${reconcileInterval}) ${i + 1}/${trials}: ${run.all.at(-1)!.toFixed(0)} ms`);
  }
  // SIGTERM: the agent withdraws everything before it exits, so the next run starts clean.
  await agent.process.stop(ms(10_000));
  await untilImported(lab.bird.control, SESSIONS, 'ipv6', 0, LOAD_TIMEOUT, BULK_POLL);
  return run;
}
