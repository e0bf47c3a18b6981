/**
 * What one interface looks like to the ARP method (from `ip -j addr show dev NAME`), and
 * whether ARP takeover of a service address is usable on it.
 *
 * ARP is usable while the interface is up with a carrier and already holds an address of a
 * subnet that contains the service address: the service address is then added as a host
 * address (/32, /128) and no connected route changes (DESIGN.md "ARP takeover").
 */
import type { Family, Prefix } from '../core/prefix.js';
import { addressToBytes } from '../core/prefix.js';
import type { HostCommands } from './host-commands.js';
import { describeFailure } from './host-commands.js';

export interface InterfaceAddress {
  /** Bare address text, canonical (as `ip` prints it). */
  address: string;
  prefixLength: number;
  family: Family;
  /** Seconds left, as the kernel reports them; undefined = forever (no lifetime). */
  validLft: number | undefined;
  /** IPv6 duplicate address detection not finished or failed: the address is unusable. */
  tentative: boolean;
}

export interface InterfaceState {
  name: string;
  /**
   * Administratively up with a carrier. Measured on these kernels: a veth whose peer is down
   * shows flags `NO-CARRIER,…,UP` and operstate DOWN; an interface set down loses the flag
   * `UP`; a working veth shows operstate UP with `LOWER_UP`; loopback and some tunnels report
   * operstate UNKNOWN with `UP,LOWER_UP`.
   */
  up: boolean;
  operstate: string;
  /** Link-layer address, lower case (`aa:bb:…`); undefined for interfaces without one. */
  mac: string | undefined;
  addresses: InterfaceAddress[];
}

/** The kernel's "forever" lifetime. */
const FOREVER = 4294967295;

/** The shape of one `ip -j addr` entry, as far as this module reads it. */
interface IpAddrJson {
  ifname?: unknown;
  flags?: unknown;
  operstate?: unknown;
  address?: unknown;
  addr_info?: unknown;
}
interface IpAddrInfoJson {
  family?: unknown;
  local?: unknown;
  prefixlen?: unknown;
  valid_life_time?: unknown;
  tentative?: unknown;
  dadfailed?: unknown;
}

/** Parses `ip -j addr show dev NAME` output. Undefined when it holds no such interface. */
export function parseInterfaceState(json: string, name: string): InterfaceState | undefined {
  const entries: unknown = JSON.parse(json);
  if (!Array.isArray(entries)) throw new Error('ip -j addr: expected a JSON array');
  const entry = (entries as IpAddrJson[]).find((e) => e.ifname === name);
  if (!entry) return undefined;
  const flags = Array.isArray(entry.flags) ? entry.flags.filter((f): f is string => typeof f === 'string') : [];
  const operstate = typeof entry.operstate === 'string' ? entry.operstate : 'UNKNOWN';
  const up = flags.includes('UP') && flags.includes('LOWER_UP') && (operstate === 'UP' || operstate === 'UNKNOWN');
  const addresses: InterfaceAddress[] = [];
  for (const info of Array.isArray(entry.addr_info) ? (entry.addr_info as IpAddrInfoJson[]) : []) {
    const family = info.family === 'inet' ? 4 : info.family === 'inet6' ? 6 : undefined;
    if (family === undefined || typeof info.local !== 'string' || typeof info.prefixlen !== 'number') continue;
    const lft = typeof info.valid_life_time === 'number' && info.valid_life_time !== FOREVER ? info.valid_life_time : undefined;
    addresses.push({
      address: info.local,
      prefixLength: info.prefixlen,
      family,
      validLft: lft,
      tentative: info.tentative === true || info.dadfailed === true,
    });
  }
  const mac = typeof entry.address === 'string' && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(entry.address) ? entry.address.toLowerCase() : undefined;
  return { name, up, operstate, mac, addresses };
}

export type ReadInterfaceResult = { ok: true; state: InterfaceState | undefined } | { ok: false; reason: string };

/**
 * Reads one interface. `state` is undefined when the interface does not exist (which is an
 * answer, not a failure); `ok: false` when `ip` itself failed.
 */
export async function readInterface(cmd: HostCommands, name: string): Promise<ReadInterfaceResult> {
  const argv = ['ip', '-j', 'addr', 'show', 'dev', name];
  const result = await cmd.run(argv);
  if (result.code !== 0) {
    if (/does not exist|Cannot find device/i.test(result.stderr)) return { ok: true, state: undefined };
    return { ok: false, reason: describeFailure(argv, result) };
  }
  try {
    return { ok: true, state: parseInterfaceState(result.stdout, name) };
  } catch (err) {
    return { ok: false, reason: `${argv.join(' ')}: ${(err as Error).message}` };
  }
}

export type ArpUsability = { usable: true } | { usable: false; reason: string };

/** A service address for ARP takeover must be one host: /32 or /128. */
export function isHostPrefix(vip: Prefix): boolean {
  return vip.length === (vip.family === 4 ? 32 : 128);
}

/**
 * Whether `vip` can be taken over on this interface: it must be up and already hold an
 * address (other than the vip itself, and not a host route of its own) whose subnet contains
 * the vip. `state` undefined means the interface does not exist.
 */
export function arpUsability(state: InterfaceState | undefined, vip: Prefix): ArpUsability {
  if (!isHostPrefix(vip)) return { usable: false, reason: `${vip.key} is not a host address (/32 or /128)` };
  if (!state) return { usable: false, reason: 'interface does not exist' };
  if (!state.up) return { usable: false, reason: `interface ${state.name} is not up (operstate ${state.operstate})` };
  if (!state.mac) return { usable: false, reason: `interface ${state.name} has no link-layer address` };
  const subnet = state.addresses.find((a) => {
    if (a.family !== vip.family || a.address === vip.address || a.tentative) return false;
    const max = a.family === 4 ? 32 : 128;
    if (a.prefixLength >= max) return false; // another host address says nothing about the segment
    return inSubnetOf(a, vip.address);
  });
  if (!subnet) return { usable: false, reason: `interface ${state.name} has no IPv${vip.family} address in a subnet containing ${vip.address}` };
  return { usable: true };
}

/** Whether `address` lies in the subnet of the interface address `a` (its first prefixLength bits). */
function inSubnetOf(a: InterfaceAddress, address: string): boolean {
  const mine = addressToBytes(a.address, a.family);
  const theirs = addressToBytes(address, a.family);
  for (let bit = 0; bit < a.prefixLength; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((mine[bit >> 3]! & mask) !== (theirs[bit >> 3]! & mask)) return false;
  }
  return true;
}
