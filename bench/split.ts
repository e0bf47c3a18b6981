/**
 * (issue 3, benchmark a) split resolution on the two-site lab: the link between NY and NJ is
 * cut with nftables (both sites still reach the router and the quorum server), and we time
 * how long the losing side takes to withdraw everything at BIRD (`web` and `db` both gone from
 * that site). Beside it the bound `dead-after + settle window + lease` from the lab's own
 * settings, and for the winner its outage of `db` around the cut (a node that loses its
 * majority withdraws at once and serves again only once the server grants it the lease).
 * Between trials the link heals and the cluster settles: web from both sites, db back at NY.
 */
import { ms, type Millis } from '../src/core/duration.js';
import { ClusterLab, DB, SITES, WEB, otherSite, type Site } from '../lab/cluster-lab.js';
import type { Sample } from '../lab/cluster-lab-sampler.js';
import { sleep } from './clock.js';
import type { BenchContext } from './context.js';
import { row, type BenchmarkResult } from './measurement.js';

const TRIALS = 10;
/** The lab's defaults (lab/cluster-lab.ts agentConfig / ClusterLabOptions), restated to compute the bound. */
const HEARTBEAT_INTERVAL: Millis = ms(100);
const DEAD_AFTER: Millis = ms(500);
/** What the agent sends (src/cluster/server-module.ts): dead-after plus one heartbeat interval. */
const SETTLE: Millis = ms(DEAD_AFTER + HEARTBEAT_INTERVAL);
const LEASE: Millis = ms(2000);
const BOUND: Millis = ms(DEAD_AFTER + SETTLE + LEASE);
/** Bounds for a stuck lab, not measurements. */
const STEP_TIMEOUT: Millis = ms(30_000);
/** After the winner serves alone: keep watching so a loser that came back would be seen. */
const HOLD_AFTER: Millis = ms(1000);
/** After the heal: let heartbeats, renewals and reconciles run a few periods before the next cut. */
const SETTLE_BETWEEN: Millis = ms(1500);

type Announcers = Sample<Site | 'unknown'>;

function has(sample: Announcers, prefix: string, site: Site): boolean {
  return sample.announcers.get(prefix)?.has(site) ?? false;
}

export async function splitBench(ctx: BenchContext): Promise<BenchmarkResult> {
  const trials = Math.min(ctx.trials, TRIALS);
  const loserGone: Millis[] = [];
  const winnerOutage: Millis[] = [];
  const winners: Site[] = [];
  let dbOverlaps = 0;
  let loserReturned = 0;
  let samplerGap = 0;
  await ctx.withLab(
    async () => (await ClusterLab.up({ tag: 'bsplit', tls: 'mutual', lease: `${LEASE}ms`, leaseMax: '3s' })).lab,
    async (lab) => {
      const sampler = lab.sampler!;
      try {
        for (let i = 0; i < trials; i++) {
          await settled(lab);
          await sleep(SETTLE_BETWEEN);
          const from = sampler.mark();
          // Date.now(): the sampler's clock. Taken right before nft runs (the fault itself takes a few ms of exec).
          const cutAt = Date.now();
          await lab.linkFault('cut');
          // The winner by what BIRD holds: a renewed lease logs no grant (cluster-lab.ts).
          const winner = await lab.waitForLoneAnnouncer(WEB, ms(1500), STEP_TIMEOUT);
          const loser = otherSite(winner);
          await sampler.waitFor(WEB, [winner], from, STEP_TIMEOUT);
          await sampler.waitFor(DB, [winner], from, STEP_TIMEOUT);
          await sleep(HOLD_AFTER);
          const samples = sampler.samples.slice(from);
          const goneIndex = samples.findIndex((s) => !has(s, WEB, loser) && !has(s, DB, loser));
          if (goneIndex < 0) throw new Error(`bench split: ${loser} never withdrew\n${sampler.timeline(from).join('\n')}`);
          loserGone.push(ms(samples[goneIndex]!.at - cutAt));
          loserReturned += samples.slice(goneIndex).filter((s) => has(s, WEB, loser) || has(s, DB, loser)).length > 0 ? 1 : 0;
          dbOverlaps += sampler.overlaps(DB, from).length;
          winnerOutage.push(dbOutage(samples, winner));
          winners.push(winner);
          ctx.progress(`split ${i + 1}/${trials}: ${winner} won; ${loser} gone at BIRD after ${loserGone.at(-1)!} ms; ` +
            `${winner}'s db outage ${winnerOutage.at(-1)!} ms`);
          await lab.healLink();
        }
        await settled(lab);
      } finally {
        samplerGap = sampler.maxGap; // the lab's teardown stops the sampler
      }
    },
  );
  const allUnder = loserGone.every((t) => t < BOUND);
  const wins = SITES.map((s) => `${s} ${winners.filter((w) => w === s).length}`).join(', ');
  return {
    name: 'split',
    settings: {
      trials, heartbeatInterval: HEARTBEAT_INTERVAL, deadAfter: DEAD_AFTER, settle: SETTLE, lease: LEASE, leaseMax: 3000,
      bound: BOUND, tls: 'mutual', fault: 'nftables drop both ways in NY between the sites',
    },
    rows: [
      row('link cut → loser withdrew web and db at BIRD', 'quorate', loserGone, [{ stat: 'max', below: BOUND }]),
      row('winner: db absent at BIRD around the cut', 'quorate', winnerOutage),
    ],
    notes: [
      `Bound dead-after ${DEAD_AFTER} + settle window ${SETTLE} + lease ${LEASE} = ${BOUND} ms: ${allUnder ? 'every trial stayed under it' : 'NOT every trial stayed under it'}.`,
      `Winners: ${wins}. Samples with db from both sites: ${dbOverlaps}. Trials where the loser announced again before the heal: ${loserReturned}.`,
      `BIRD read by the lab's sampler (lab/cluster-lab-sampler.ts, Date.now() ms); longest gap between its readings ${samplerGap} ms — the resolution of both rows.`,
      'The cut time is taken right before `nft` runs in NY\'s namespace; the few ms of exec are inside every figure.',
    ],
    facts: { bound: BOUND, allUnderBound: allUnder, winners, dbOverlapSamples: dbOverlaps, loserReturnedTrials: loserReturned, samplerMaxGapMs: samplerGap },
  };
}

/** Both sites see each other again (web from both needs quorum at both: the winner holds the lease) and db is back at NY. */
async function settled(lab: ClusterLab): Promise<void> {
  await lab.waitAnnouncers(WEB, ['ny', 'nj'], STEP_TIMEOUT);
  await lab.waitAnnouncers(DB, ['ny'], STEP_TIMEOUT);
}

/**
 * How long `winner`'s db was absent at BIRD after the cut: from the first sample without it to
 * the first later sample with it again (0 when it never left).
 */
function dbOutage(samples: readonly Announcers[], winner: Site): Millis {
  const leftIndex = samples.findIndex((s) => !has(s, DB, winner));
  if (leftIndex < 0) return ms(0);
  const back = samples.slice(leftIndex).find((s) => has(s, DB, winner));
  if (!back) throw new Error(`bench split: ${winner} never served db again`);
  return ms(back.at - samples[leftIndex]!.at);
}
