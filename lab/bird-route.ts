/**
 * Parses BIRD 2's `show route … all` output into typed routes, with every BGP attribute a
 * test may want to check. The input is the reply text with BIRD's reply codes stripped.
 *
 * What BIRD 2.0 prints, per route:
 *   203.0.113.10/32      unicast [speaker 06:22:34.945] * (100) [AS65001i]
 *   	via 192.0.2.1 on v0
 *   	Type: BGP univ
 *   	BGP.origin: IGP
 *   	BGP.as_path: 65001
 *   	BGP.med: 10
 *   	BGP.community: (65001,10)
 *   	BGP.large_community: (65001, 1, 10)
 * A second route for the same prefix starts with blanks instead of the prefix.
 */
import { parsePrefix, type Prefix } from '../src/core/prefix.js';
import type { LargeCommunity } from '../src/config/types.js';

export type BgpOrigin = 'igp' | 'egp' | 'incomplete';

export interface BirdBgpAttributes {
  origin?: BgpOrigin;
  /** AS numbers in order (AS_SET members flattened in). */
  asPath: number[];
  /** BGP.next_hop: one address, or a global and a link-local one for IPv6. */
  nextHop: string[];
  med?: number;
  localPref?: number;
  /** Standard communities as `asn * 65536 + value` (the same encoding as the agent's config). */
  communities: number[];
  largeCommunities: LargeCommunity[];
  /** Extended communities as BIRD prints them, e.g. `(rt, 65001, 1)`. */
  extCommunities: string[];
  originatorId?: string;
  clusterList: string[];
}

export interface BirdRoute {
  prefix: Prefix;
  /** The routing table, e.g. `master4`. */
  table: string;
  /** `unicast`, `unreachable`, `blackhole`… */
  kind: string;
  /** The protocol (BGP session) it came from. */
  protocol: string;
  /** The peer address BIRD prints as `from X` (when it differs from the next hop). */
  from?: string;
  /** Marked `*`: the route BIRD selected for this prefix. */
  primary: boolean;
  preference: number;
  /** `Type:` line, e.g. `BGP univ`. */
  type?: string;
  /** Gateways from `via X on DEV` lines. */
  gateways: { address: string; device?: string }[];
  /** Every `Name: value` attribute line, as printed (BGP.* included). */
  attributes: Record<string, string>;
  bgp: BirdBgpAttributes;
}

/** A standard community in the agent's encoding (`asn<<16 | value`, kept non-negative). */
export function community(asn: number, value: number): number {
  return asn * 65536 + value;
}

const HEADER_RE =
  /^(\S+)?\s+(unicast|unreachable|blackhole|prohibited|multicast)\s+\[(\S+)\s+([^\]]*?)\]\s*(\*)?\s*\((\d+)(?:\/[^)]*)?\)/;
const TABLE_RE = /^Table (\S+):$/;
const VIA_RE = /^\s+via\s+(\S+)(?:\s+on\s+(\S+))?/;
const DEV_RE = /^\s+dev\s+(\S+)/;
const ATTRIBUTE_RE = /^\s+([A-Za-z][A-Za-z0-9_.]*):\s?(.*)$/;

export function parseRoutes(text: string): BirdRoute[] {
  const routes: BirdRoute[] = [];
  let table = '';
  let lastPrefix: Prefix | undefined;
  let current: BirdRoute | undefined;
  for (const line of text.split('\n')) {
    const tableMatch = TABLE_RE.exec(line.trim());
    if (tableMatch) {
      table = tableMatch[1]!;
      current = undefined;
      continue;
    }
    const header = HEADER_RE.exec(line);
    if (header) {
      if (header[1]) lastPrefix = parsePrefix(header[1]);
      if (!lastPrefix) throw new Error(`BIRD route line without a prefix: ${line}`);
      const from = /\bfrom (\S+)/.exec(header[4]!)?.[1];
      current = {
        prefix: lastPrefix,
        table,
        kind: header[2]!,
        protocol: header[3]!,
        ...(from ? { from } : {}),
        primary: header[5] === '*',
        preference: Number(header[6]),
        gateways: [],
        attributes: {},
        bgp: { asPath: [], nextHop: [], communities: [], largeCommunities: [], extCommunities: [], clusterList: [] },
      };
      routes.push(current);
      continue;
    }
    if (!current) continue;
    const via = VIA_RE.exec(line);
    if (via) {
      current.gateways.push(via[2] ? { address: via[1]!, device: via[2] } : { address: via[1]! });
      continue;
    }
    const dev = DEV_RE.exec(line);
    if (dev) {
      current.gateways.push({ address: '', device: dev[1]! });
      continue;
    }
    const attribute = ATTRIBUTE_RE.exec(line);
    if (attribute) {
      const [, name, value] = attribute as unknown as [string, string, string];
      current.attributes[name] = value.trim();
      if (name === 'Type') current.type = value.trim();
      else applyBgpAttribute(current.bgp, name, value.trim());
    }
  }
  return routes;
}

function applyBgpAttribute(bgp: BirdBgpAttributes, name: string, value: string): void {
  switch (name) {
    case 'BGP.origin': {
      const origin = value.toLowerCase();
      if (origin === 'igp' || origin === 'egp' || origin === 'incomplete') bgp.origin = origin;
      break;
    }
    case 'BGP.as_path':
      bgp.asPath = (value.match(/\d+/g) ?? []).map(Number);
      break;
    case 'BGP.next_hop':
      bgp.nextHop = value.split(/\s+/).filter(Boolean);
      break;
    case 'BGP.med':
      bgp.med = Number(value);
      break;
    case 'BGP.local_pref':
      bgp.localPref = Number(value);
      break;
    case 'BGP.community':
      bgp.communities = tuples(value).map(([asn, v]) => community(asn ?? 0, v ?? 0));
      break;
    case 'BGP.large_community':
      bgp.largeCommunities = tuples(value).map(([global, local1, local2]) => ({
        global: global ?? 0,
        local1: local1 ?? 0,
        local2: local2 ?? 0,
      }));
      break;
    case 'BGP.ext_community':
      bgp.extCommunities = value.match(/\([^)]*\)/g) ?? [];
      break;
    case 'BGP.originator_id':
      bgp.originatorId = value;
      break;
    case 'BGP.cluster_list':
      bgp.clusterList = value.split(/\s+/).filter(Boolean);
      break;
  }
}

/** `(65001,10) (65001,20)` → [[65001, 10], [65001, 20]]. */
function tuples(value: string): number[][] {
  return (value.match(/\(([^)]*)\)/g) ?? []).map((group) =>
    group
      .slice(1, -1)
      .split(',')
      .map((part) => Number(part.trim())),
  );
}
