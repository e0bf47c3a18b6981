/**
 * `via: [bgp, arp]` (issue 4, item 5 e): BGP while the node's speaker has an established
 * session, ARP on the segment otherwise. Two sites with their own gobgpd, BIRD on the segment,
 * the quorum server; the service `vip` (192.0.2.100/32, 2001:db8:2::100/128) is placed on NY.
 * Cutting NY's BGP session (BIRD disables its side) moves NY's service from BGP to an address
 * on its eth0 — the client on the segment keeps its answers; restoring the session moves it
 * back: the route returns at BIRD and the address leaves the interface.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochNow } from '../lab/arp-clock.js';
import { hasAddress } from '../lab/arp-client.js';
import { addArpSide, VIP_V4, type ArpSide } from '../lab/cluster-lab-arp.js';
import { ClusterLab, SITE, type Site } from '../lab/cluster-lab.js';
import { labRequirements } from '../lab/requirements.js';
import { waitUntil } from '../lab/wait.js';
import { ms } from '../src/core/duration.js';

const requirements = labRequirements();
if (!requirements.ok) console.warn(`arp-fallback tests skipped: ${requirements.reason}`);

const VIP_PREFIX = `${VIP_V4}/32`;

describe.skipIf(!requirements.ok)('via [bgp, arp]: BGP while a session is up, ARP on the segment otherwise', () => {
  let lab: ClusterLab;
  let arp: ArpSide;

  beforeAll(async () => {
    ({ lab } = await ClusterLab.up(
      { tag: 'arpfb', tls: 'insecure', lease: '3s', leaseMax: '4s', agents: { vip: { via: ['bgp', 'arp'] } } },
      async (l) => { arp = await addArpSide(l); },
    ));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  const addressAt = (site: Site): Promise<boolean> => hasAddress(lab.sites[site].ns, VIP_V4);

  it('serves by BGP while NY\'s session is up: the route at BIRD from NY, no address on any interface', async () => {
    await lab.waitAnnouncers(VIP_PREFIX, ['ny']);
    expect(await addressAt('ny')).toBe(false);
    expect(await addressAt('nj')).toBe(false);
  });

  it('e. NY\'s session cut → the address moves to NY\'s eth0 (the client is answered); restored → back to BGP, address removed', async () => {
    await lab.waitAnnouncers(VIP_PREFIX, ['ny']);
    await lab.bird.control.command(`disable ${SITE.ny.protocol}`);
    try {
      await waitUntil(async () => ((await addressAt('ny')) ? true : undefined), { timeout: ms(15_000), what: 'NY holds the address on eth0' });
      const since = epochNow();
      await arp.prober.waitForAnswerFrom(SITE.ny.node, ms(10_000), { target: VIP_V4, since });
      expect(await lab.announcers(VIP_PREFIX)).toEqual(new Set());
      // NJ's session is up, but the service stays placed on NY (ARP makes it announceable there).
      expect(await addressAt('nj')).toBe(false);
    } finally {
      await lab.bird.control.command(`enable ${SITE.ny.protocol}`);
    }
    await lab.waitAnnouncers(VIP_PREFIX, ['ny']);
    await waitUntil(async () => ((await addressAt('ny')) ? undefined : true), { timeout: ms(15_000), what: 'NY removed the address' });
    const log = lab.agent('ny').logs.map((l) => l.msg);
    expect(log.some((m) => /BGP session with .* lost/.test(m) || /BGP session not established/.test(m))).toBe(true);
    expect(await addressAt('nj')).toBe(false);
  });
});
