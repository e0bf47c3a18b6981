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

/** The well-known GRACEFUL_SHUTDOWN community, 65535:0 (RFC 8326). */
export const GRACEFUL_SHUTDOWN = 0xffff0000;

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
    // RFC 8326: routers that honour GRACEFUL_SHUTDOWN prefer any other path to this one.
    const shutdown = decision.gracefulShutdown === true;
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
          localPref: shutdown ? 0 : service.bgp.localPref,
          communities: [...new Set([...bgp.communities, ...service.bgp.communities, ...(shutdown ? [GRACEFUL_SHUTDOWN] : [])])].sort((a, b) => a - b),
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
