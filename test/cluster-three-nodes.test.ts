/**
 * A three-node cluster on real daemons (issue 3, item 9h), over mutual TLS: sites NY, NJ and
 * CH, each with `quorate agent` and its own gobgpd, all peered with one BIRD; the outcome is
 * read from BIRD's table, sampled every few ms. Each agent's quorum chain is
 * `[voting, server]`: the server module is configured, and must never be consulted, since
 * three equal votes never tie (3 of 3, 2 of 3: a majority; 1 of 3: a minority).
 *
 * "Never consulted" is read at the quorum server, from two sides: nftables counters in its
 * namespace (packets from each site to its port: gRPC connects only for a call, so zero
 * packets means no request) and its log (no grant, refusal or release for the cluster).
 *
 *   all up: web from all three, db (exclusive) from CH alone (priority 300);
 *   NY–CH cut, CH holding: NY and CH each keep 2 of 3 votes through NJ; db never from two sites,
 *     CH keeps it; heal → still CH alone;
 *   NY–CH cut, NY holding (CH's db unhealthy) and CH the highest priority once healthy again:
 *     CH must not take db while NJ still sees NY (the non-transitive rule); heal → db moves to
 *     CH (preempt) without overlap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentLogLine } from '../lab/agent-lab.js';
import { ClusterLab, CLUSTER, DB, SITE, THREE_SITES, WEB, type Site } from '../lab/cluster-lab.js';
import type { AnnouncementSampler } from '../lab/cluster-lab-sampler.js';
import { labRequirements } from '../lab/requirements.js';
import { ms } from '../src/core/duration.js';

const requirements = labRequirements({ programs: { nft: 'nftables', openssl: 'openssl' } });
if (!requirements.ok) console.warn(`cluster-three-nodes tests skipped: ${requirements.reason}`);

const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

describe.skipIf(!requirements.ok)('three nodes, the NY–CH link cut, seen from BIRD', () => {
  let lab: ClusterLab;
  let sampler: AnnouncementSampler<Site>;

  beforeAll(async () => {
    ({ lab, sampler } = await ClusterLab.up({ tag: 'cl3', tls: 'mutual', sites: 3 }, (l) => l.countServerTraffic()));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  /** Nothing from the cluster reached the quorum server: no packet to its port, no lease event in its log. */
  async function expectServerNeverConsulted(): Promise<void> {
    expect(await lab.serverTraffic()).toEqual({ ny: 0, nj: 0, ch: 0 });
    expect(lab.grants()).toEqual([]);
    const aboutCluster = lab.server!.logs.filter((l) => l.cluster === CLUSTER || l.msg.includes(`lease of ${CLUSTER}`) || /^refused/.test(l.msg));
    expect(aboutCluster.map((l) => l.msg)).toEqual([]);
    for (const site of THREE_SITES) {
      expect(lab.agent(site).logs.filter((l) => /asking the quorum server|quorum lease/.test(l.msg)).map((l) => l.msg), site).toEqual([]);
    }
  }

  /** Waits until `site`'s agent logs that it lost `peer` (from log index `from`). */
  function waitLost(site: Site, peer: Site, from: number): Promise<AgentLogLine> {
    return lab.agent(site).waitForLog(new RegExp(`^peer ${SITE[peer].node} lost`), ms(10_000), from);
  }

  function waitSeen(site: Site, peer: Site, from: number): Promise<AgentLogLine> {
    return lab.agent(site).waitForLog(new RegExp(`^peer ${SITE[peer].node} seen`), ms(10_000), from);
  }

  it('all three up: web from all, db from CH alone; the quorum server hears nothing', async () => {
    await lab.waitAnnouncers(WEB, THREE_SITES);
    await lab.waitAnnouncers(DB, ['ch']);
    const steady = sampler.mark();
    await sleep(1000);
    const off = sampler.samples.slice(steady).filter((s) => s.announcers.get(WEB)?.size !== 3 || s.announcers.get(DB)?.size !== 1 || !s.announcers.get(DB)?.has('ch'));
    expect(off.length, sampler.timeline(steady).join('\n')).toBe(0);
    expect(sampler.overlaps(DB)).toEqual([]);
    await expectServerNeverConsulted();
  });

  it('NY–CH cut with CH holding db: NY and CH keep quorum through NJ, db never from two sites, CH keeps it; heal: CH alone', async () => {
    await lab.waitAnnouncers(DB, ['ch']);
    const from = sampler.mark();
    const logs = { ny: lab.agent('ny').logs.length, ch: lab.agent('ch').logs.length };
    const cutAt = Date.now();
    await lab.linkFault('cut', ['ny', 'ch']);
    await Promise.all([waitLost('ny', 'ch', logs.ny), waitLost('ch', 'ny', logs.ch)]);
    // Long enough for any takeover wait (a vanished holder's bound is under 2 s here) to pass.
    await sleep(3000);
    const during = sampler.samples.slice(from);
    console.info(`h/CH holds: NY–CH cut at +0 ms; timeline\n${sampler.timeline(from).join('\n')}`);
    expect(sampler.overlaps(DB, from), sampler.timeline(from).join('\n')).toEqual([]);
    // The holder keeps it (it keeps its majority through NJ), and web stays everywhere: each of the three still has 2 or 3 of 3 votes.
    expect(during.filter((s) => s.announcers.get(DB)?.size !== 1 || !s.announcers.get(DB)?.has('ch')), sampler.timeline(from).join('\n')).toEqual([]);
    expect(during.filter((s) => s.announcers.get(WEB)?.size !== 3), sampler.timeline(from).join('\n')).toEqual([]);
    for (const site of ['ny', 'ch'] as const) {
      expect(lab.agent(site).logs.slice(logs[site]).filter((l) => /^no quorum/.test(l.msg)).map((l) => l.msg), site).toEqual([]);
    }
    await expectServerNeverConsulted();

    const healFrom = sampler.mark();
    const healedAt = Date.now();
    const healLogs = { ny: lab.agent('ny').logs.length, ch: lab.agent('ch').logs.length };
    await lab.healLink();
    await Promise.all([waitSeen('ny', 'ch', healLogs.ny), waitSeen('ch', 'ny', healLogs.ch)]);
    await sleep(1000);
    expect(sampler.samples.slice(healFrom).filter((s) => s.announcers.get(DB)?.size !== 1 || !s.announcers.get(DB)?.has('ch')), sampler.timeline(healFrom).join('\n')).toEqual([]);
    console.info(`h/CH holds: the cut lasted ${healedAt - cutAt} ms; db stayed at CH alone through the cut and the heal`);
    await expectServerNeverConsulted();
  });

  it('NY–CH cut with NY holding and CH the highest priority: CH does not take db while NJ still sees NY; heal: db moves to CH without overlap', async () => {
    // CH's db fails: db moves to NY (priority 200 over NJ's 100).
    const moveFrom = sampler.mark();
    lab.sites.ch.db.failHealth();
    await lab.waitAnnouncers(DB, ['ny']);
    expect(sampler.overlaps(DB, moveFrom), sampler.timeline(moveFrom).join('\n')).toEqual([]);

    const from = sampler.mark();
    const logs = { ny: lab.agent('ny').logs.length, ch: lab.agent('ch').logs.length };
    await lab.linkFault('cut', ['ny', 'ch']);
    await Promise.all([waitLost('ny', 'ch', logs.ny), waitLost('ch', 'ny', logs.ch)]);
    // CH healthy again, and the highest priority of its side (CH 300, NJ 100): only the rule
    // "no takeover while a seen peer still sees a node this one does not" keeps it off db.
    const healthyFrom = lab.agent('ch').logs.length;
    lab.sites.ch.db.restoreHealth();
    await lab.agent('ch').waitForLog((l) => l.msg === 'service healthy' && l.service === 'db', ms(10_000), healthyFrom);
    const waited = await lab.agent('ch').waitForLog(
      (l) => l.service === 'db' && typeof l.reason === 'string' && l.reason.includes(`${SITE.nj.node} still sees ${SITE.ny.node}`), ms(5000), logs.ch);
    await sleep(3000);
    console.info(`h/NY holds: CH healthy during the cut and told: "${waited.msg}"; timeline\n${sampler.timeline(from).join('\n')}`);
    expect(sampler.overlaps(DB, from), sampler.timeline(from).join('\n')).toEqual([]);
    expect(sampler.announcedBy(DB, 'ch', from), sampler.timeline(from).join('\n')).toEqual([]);
    expect(sampler.samples.slice(from).filter((s) => !s.announcers.get(DB)?.has('ny')), sampler.timeline(from).join('\n')).toEqual([]);
    await expectServerNeverConsulted();

    // Healed: CH sees NY again, NY sees CH healthy with the higher priority and releases; CH takes over after the release.
    const healFrom = sampler.mark();
    const healLogsStart = lab.agent('ch').logs.length;
    const healedAt = Date.now();
    await lab.healLink();
    const chThere = await sampler.waitFor(DB, ['ch'], healFrom, ms(15_000));
    const nyGone = sampler.samples.slice(healFrom).find((s) => !s.announcers.get(DB)?.has('ny'))!;
    console.info(`h/NY holds: healed; NY's db gone ${nyGone.at - healedAt} ms after, CH's there ${chThere.at - healedAt} ms after (gap ${chThere.at - nyGone.at} ms)\n` +
      sampler.timeline(healFrom).join('\n'));
    if (process.env.CLUSTER_LAB_DEBUG) {
      const pick = (l: AgentLogLine): string => `${l.time} ${l.msg}`;
      for (const s of THREE_SITES) console.info(`heal ${s}:\n${lab.agent(s).logs.filter((l) => Date.parse(l.time) >= healedAt - 200).map(pick).join('\n')}`);
      console.info(`healed at ${new Date(healedAt).toISOString()}; NY gone at ${new Date(nyGone.at).toISOString()}, CH there at ${new Date(chThere.at).toISOString()}`);
    }
    expect(sampler.overlaps(DB, healFrom), sampler.timeline(healFrom).join('\n')).toEqual([]);
    // CH started only after NY's release, and after the convergence allowance that follows it.
    const chLogs = lab.agent('ch').logs.slice(healLogsStart);
    const announced = chLogs.findIndex((l) => l.msg === 'announcing db');
    const allowance = chLogs.findIndex((l) => l.service === 'db' && typeof l.reason === 'string' && l.reason.startsWith(`${SITE.ny.node} released it`));
    expect(allowance, chLogs.map((l) => l.msg).join('\n')).toBeGreaterThanOrEqual(0);
    expect(allowance).toBeLessThan(announced);
    await sleep(1000);
    const last = sampler.samples.at(-1)!;
    expect([...last.announcers.get(DB)!]).toEqual(['ch']);
    expect(last.announcers.get(WEB)?.size).toBe(3);
    expect(sampler.overlaps(DB)).toEqual([]);
    await expectServerNeverConsulted();
  });

  it('the counters at the quorum server do count: a clean stop releases (the one call a node makes without a tie)', async () => {
    // Shows the zeros above are a measurement: the agent's shutdown sends its release.
    await lab.stopAgent('nj');
    const traffic = await lab.serverTraffic();
    expect(traffic.nj).toBeGreaterThan(0);
    expect(traffic.ny).toBe(0);
    expect(traffic.ch).toBe(0);
  });
});
