/**
 * ARP takeover of an exclusive service on one segment (issue 4, item 5 a–d and f), on real
 * parts: two sites in namespaces on one bridge, each with `quorate agent` (ARP only: no bgp
 * section, no speaker), whoami bound to the service address, and the quorum server; a client
 * on the segment probes 192.0.2.100 and 2001:db8:2::100 every 10 ms, reads its neighbour
 * cache, and records every gratuitous ARP / unsolicited NA (lab/cluster-lab-arp.ts).
 *
 * What a user would check, in every scenario: the client is answered by one node, its
 * neighbour entry names that node's MAC, and at no moment do two nodes answer (no 20 ms
 * window with answers from both) or announce the address.
 *
 *   a/f. the holder's service dies → the other node answers, over IPv4 and IPv6, and the
 *        client's neighbour entries carry its MAC; back healthy → the holder takes it back
 *        (preempt true), never both;
 *   b.   the holder's agent SIGKILL → its address disappears within its lifetime, the other
 *        node takes over only after that; a restarted agent removes what it must not hold
 *        before anything else; agent SIGSTOP → the same, and on SIGCONT it does not take the
 *        address back on a stale decision;
 *   c/d. the link between the sites cut (both still reach the quorum server and the client):
 *        the quorum server lets one side keep or take the address, never both; healed, NY
 *        takes it back with preempt true and the holder keeps it with preempt false.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochNow } from '../lab/arp-clock.js';
import { hasAddress } from '../lab/arp-client.js';
import { addArpSide, VIP_V4, VIP_V6, type ArpSide } from '../lab/cluster-lab-arp.js';
import { ClusterLab, SITE, SITES, type AgentConfigOptions, type Site } from '../lab/cluster-lab.js';
import { labRequirements } from '../lab/requirements.js';
import { waitUntil } from '../lab/wait.js';
import { ms } from '../src/core/duration.js';

const requirements = labRequirements();
if (!requirements.ok) console.warn(`arp-takeover tests skipped: ${requirements.reason}`);

const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));
const ARP_ONLY = (preempt = true): AgentConfigOptions => ({ vip: { via: ['arp'], only: true, preempt } });
/** The lab's address lifetime (VIP_ARP_SETTINGS) plus the kernel's lateness and a generous margin. */
const LIFETIME_BOUND = ms(2000 + 500 + 2000);

