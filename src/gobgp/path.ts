/**
 * What the agent announces, independent of GoBGP's wire API: one prefix and the BGP
 * attributes it carries. The reconciler compares these (desired vs. what gobgpd holds).
 */
import type { LargeCommunity } from '../config/types.js';
import { addressToBytes, bytesToAddress, type Prefix, type PrefixKey } from '../core/prefix.js';

export type Origin = 'igp' | 'egp' | 'incomplete';

export interface PathSpec {
  prefix: Prefix;
  /** A bare address of the prefix's family. */
  nextHop: string;
  origin: Origin;
  med?: number;
  localPref?: number;
  /** Standard communities, `asn << 16 | value`; a set (order and repeats carry no meaning). */
  communities: number[];
  /** A set, like `communities`. */
  largeCommunities: LargeCommunity[];
  /** One AS_SEQUENCE, in order (the agent puts its own AS here, repeated for prepending). */
  asPath: number[];
}

/** A path as gobgpd lists it, decoded back into the agent's terms. */
export interface RibPath extends PathSpec {
  /** gobgpd's choice for this prefix (false when a learned path wins). */
  best: boolean;
  /**
   * What the path carries that PathSpec cannot say (other attribute types, AS_SET
   * segments, extra next hops). Non-empty means it differs from any PathSpec: a
   * reconciler should replace it.
   */
  unmodeled: string[];
}

/** The identity of a locally originated path in gobgpd: one per prefix (re-adding replaces). */
export function pathKey(p: Pick<PathSpec, 'prefix'>): PrefixKey {
  return p.prefix.key;
}

/**
 * True when the two paths announce the same thing. Community sets compare as sets; the
 * AS path compares in order (order is its meaning). A RibPath with unmodeled parts never
 * equals a path without them.
 */
export function samePath(a: PathSpec | RibPath, b: PathSpec | RibPath): boolean {
  return (
    a.prefix.key === b.prefix.key &&
    sameAddress(a.nextHop, b.nextHop, a.prefix.family) &&
    a.origin === b.origin &&
    a.med === b.med &&
    a.localPref === b.localPref &&
    sameNumberSet(a.communities, b.communities) &&
    sameNumberList(a.asPath, b.asPath) &&
    sameNumberList(largeCommunitySet(a.largeCommunities), largeCommunitySet(b.largeCommunities)) &&
    sameStringSet(unmodeledOf(a), unmodeledOf(b))
  );
}

function unmodeledOf(p: PathSpec | RibPath): string[] {
  return 'unmodeled' in p ? p.unmodeled : [];
}

function sameAddress(a: string, b: string, family: 4 | 6): boolean {
  if (a === b) return true;
  try {
    return bytesToAddress(addressToBytes(a, family), family) === bytesToAddress(addressToBytes(b, family), family);
  } catch {
    return false; // unparseable text equals nothing but itself, which was checked above
  }
}

function sameNumberList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameNumberSet(a: readonly number[], b: readonly number[]): boolean {
  return sameNumberList(sortedUnique(a), sortedUnique(b));
}

function sameStringSet(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function sortedUnique(values: readonly number[]): number[] {
  return [...new Set(values)].sort((x, y) => x - y);
}

/** Flattens a large-community set into a sorted list of triples for comparison. */
function largeCommunitySet(values: readonly LargeCommunity[]): number[] {
  const seen = new Map<string, LargeCommunity>();
  for (const c of values) seen.set(`${c.global}:${c.local1}:${c.local2}`, c);
  return [...seen.values()]
    .sort((x, y) => x.global - y.global || x.local1 - y.local1 || x.local2 - y.local2)
    .flatMap((c) => [c.global, c.local1, c.local2]);
}
