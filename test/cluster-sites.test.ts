/**
 * Two sites and a quorum server on real daemons (issue 3, item 9 a, b, d, e), over mutual TLS
 * from `quorate certs`: each site runs `quorate agent` with its own gobgpd, both peer with one
 * BIRD, and the outcome is read from BIRD's table, sampled in the background every few ms.
 *
 * The scenarios share one lab and run in order, each leaving the lab as the next expects:
 *   a/d. both sites up: both announce web, only NY (priority 200) announces db; stopping the
 *        quorum server changes nothing (2 of 2 votes: the server is not consulted);
 *   b.   NY's agent SIGKILLed (its guard takes gobgpd down): NJ keeps web and takes db, on a
 *        lease from the quorum server, never while NY's db is still at BIRD;
 *   e.   then the quorum server stopped too: NJ withdraws everything once its lease ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterLab, DB, WEB } from '../lab/cluster-lab.js';
import type { AnnouncementSampler } from '../lab/cluster-lab-sampler.js';
import type { Site } from '../lab/cluster-lab.js';
import { labRequirements } from '../lab/requirements.js';
import { ms } from '../src/core/duration.js';

const requirements = labRequirements({ programs: { nft: 'nftables', openssl: 'openssl' } });
if (!requirements.ok) console.warn(`cluster-sites tests skipped: ${requirements.reason}`);

const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

describe.skipIf(!requirements.ok)('two sites and a quorum server, seen from BIRD', () => {
  let lab: ClusterLab;
  let sampler: AnnouncementSampler<Site>;

  beforeAll(async () => {
    ({ lab, sampler } = await ClusterLab.up({ tag: 'clsites', tls: 'mutual' }));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('a/d. both sites up: both announce web, only NY announces db; stopping the quorum server changes nothing', async () => {
    await lab.waitAnnouncers(WEB, ['ny', 'nj']);
    await lab.waitAnnouncers(DB, ['ny']);
    const steady = sampler.mark();
    await lab.stopQuorumServer();
    await sleep(4000);
    const during = sampler.samples.slice(steady);
    expect(during.length).toBeGreaterThan(100);
    // Every sample while the server was down: web from both, db from NY alone.
    const off = during.filter((s) => s.announcers.get(WEB)?.size !== 2 || s.announcers.get(DB)?.size !== 1 || !s.announcers.get(DB)?.has('ny'));
    expect(off.length, sampler.timeline(steady).join('\n')).toBe(0);
    expect(sampler.overlaps(DB)).toEqual([]);
    // The server's next start finds its state file: it resumes, with no restart wait.
    await lab.startQuorumServer();
  });

  it('b. NY down (agent SIGKILL): NJ keeps web and takes db on a lease from the quorum server, never overlapping', async () => {
    await lab.waitAnnouncers(DB, ['ny']);
    const from = sampler.mark();
    const serverFrom = lab.server!.logs.length;
    const killedAt = Date.now();
    await lab.killAgent('ny');
    await lab.waitAnnouncers(WEB, ['nj']);
    const njHas = await sampler.waitFor(DB, ['nj'], from, ms(30_000));
    const nyGone = sampler.samples.slice(from).find((s) => !s.announcers.get(DB)?.has('ny'));
    console.info(`b: NY's db gone from BIRD after ${nyGone!.at - killedAt} ms; NJ's db there after ${njHas!.at - killedAt} ms`);
    console.info(`b: timeline\n${sampler.timeline(from).join('\n')}`);
    expect(sampler.overlaps(DB, from)).toEqual([]);
    expect(lab.grants(serverFrom)).toEqual([expect.stringContaining('[nj-1]')]);
    const nj = lab.agent('nj');
    await nj.waitForLog(/^quorum lease granted/, ms(1000));
  });

  it('e. NY down and the quorum server down: NJ withdraws everything once its lease ends', async () => {
    await lab.waitAnnouncers(DB, ['nj']);
    const from = sampler.mark();
    const stoppedAt = Date.now();
    await lab.stopQuorumServer();
    await lab.waitAnnouncers(DB, []);
    const gone = await sampler.waitFor(WEB, [], from, ms(30_000));
    console.info(`e: NJ withdrew everything ${gone!.at - stoppedAt} ms after the quorum server stopped`);
    // It stays withdrawn: no quorum without the server.
    const after = sampler.mark();
    await sleep(2000);
    expect(sampler.announcedBy(WEB, 'nj', after)).toEqual([]);
    expect(sampler.announcedBy(DB, 'nj', after)).toEqual([]);
    const nj = lab.agent('nj');
    expect(nj.logs.some((l) => /^no quorum/.test(l.msg))).toBe(true);
  });

  it('recovery: the server and NY back, both announce web and db returns to NY (preempt), never twice', async () => {
    const from = sampler.mark();
    await lab.startQuorumServer();
    await lab.startAgent('ny');
    await lab.waitSessions();
    await lab.waitAnnouncers(WEB, ['ny', 'nj']);
    await lab.waitAnnouncers(DB, ['ny']);
    const overlaps = sampler.overlaps(DB, from);
    // On failure: what each agent said about db around the first overlap.
    const around = overlaps.length === 0 ? [] : (['ny', 'nj'] as const).flatMap((site) => (lab.sites[site].agent?.logs ?? [])
      .filter((l) => Math.abs(Date.parse(l.time) - overlaps[0]!.at) < 3000 && (l.service === 'db' || /quorum|peer|lease/.test(l.msg)))
      .map((l) => `${site} ${Date.parse(l.time) - overlaps[0]!.at} ${l.msg}${l.previousHolder ? ` ${JSON.stringify(l.previousHolder)}` : ''}`));
    expect(overlaps, `${sampler.timeline(from).join('\n')}\n${around.sort().join('\n')}`).toEqual([]);
  });
});
