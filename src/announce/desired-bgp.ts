/**
 * From decisions to the paths the speaker should originate: one path per prefix of every
 * service this node serves over BGP, with the node's and the service's attributes. Pure.
 */
import type { ServiceName } from '../core/ids.js';
import type { PrefixKey } from '../core/prefix.js';
import type { BgpConfig, LargeCommunity, ServiceConfig } from '../config/types.js';
import type { PathSpec } from '../gobgp/path.js';
import type { ServiceDecision } from '../decide.js';

export interface DesiredPath {
  service: ServiceName;
  path: PathSpec;
}

export type DesiredBgp = ReadonlyMap<PrefixKey, DesiredPath>;

export function desiredBgpPaths(
  decisions: readonly ServiceDecision[],
  services: readonly ServiceConfig[],
  bgp: BgpConfig,
  localAs: number,
): Map<PrefixKey, DesiredPath> {
  const byName = new Map(services.map((s) => [s.name, s]));
  const out = new Map<PrefixKey, DesiredPath>();
  for (const decision of decisions) {
    if (!decision.serve || decision.method !== 'bgp') continue;
    const service = byName.get(decision.service);
    if (!service) continue;
    for (const prefix of service.prefixes) {
      const nextHop = prefix.family === 4 ? bgp.nextHop.ipv4 : bgp.nextHop.ipv6;
      // The config loader rejects a service prefix without a next-hop of its family.
      if (!nextHop) continue;
      out.set(prefix.key, {
        service: service.name,
        path: {
          prefix,
          nextHop,
          origin: service.bgp.origin,
          med: service.bgp.med,
          localPref: service.bgp.localPref,
          communities: [...new Set([...bgp.communities, ...service.bgp.communities])].sort((a, b) => a - b),
          largeCommunities: uniqueLarge([...bgp.largeCommunities, ...service.bgp.largeCommunities]),
          asPath: Array<number>(service.bgp.asPathPrepend).fill(localAs),
        },
      });
    }
  }
  return out;
}

function uniqueLarge(list: LargeCommunity[]): LargeCommunity[] {
  const seen = new Map(list.map((c) => [`${c.global}:${c.local1}:${c.local2}`, c]));
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
}
