/**
 * ARP takeover in a three-node cluster that keeps quorum by voting alone (issue 4, items 4
 * and 5 b): no quorum lease bounds the holder's address here, so what keeps it from lingering
 * is the address lifetime and the rule that an address is renewed only on a fresh decision.
 *
 *   - the holder's agent SIGSTOP: its address expires, the next priority takes over; on
 *     SIGCONT the old holder, waking with a decision from before the stop, must not renew or
 *     re-add the address — the address is never on two interfaces;
 *   - the holder's whole host gone (its link down, its processes killed): its heartbeats die
 *     and duplicate-address probes go unanswered, so the next holder takes over at once,
 *     without waiting out the lifetime the old copy would have had.
 *
 * Sites: CH (priority 300) holds, NY (200) is next, NJ (100).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochNow } from '../lab/arp-clock.js';
import { hasAddress } from '../lab/arp-client.js';
import { addArpSide, VIP_V4, type ArpSide } from '../lab/cluster-lab-arp.js';
import { ClusterLab, SITE, THREE_SITES, type Site } from '../lab/cluster-lab.js';
import { labRequirements } from '../lab/requirements.js';
import { waitUntil } from '../lab/wait.js';
import { ms } from '../src/core/duration.js';

const requirements = labRequirements();
if (!requirements.ok) console.warn(`arp-three-nodes tests skipped: ${requirements.reason}`);

const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

describe.skipIf(!requirements.ok)('ARP takeover, three nodes with voting only', () => {
  let lab: ClusterLab;
  let arp: ArpSide;

  beforeAll(async () => {
    ({ lab } = await ClusterLab.up(
      { tag: 'arp3', tls: 'insecure', sites: 3, agents: { votingOnly: true, vip: { via: ['arp'], only: true } } },
      async (l) => { arp = await addArpSide(l); },
    ));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  const holders = async (): Promise<Site[]> => {
    const out: Site[] = [];
    for (const site of THREE_SITES) if (await hasAddress(lab.sites[site].ns, VIP_V4)) out.push(site);
    return out;
  };

  async function servedBy(site: Site): Promise<void> {
    await waitUntil(async () => {
      const h = await holders();
      return h.length === 1 && h[0] === site ? true : undefined;
    }, { timeout: ms(30_000), what: `${VIP_V4} held by ${site} alone` });
    await arp.prober.waitForAnswerFrom(SITE[site].node, ms(10_000), { target: VIP_V4, since: epochNow() });
  }

  /** Samples the interfaces for `duration` and fails at the first moment two hold the address. */
  async function neverTwoHolders(duration: number): Promise<void> {
    const until = Date.now() + duration;
    while (Date.now() < until) {
      const h = await holders();
      expect(h.length, `holders: ${h.join(', ')}`).toBeLessThanOrEqual(1);
      await sleep(20);
    }
  }

  it('SIGSTOP of the holder\'s agent: its address expires, NY takes over; on SIGCONT CH does not renew on its stale decision', async () => {
    await servedBy('ch');
    const since = epochNow();
    const agent = lab.agent('ch');
    agent.process.kill('SIGSTOP');
    try {
      await waitUntil(async () => ((await hasAddress(lab.sites.ch.ns, VIP_V4)) ? undefined : true), { timeout: ms(6000), what: 'CH\'s address expired' });
      await servedBy('ny');
    } finally {
      agent.process.kill('SIGCONT');
    }
    // CH wakes with timers long overdue: renewal, heartbeats, decisions. It must not hold the
    // address again until the cluster has handed it back (preempt: NY releases first).
    await neverTwoHolders(3000);
    await servedBy('ch');
    const answers = arp.prober.answeredBy(ms(20), { since });
    expect(answers, JSON.stringify(answers)).toEqual([]);
  });

  it('the holder\'s host gone (link down, processes killed): NY takes over on unanswered duplicate-address probes', async () => {
    await servedBy('ch');
    const nyLogs = lab.agent('ny').logs.length;
    // The whole host at once: its link first (nothing it sends arrives), then its processes.
    await lab.sites.ch.ns.ip(['link', 'set', 'eth0', 'down']);
    await lab.killAgent('ch');
    await arp.killService('ch');
    try {
      await servedBy('ny');
      const probed = lab.agent('ny').logs.slice(nyLogs).find((l) => /duplicate-address probes for vip: no host answers/.test(l.msg));
      expect(probed, 'NY took over on its probes, not by waiting out the lifetime').toBeDefined();
    } finally {
      await lab.sites.ch.ns.ip(['link', 'set', 'eth0', 'up']);
      // The kernel drops an interface's IPv6 addresses when it goes down (keep_addr_on_down 0).
      await lab.sites.ch.ns.ip(['-6', 'addr', 'replace', '2001:db8:2::3/64', 'dev', 'eth0', 'nodad']);
    }
    await arp.startService('ch');
    await lab.startAgent('ch');
    try {
      await servedBy('ch');
    } catch (err) {
      for (const site of THREE_SITES) {
        const logs = lab.sites[site].agent?.logs.slice(-25).map((l) => `${site} ${l.msg} ${l.reason ?? ''}`) ?? [];
        console.error(logs.join('\n'));
      }
      console.error(`holders: ${(await holders()).join(', ')}`);
      throw err;
    }
  });
});
