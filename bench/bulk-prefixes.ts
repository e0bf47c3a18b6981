/**
 * The bulk benchmark's prefixes: documentation space only. IPv4 documentation space holds
 * ~768 /32s, so the 10,000 are IPv6 /64s out of 2001:db8:100::/48: 2001:db8:100:N::/64.
 */
import { parsePrefix, type Prefix } from '../src/core/prefix.js';

export const BULK_COUNT = 10_000;

export function bulkPrefixes(count: number = BULK_COUNT): Prefix[] {
  if (count > 0x10000) throw new Error('2001:db8:100::/48 holds 65,536 /64s');
  return Array.from({ length: count }, (_, n) => parsePrefix(`2001:db8:100:${n.toString(16)}::/64`));
}
