import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

/** An IP prefix in canonical form (host bits zero, IPv6 compressed). `key` is its text. */
export interface Prefix {
  readonly family: Family;
  /** Network address, canonical text. */
  readonly address: string;
  readonly length: number;
  /** `address/length`: the identity of a prefix in maps and logs. */
  readonly key: PrefixKey;
}
export type PrefixKey = string & { readonly __kind: 'PrefixKey' };

/** Parses `203.0.113.10/32` or `2001:db8::1/128`; a bare address is a host prefix. Throws on error. */
export function parsePrefix(text: string): Prefix {
  const [addr, len, ...rest] = text.trim().split('/');
  if (!addr || rest.length > 0) throw new Error(`"${text}" is not an IP prefix`);
  const family: Family | undefined = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : undefined;
  if (!family) throw new Error(`"${text}" is not an IP prefix (bad address "${addr}")`);
  const max = family === 4 ? 32 : 128;
  const length = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!Number.isInteger(length) || length < 0 || length > max) {
    throw new Error(`"${text}": prefix length must be 0..${max}`);
  }
  const bytes = addressToBytes(addr, family);
  for (let bit = length; bit < max; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) {
      throw new Error(`"${text}" has host bits set (did you mean ${bytesToAddress(maskBytes(bytes, length), family)}/${length}?)`);
    }
  }
  const address = bytesToAddress(bytes, family);
  return { family, address, length, key: `${address}/${length}` as PrefixKey };
}

/** True when `address` (a bare IP) lies inside `prefix`. */
export function prefixContains(prefix: Prefix, address: string): boolean {
  const family: Family | undefined = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family !== prefix.family) return false;
  const a = maskBytes(addressToBytes(address, family), prefix.length);
  const p = addressToBytes(prefix.address, family);
  return a.every((b, i) => b === p[i]);
}

export function addressToBytes(addr: string, family: Family): Uint8Array {
  if (family === 4) return Uint8Array.from(addr.split('.').map(Number));
  const out = new Uint8Array(16);
  let text = addr;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

export function bytesToAddress(bytes: Uint8Array, family: Family): string {
  if (family === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first on a tie.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function maskBytes(bytes: Uint8Array, length: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let bit = length; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}
