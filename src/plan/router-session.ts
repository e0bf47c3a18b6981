/**
 * What the router's half of a node's BGP session is made of, whatever the router's dialect
 * (FRR, BIRD): per address family, the node's BGP service prefixes and the address the router
 * peers with. The renderers only choose words; which prefixes and which neighbor is decided
 * here once, so the FRR and the BIRD output cannot disagree.
 */
import type { AgentConfig } from '../config/types.js';
import type { Family, Prefix } from '../core/prefix.js';
import { GRACEFUL_SHUTDOWN } from '../announce/desired-bgp.js';

export interface RouterFilterOptions {
  /** The router's own AS. */
  routerAs: number;
  /** The speaker's AS (from gobgpd's TOML when the agent runs it). */
  speakerAs: number;
}

export interface RouterSession {
  family: Family;
  /** This node's BGP prefixes of the family, each once, in config order. */
  prefixes: Prefix[];
  /**
   * The speaker's address for this family: the node's BGP next hop (`bgp.next-hop.ipv4/ipv6`),
   * which is the speaker's own address on the router's link in the usual deployment.
   * Undefined when the config names none (`quorate check` rejects that for a family it
   * announces, so only an unchecked config gets here).
   */
  neighbor: string | undefined;
}

/** One session per family that has BGP prefixes, IPv4 first. */
export function routerSessions(config: AgentConfig): RouterSession[] {
  const seen = new Set<string>();
  const bgpPrefixes = config.services
    .filter((s) => s.via.includes('bgp'))
    .flatMap((s) => s.prefixes)
    // A prefix counts once toward the router's limit even if the config lists it twice.
    .filter((p) => !seen.has(p.key) && seen.add(p.key));
  return ([4, 6] as const).flatMap((family) => {
    const prefixes = bgpPrefixes.filter((p) => p.family === family);
    const neighbor = family === 4 ? config.bgp?.nextHop.ipv4 : config.bgp?.nextHop.ipv6;
    return prefixes.length > 0 ? [{ family, prefixes, neighbor }] : [];
  });
}

/**
 * GRACEFUL_SHUTDOWN (RFC 8326) as routers write a standard community, `65535:0`. A draining
 * node re-announces its anycast paths with it before the withdrawal; the router's import side
 * must lower such a path's LOCAL_PREF to 0 so traffic moves to the other nodes first. Taken
 * apart from the agent's own constant, so the router's half matches what the agent sends.
 */
export const GRACEFUL_SHUTDOWN_COMMUNITY = { asn: GRACEFUL_SHUTDOWN >>> 16, value: GRACEFUL_SHUTDOWN & 0xffff } as const;

/** A 4-byte AS number as BGP carries it (RFC 6793); 0 is reserved. */
export function isAsNumber(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 4_294_967_295;
}