describe.skipIf(!requirements.ok)('ARP takeover on one segment, seen by a client', () => {
  let lab: ClusterLab;
  let arp: ArpSide;

  beforeAll(async () => {
    ({ lab } = await ClusterLab.up(
      { tag: 'arpto', tls: 'insecure', lease: '3s', leaseMax: '4s', agents: ARP_ONLY() },
      async (l) => { arp = await addArpSide(l); },
    ));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  const holders = async (): Promise<Site[]> => {
    const out: Site[] = [];
    for (const site of SITES) if (await hasAddress(lab.sites[site].ns, VIP_V4)) out.push(site);
    return out;
  };

  /** Waits until `site` alone holds the address and answers the client on both families. */
  async function servedBy(site: Site, timeout = ms(30_000)): Promise<void> {
    await waitUntil(async () => {
      const h = await holders();
      return h.length === 1 && h[0] === site ? true : undefined;
    }, { timeout, what: `${VIP_V4} held by ${site} alone` });
    const since = epochNow();
    await arp.prober.waitForAnswerFrom(SITE[site].node, timeout, { target: VIP_V4, since });
    await arp.prober.waitForAnswerFrom(SITE[site].node, timeout, { target: VIP_V6, since });
  }

  /** Nothing the client saw since `since` had two nodes at once. */
  function neverTwo(since: number): void {
    const answers = arp.prober.answeredBy(ms(20), { since: since as never });
    // On failure, the answers around each window, with when they were sent and answered.
    const around = answers.flatMap((w) => arp.prober.samples({ target: w.target, since: (w.from - 60) as never, until: (w.to + 60) as never })
      .map((a) => `${a.target} seq ${a.seq} ${a.node}: sent ${Math.round(a.sentAt - w.from)}, answered ${Math.round(a.answeredAt - w.from)}, received ${Math.round(a.receivedAt - w.from)} ms`));
    const logs = answers.length === 0 ? [] : SITES.flatMap((site) => (lab.sites[site].agent?.logs ?? [])
      .filter((l) => Math.abs(Date.parse(l.time) - answers[0]!.from) < 3000)
      .map((l) => `${site} ${Date.parse(l.time) - Math.round(answers[0]!.from)} ${l.msg}${l.previousHolder ? ` ${JSON.stringify(l.previousHolder)}` : ''}`));
    expect(answers, `${JSON.stringify(answers)}\n${around.join('\n')}\n${logs.join('\n')}`).toEqual([]);
    const garps = arp.garps.sendersWithin(ms(20), { since: since as never });
    expect(garps, JSON.stringify(garps)).toEqual([]);
  }

  it('starts with NY (priority 200) holding the address, answering on IPv4 and IPv6', async () => {
    await servedBy('ny');
    expect(arp.prober.neighbour(VIP_V4)?.node).toBe(SITE.ny.node);
  });

  it('a/f. the holder\'s service dies → NJ answers, its MAC in the client\'s IPv4 and IPv6 caches; back → NY again, never both', async () => {
    await servedBy('ny');
    const since = epochNow();
    await arp.killService('ny');
    await servedBy('nj');
    await arp.prober.waitForNeighbour(VIP_V4, await macOfSite('nj'), ms(10_000));
    await arp.prober.waitForNeighbour(VIP_V6, await macOfSite('nj'), ms(10_000));
    const outage = arp.prober.outages({ target: VIP_V4, since: since as never, minLost: 2 })[0];
    console.info(`a: service death → NJ answered after an outage of ${outage?.duration ?? '?'} ms (IPv4)`);
    expect(await arp.garps.waitForGarpFrom(SITE.nj.node, ms(5000), { since: since as never })).toBeTruthy();
    neverTwo(since);

    await arp.startService('ny');
    await servedBy('ny');
    await arp.prober.waitForNeighbour(VIP_V4, await macOfSite('ny'), ms(10_000));
    neverTwo(since);
  });

  it('b. the holder\'s agent SIGKILL → its address ends with its lifetime, NJ takes over only after; a restart cleans up first', async () => {
    await servedBy('ny');
    const since = epochNow();
    const killedAt = Date.now();
    await lab.killAgent('ny');
    await waitUntil(async () => (await hasAddress(lab.sites.ny.ns, VIP_V4)) ? undefined : true, { timeout: LIFETIME_BOUND, what: 'NY\'s address expired' });
    const goneAfter = Date.now() - killedAt;
    await servedBy('nj');
    console.info(`b/SIGKILL: NY's address gone ${goneAfter} ms after the kill; NJ answered ${Date.now() - killedAt} ms after`);
    neverTwo(since);

    // NY comes back: it takes the service back (preempt), still never two at once.
    await lab.startAgent('ny');
    await servedBy('ny');
    neverTwo(since);

    // A leftover from a killed agent is removed by the next start before anything else.
    await lab.killAgent('ny');
    expect(await hasAddress(lab.sites.ny.ns, VIP_V4)).toBe(true);
    const agent = await lab.startAgent('ny');
    const cleaned = agent.logs.findIndex((l) => /service address removed/.test(l.msg));
    const started = agent.logs.findIndex((l) => l.msg === 'quorate agent started');
    expect(cleaned).toBeGreaterThanOrEqual(0);
    expect(cleaned).toBeLessThan(started);
    await servedBy('ny');
    neverTwo(since);
  });

  it('b. the holder\'s agent SIGSTOP → its address expires, NJ takes over after; SIGCONT does not bring it back on a stale decision', async () => {
    await servedBy('ny');
    const since = epochNow();
    const agent = lab.agent('ny');
    agent.process.kill('SIGSTOP');
    try {
      await waitUntil(async () => (await hasAddress(lab.sites.ny.ns, VIP_V4)) ? undefined : true, { timeout: LIFETIME_BOUND, what: 'NY\'s address expired' });
      await servedBy('nj');
      neverTwo(since);
    } finally {
      agent.process.kill('SIGCONT');
    }
    // Resumed: NY must re-decide (peers, quorum, NJ now holding) before it holds anything
    // again, so the address is never on both interfaces.
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      expect(await holders()).not.toEqual(['ny', 'nj']);
      await sleep(20);
    }
    await servedBy('ny');
    neverTwo(since);
  });

  for (const preempt of [true, false]) {
    it(`c/d. the link between the sites cut (preempt ${preempt}): one site keeps the address, never both; healed, ${preempt ? 'NY takes it back' : 'it stays'}`, async () => {
      await Promise.all(SITES.map((s) => lab.reloadAgent(s, ARP_ONLY(preempt))));
      await servedBy('ny');
      const since = epochNow();
      const seen: Site[][] = [];
      await lab.linkFault('cut');
      try {
        // The quorum server lets one side serve (the current holder, or the side that held it
        // last): whichever, the address is never on both interfaces.
        const until = Date.now() + 6000;
        while (Date.now() < until) {
          const h = await holders();
          seen.push(h);
          expect(h.length, JSON.stringify(seen.slice(-5))).toBeLessThanOrEqual(1);
          await sleep(20);
        }
        const [winner] = await holders();
        expect(winner).toBeDefined();
        await servedBy(winner!);
        console.info(`c/d (preempt ${preempt}): during the cut ${winner} held the address`);
        neverTwo(since);
      } finally {
        await lab.healLink();
      }
      const afterHeal = epochNow();
      if (preempt) {
        await servedBy('ny');
      } else {
        const [holder] = await holders();
        await sleep(3000);
        const vipLog = SITES.flatMap((site) => (lab.sites[site].agent?.logs ?? [])
          .filter((l) => Date.parse(l.time) >= afterHeal - 1000 && (l.service === 'vip' || /quorum|peer|check|healthy/.test(l.msg)))
          .map((l) => `${site} ${Date.parse(l.time) - Math.round(afterHeal)} ${l.msg} ${l.reason ?? ''}`));
        expect(await holders(), vipLog.join('\n')).toEqual([holder]);
        expect(arp.prober.samples({ target: VIP_V4, since: afterHeal as never }).filter((s) => s.node !== SITE[holder!].node)).toEqual([]);
      }
      neverTwo(since);
    });
  }

  async function macOfSite(site: Site): Promise<string> {
    for (const [mac, node] of arp.nodesByMac) if (node === SITE[site].node) return mac;
    throw new Error(`no MAC known for ${site}`);
  }
});
