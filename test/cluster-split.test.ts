/**
 * Splits between the two sites on real daemons (issue 3, item 9 c, f, g), over mutual TLS.
 * nftables in NY's namespace drops traffic between the sites only: both still reach the
 * router and the quorum server, so both ask for the lease and exactly one gets it.
 *
 *   c. the link cut: one site keeps announcing, the other withdraws everything and stays
 *      withdrawn; at no sample do both announce db;
 *   g. (during that cut) the quorum server restarted: the holder keeps serving, no second grant;
 *   f. one-way loss (NY drops what comes from NJ): never two quorate partitions — never db
 *      from both, and the side that lost never announces again until the link heals.
 * After each, the link heals and the lab returns to both sites up (web from both, db at NY).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterLab, DB, SITE, SITES, WEB, otherSite, type Site } from '../lab/cluster-lab.js';
import type { LinkFault } from '../lab/cluster-lab-faults.js';
import type { AnnouncementSampler } from '../lab/cluster-lab-sampler.js';
import { labRequirements } from '../lab/requirements.js';

const requirements = labRequirements({ programs: { nft: 'nftables', openssl: 'openssl' } });
if (!requirements.ok) console.warn(`cluster-split tests skipped: ${requirements.reason}`);

const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

describe.skipIf(!requirements.ok)('a split between the two sites, seen from BIRD', () => {
  let lab: ClusterLab;
  let sampler: AnnouncementSampler<Site>;

  beforeAll(async () => {
    // A longer lease than the other files: a quorum server restart (g) must fit in its renewal slack.
    ({ lab, sampler } = await ClusterLab.up({ tag: 'clsplit', tls: 'mutual', lease: '4s', leaseMax: '5s' }));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  /**
   * Applies `fault`, waits for the server's grant and for the winner to serve web and db
   * alone, and checks the safety properties over every sample since the fault.
   */
  async function split(fault: LinkFault, label: string): Promise<{ winner: Site; loser: Site; from: number }> {
    await lab.waitAnnouncers(WEB, ['ny', 'nj']);
    await lab.waitAnnouncers(DB, ['ny']);
    const from = sampler.mark();
    const serverFrom = lab.server!.logs.length;
    const faultAt = Date.now();
    await lab.linkFault(fault);
    // The winner is the side left announcing web alone. Its lease is either a new grant or,
    // when the split follows a heal by less than a lease (the holder's release lost or not yet
    // sent), the renewal of the lease it still holds: then the server logs no new grant.
    const winner = await lab.waitForLoneAnnouncer(WEB);
    const loser = otherSite(winner);
    for (const grant of lab.server!.logs.slice(serverFrom).filter((l) => /^lease of payments granted to partition/.test(l.msg))) {
      expect(grant.partition).toEqual([SITE[winner].node]);
    }
    await lab.waitAnnouncers(WEB, [winner]);
    await lab.waitAnnouncers(DB, [winner]);
    // Let it run a while: the loser must stay withdrawn, the winner must keep serving.
    await sleep(3000);
    const samples = sampler.samples.slice(from);
    expect(sampler.overlaps(DB, from), sampler.timeline(from).join('\n')).toEqual([]);
    const loserGoneIndex = samples.findIndex((s) => !s.announcers.get(WEB)?.has(loser) && !s.announcers.get(DB)?.has(loser));
    expect(loserGoneIndex).toBeGreaterThanOrEqual(0);
    const loserBack = samples.slice(loserGoneIndex).filter((s) => s.announcers.get(WEB)?.has(loser) || s.announcers.get(DB)?.has(loser));
    expect(loserBack.length, sampler.timeline(from).join('\n')).toBe(0);
    // The winner withdraws too while the server settles (a tie is no quorum): its outage ends at its first db after that.
    const emptyIndex = samples.findIndex((s) => (s.announcers.get(DB)?.size ?? 0) === 0);
    const winnerServes = sampler.firstWith(DB, [winner], from + Math.max(0, emptyIndex))!;
    if (process.env.CLUSTER_LAB_DEBUG) {
      const pick = (l: { time: string; msg: string }) => `${l.time} ${l.msg}`;
      console.info(`fault at ${new Date(faultAt).toISOString()}\nserver:\n${lab.server!.logs.slice(serverFrom).map(pick).join('\n')}`);
      for (const s of SITES) console.info(`${s}:\n${lab.agent(s).logs.filter((l) => Date.parse(l.time) >= faultAt - 2000).map(pick).join('\n')}`);
    }
    const last = sampler.samples.at(-1)!;
    expect([...last.announcers.get(WEB)!]).toEqual([winner]);
    expect([...last.announcers.get(DB)!]).toEqual([winner]);
    console.info(`${label}: ${winner} won; ${loser} withdrew everything ${samples[loserGoneIndex]!.at - faultAt} ms after the fault; ` +
      `${winner} served db again ${winnerServes.at - faultAt} ms after the fault\n${sampler.timeline(from).join('\n')}`);
    return { winner, loser, from };
  }

  /**
   * Waits until one site alone has announced `prefix` for 1.5 s, and says which. (Right after
   * the fault the winner may withdraw a moment before the loser notices the cut: a lone
   * announcer is the winner only once it stays so for longer than that.)
   */
  async function heal(): Promise<void> {
    const from = sampler.mark();
    const healedAt = Date.now();
    await lab.healLink();
    await lab.waitAnnouncers(WEB, ['ny', 'nj']);
    await lab.waitAnnouncers(DB, ['ny']);
    if (process.env.CLUSTER_LAB_DEBUG) {
      const pick = (l: { time: string; msg: string; [k: string]: unknown }) => `${l.time} ${l.msg} ${l.cause ?? ''}`;
      for (const s of SITES) console.info(`heal ${s}:\n${lab.agent(s).logs.filter((l) => Date.parse(l.time) >= healedAt - 200).map(pick).join('\n')}`);
    }
    expect(sampler.overlaps(DB, from), sampler.timeline(from).join('\n')).toEqual([]);
  }

  it('c. link cut: exactly one site keeps announcing, the other withdraws everything; db never from both', async () => {
    const { winner, from } = await split('cut', 'c');
    // g. the quorum server restarted during the split: the holder keeps serving, and no second grant.
    const restartFrom = sampler.mark();
    await lab.stopQuorumServer();
    const serverFrom = 0;
    await lab.startQuorumServer();
    // Two renewal periods on the restarted server.
    await sleep(3500);
    expect(sampler.samples.slice(restartFrom).filter((s) => !s.announcers.get(DB)?.has(winner)), sampler.timeline(restartFrom).join('\n')).toEqual([]);
    expect(sampler.samples.slice(restartFrom).filter((s) => s.announcers.get(WEB)?.size !== 1)).toEqual([]);
    expect(lab.grants(serverFrom)).toEqual([]);
    expect(lab.server!.logs.some((l) => l.msg === 'resumed the recorded leases')).toBe(true);
    expect(sampler.overlaps(DB, from)).toEqual([]);
    await heal();
  });

  it('f. one-way loss (NY drops what NJ sends): never two quorate partitions', async () => {
    await split('drop-incoming', 'f');
    await heal();
  });

  it('f. one-way loss the other way (NY drops what it sends to NJ): never two quorate partitions', async () => {
    await split('drop-outgoing', 'f2');
    await heal();
  });
});
