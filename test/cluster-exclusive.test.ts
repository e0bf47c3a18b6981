/**
 * Exclusive placement and membership agreement across two sites on real daemons (issue 3,
 * item 9 i and k). This file keeps TLS off (`tls: { insecure: true }`) to stay simple; the
 * split scenarios run over mutual TLS.
 *
 *   i. the holder's db service dies → NJ takes db, never both at any sample; with preempt true
 *      NY takes it back once healthy, with preempt false it stays at NJ;
 *   k. configs that disagree on the members (another digest) never count each other: each
 *      alone holds exactly half of its own total (a tie), and the quorum server lets at most
 *      one of them serve.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterLab, DB, SITES, WEB, type Site } from '../lab/cluster-lab.js';
import type { AnnouncementSampler } from '../lab/cluster-lab-sampler.js';
import { labRequirements } from '../lab/requirements.js';
import { quorateBin } from '../lab/agent-lab.js';
import { join } from 'node:path';
import { ms } from '../src/core/duration.js';

const requirements = labRequirements();
if (!requirements.ok) console.warn(`cluster-exclusive tests skipped: ${requirements.reason}`);

const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

describe.skipIf(!requirements.ok)('exclusive placement between two sites, seen from BIRD', () => {
  let lab: ClusterLab;
  let sampler: AnnouncementSampler<Site>;

  beforeAll(async () => {
    ({ lab, sampler } = await ClusterLab.up({ tag: 'clexcl', tls: 'insecure' }));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  /** NY's db service dies: NJ takes db; never both. Returns the sample index at the kill. */
  async function failNyDb(label: string): Promise<number> {
    await lab.waitAnnouncers(WEB, ['ny', 'nj']);
    await lab.waitAnnouncers(DB, ['ny']);
    const from = sampler.mark();
    const killedAt = Date.now();
    await lab.sites.ny.db.kill();
    const njThere = await sampler.waitFor(DB, ['nj'], from, ms(30_000));
    const nyGone = sampler.samples.slice(from).find((s) => !s.announcers.get(DB)?.has('ny'))!;
    console.info(`${label}: NY's db gone ${nyGone.at - killedAt} ms after the kill, NJ's there ${njThere.at - killedAt} ms after`);
    expect(sampler.overlaps(DB, from), sampler.timeline(from).join('\n')).toEqual([]);
    // web is another service: NY keeps announcing it throughout.
    expect(sampler.samples.slice(from).filter((s) => !s.announcers.get(WEB)?.has('ny'))).toEqual([]);
    return from;
  }

  it('i. preempt true: NY\'s db dies → NJ takes it, never both; NY healthy again takes it back', async () => {
    const from = await failNyDb('i/preempt');
    lab.sites.ny.db = await lab.sites.ny.db.restart();
    await lab.waitAnnouncers(DB, ['ny']);
    expect(sampler.overlaps(DB, from), sampler.timeline(from).join('\n')).toEqual([]);
    console.info(`i/preempt timeline\n${sampler.timeline(from).join('\n')}`);
  });

  it('i. preempt false: NY\'s db dies → NJ takes it and keeps it when NY is healthy again', async () => {
    await Promise.all(SITES.map((s) => lab.reloadAgent(s, { preempt: false })));
    const from = await failNyDb('i/no-preempt');
    const nyLogs = lab.agent('ny').logs.length;
    lab.sites.ny.db = await lab.sites.ny.db.restart();
    await lab.agent('ny').waitForLog((l) => l.msg === 'service healthy' && l.service === 'db', ms(10_000), nyLogs);
    const healthyAgain = sampler.mark();
    await sleep(3000);
    expect(sampler.announcedBy(DB, 'ny', healthyAgain), sampler.timeline(from).join('\n')).toEqual([]);
    expect(sampler.samples.slice(healthyAgain).filter((s) => !s.announcers.get(DB)?.has('nj')), sampler.timeline(from).join('\n')).toEqual([]);
    expect(sampler.overlaps(DB, from)).toEqual([]);
    // Back to the lab's usual state for the next scenario: preempt on, db returns to NY.
    await Promise.all(SITES.map((s) => lab.reloadAgent(s, { preempt: true })));
    await lab.waitAnnouncers(DB, ['ny']);
    expect(sampler.overlaps(DB, from)).toEqual([]);
  });

  it('drain: `quorate drain db` at the holder hands db to NJ, never both; it stays drained across a restart; undrain takes it back', async () => {
    await lab.waitAnnouncers(WEB, ['ny', 'nj']);
    await lab.waitAnnouncers(DB, ['ny']);
    const config = join(lab.sites.ny.dir, 'agent.yaml');
    const cli = (command: string) => lab.sites.ny.ns.exec(process.execPath, [quorateBin(), command, 'db', '--config', config]);
    const from = sampler.mark();
    const drainedAt = Date.now();
    expect((await cli('drain')).stdout).toMatch(/^db: drained \(agent on .*\); nj-1 takes it over$/m);
    const njThere = await sampler.waitFor(DB, ['nj'], from, ms(30_000));
    const nyGone = sampler.samples.slice(from).find((s) => !s.announcers.get(DB)?.has('ny'))!;
    console.info(`drain: NY's db gone ${nyGone.at - drainedAt} ms after the command, NJ's there ${njThere.at - drainedAt} ms after`);
    expect(sampler.overlaps(DB, from), sampler.timeline(from).join('\n')).toEqual([]);
    expect(sampler.samples.slice(from).filter((s) => !s.announcers.get(WEB)?.has('ny'))).toEqual([]); // web untouched

    // A restart keeps the drain: the maintenance file is read before the first decision.
    const handedOver = sampler.mark();
    await lab.stopAgent('ny');
    await lab.startAgent('ny');
    await lab.waitAnnouncers(WEB, ['ny', 'nj']);
    await sleep(2000);
    expect(sampler.announcedBy(DB, 'ny', handedOver), sampler.timeline(from).join('\n')).toEqual([]);

    await cli('undrain');
    await lab.waitAnnouncers(DB, ['ny']);
    expect(sampler.overlaps(DB, from), sampler.timeline(from).join('\n')).toEqual([]);
  });

  it('k. configs that disagree on the members never count each other; at most one site serves', async () => {
    await lab.waitAnnouncers(WEB, ['ny', 'nj']);
    // NY's file gives each node 2 votes, NJ's 1: both are two-member clusters, but their digests differ.
    await Promise.all([lab.stopAgent('ny'), lab.stopAgent('nj')]);
    const from = sampler.mark();
    await Promise.all([lab.startAgent('ny', { votes: { self: 2, peer: 2 } }), lab.startAgent('nj')]);
    await lab.waitSessions();
    await lab.agent('ny').waitForLog(/^heartbeat to nj-1 does not count \(digest/, ms(10_000));
    await lab.agent('nj').waitForLog(/^heartbeat to ny-1 does not count \(digest/, ms(10_000));
    await sleep(4000);
    const since = sampler.samples.slice(from);
    // Never both sites: neither for web (anycast) nor for db.
    expect(since.filter((s) => (s.announcers.get(WEB)?.size ?? 0) > 1), sampler.timeline(from).join('\n')).toEqual([]);
    expect(sampler.overlaps(DB, from)).toEqual([]);
    for (const site of SITES) {
      const logs = lab.agent(site).logs;
      expect(logs.some((l) => /^peer .* seen/.test(l.msg)), `${site} counted its peer`).toBe(false);
      expect(logs.some((l) => /^quorum held: voting/.test(l.msg))).toBe(false);
    }
    const last = sampler.samples.at(-1)!;
    console.info(`k: after 4 s, web from [${[...last.announcers.get(WEB)!]}], db from [${[...last.announcers.get(DB)!]}]; server said:\n` +
      lab.server!.logs.filter((l) => /lease of payments/.test(l.msg)).slice(-4).map((l) => l.msg).join('\n'));
    expect(last.announcers.get(WEB)!.size).toBeLessThanOrEqual(1);
  });
});
