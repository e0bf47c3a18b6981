/**
 * The cluster lab's ARP side (issue 4): the exclusive service `vip` whose address moves on the
 * segment itself, and what watches it from a client on that segment.
 *
 *   vip  192.0.2.100/32 and 2001:db8:2::100/128 on the holder's eth0
 *   ny   2001:db8:2::1/64, nj 2001:db8:2::2/64, ch 2001:db8:2::3/64 (IPv6 on the segment)
 *   cli  192.0.2.200/24, 2001:db8:2::200/64: the prober (UDP every 10 ms to both addresses,
 *        neighbour cache) and the GARP/NA watcher
 *
 * Each site runs whoami (lab/arp-whoami.ts) bound to the service addresses, answering with
 * its node id; its TCP health port on 127.0.0.1 is the agent's check of `vip`, so killing
 * whoami is a service death. The agents are configured by ClusterLab.agentConfig({ vip }).
 */
import { ms } from '../src/core/duration.js';
import { joinClient, macsOf, type Client } from './arp-client.js';
import { startGarpWatch, type GarpWatch } from './arp-garp-watch.js';
import { startProber, type ArpProber } from './arp-prober.js';
import { startWhoami, type WhoamiInstance } from './arp-whoami.js';
// A cycle with cluster-lab.ts (which calls vipService); SITE is only read inside functions.
import { SITE, type ClusterLab, type Site } from './cluster-lab.js';

export const VIP_V4 = '192.0.2.100';
export const VIP_V6 = '2001:db8:2::100';
export const WHOAMI_PORT = 7000;
export const WHOAMI_HEALTH_PORT = 7100;
const SITE_V6: Record<Site, string> = { ny: '2001:db8:2::1', nj: '2001:db8:2::2', ch: '2001:db8:2::3' };

/** The lab's arp section: a 2 s lifetime (the default), gratuitous announcements as default. */
export const VIP_ARP_SETTINGS = { lifetime: '2s' };

/** The `vip` service of a site's agent config (YAML keys). */
export function vipService(priority: number, opts: { via: ('bgp' | 'arp')[]; preempt?: boolean }): Record<string, unknown> {
  return {
    name: 'vip',
    // The lab's BGP sessions carry IPv4 only: with bgp in via, the IPv4 address alone.
    prefixes: opts.via.includes('bgp') ? [`${VIP_V4}/32`] : [`${VIP_V4}/32`, `${VIP_V6}/128`],
    mode: 'exclusive',
    priority,
    preempt: opts.preempt ?? true,
    via: opts.via,
    arp: { interface: 'eth0' },
    checks: [{ tcp: { host: '127.0.0.1', port: WHOAMI_HEALTH_PORT }, interval: '100ms', timeout: '80ms', rise: 2, fall: 2 }],
  };
}

export interface ArpSide {
  client: Client;
  prober: ArpProber;
  garps: GarpWatch;
  whoami: Record<Site, WhoamiInstance>;
  /** MAC of each site's eth0 → node id. */
  nodesByMac: Map<string, string>;
  /** Kills the site's whoami (a service death), or starts it again. */
  killService(site: Site): Promise<void>;
  startService(site: Site): Promise<void>;
}

/** Adds IPv6 on the segment, whoami at every site, the client with its prober and watcher. Call before the agents start. */
export async function addArpSide(lab: ClusterLab): Promise<ArpSide> {
  const whoami = {} as Record<Site, WhoamiInstance>;
  const startOne = async (site: Site): Promise<void> => {
    whoami[site] = await startWhoami(lab.lab, lab.sites[site].ns, {
      addresses: [VIP_V4, VIP_V6], port: WHOAMI_PORT, name: SITE[site].node, healthPort: WHOAMI_HEALTH_PORT,
    });
  };
  for (const site of lab.members) {
    await lab.sites[site].ns.addAddress('eth0', `${SITE_V6[site]}/64`);
    await startOne(site);
  }
  const client = await joinClient(lab.lab, lab.segment, 'br0', { v4: '192.0.2.200/24', v6: '2001:db8:2::200/64' });
  const nodesByMac = new Map<string, string>();
  const macs = await macsOf(Object.fromEntries(lab.members.map((s) => [SITE[s].node, lab.sites[s].ns])));
  for (const [mac, node] of macs) nodesByMac.set(mac, node);
  const prober = await startProber(lab.lab, client.ns, { targets: [VIP_V4, VIP_V6], port: WHOAMI_PORT, nodesByMac, startTimeout: ms(10_000) });
  const garps = await startGarpWatch(lab.lab, client.ns, { addresses: [VIP_V4, VIP_V6], nodesByMac });
  return {
    client, prober, garps, whoami, nodesByMac,
    killService: (site) => whoami[site].kill(),
    startService: (site) => startOne(site),
  };
}
