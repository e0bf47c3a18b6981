/**
 * The client of an ARP lab: a namespace on the same Ethernet segment as the servers, from
 * which a prober (lab/arp-prober.ts) reaches the service address and whose neighbour cache
 * shows which server's MAC the address currently resolves to. Also the helpers to learn a
 * namespace's MAC, so answers and gratuitous ARPs can be mapped to nodes.
 *
 * Addresses: the cluster lab's segment is 192.0.2.0/24; its IPv6 counterpart here is
 * 2001:db8:2::/64 (servers add theirs with `ns.addAddress('eth0', '2001:db8:2::1/64')`,
 * which lab/netns.ts already adds with `nodad`).
 */
import type { Lab, Namespace } from './netns.js';

export interface ClientOptions {
  /** `address/len` on the segment, e.g. `192.0.2.200/24`. */
  v4?: string;
  /** `address/len` on the segment, e.g. `2001:db8:2::200/64` (added with `nodad`). */
  v6?: string;
  /** Namespace short name (default `cli`); the bridge port is `p-<short>`. */
  short?: string;
  /** Interface name inside the client (default `eth0`). */
  device?: string;
}

export interface Client {
  ns: Namespace;
  device: string;
  /** The client's own addresses, bare (no length). */
  v4?: string;
  v6?: string;
  mac: string;
}

/** A client namespace joined to `bridge` in `segment` (a namespace holding that bridge). */
export async function joinClient(lab: Lab, segment: Namespace, bridge: string, options: ClientOptions = {}): Promise<Client> {
  const short = options.short ?? 'cli';
  const device = options.device ?? 'eth0';
  const ns = await lab.namespace(short);
  const addresses = [options.v4, options.v6].filter((a): a is string => a !== undefined);
  await lab.veth({ ns, device, addresses }, { ns: segment, device: `p-${short}`, bridge });
  const client: Client = { ns, device, mac: await macOf(ns, device) };
  if (options.v4) client.v4 = bare(options.v4);
  if (options.v6) client.v6 = bare(options.v6);
  return client;
}

/**
 * A namespace the lab already made, by its short name (`seg` for the cluster lab's segment,
 * whose bridge is `br0`): lets a client join a lab built elsewhere.
 */
export function namespaceOf(lab: Lab, short: string): Namespace {
  const ns = lab.namespaces.find((n) => n.name === `${lab.prefix}-${short}`);
  if (!ns) throw new Error(`lab ${lab.prefix} has no namespace "${short}"`);
  return ns;
}

/** The MAC address of `device` in `ns` (lower case, colon separated). */
export async function macOf(ns: Namespace, device = 'eth0'): Promise<string> {
  const { stdout } = await ns.ip(['-j', 'link', 'show', 'dev', device]);
  const links = JSON.parse(stdout) as { address?: string }[];
  const mac = links[0]?.address;
  if (!mac) throw new Error(`${ns.name}: ${device} has no MAC address`);
  return mac.toLowerCase();
}

/** MAC → node name, for the prober's and the GARP watcher's reports. */
export async function macsOf(nodes: Readonly<Record<string, Namespace>>, device = 'eth0'): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const [node, ns] of Object.entries(nodes)) map.set(await macOf(ns, device), node);
  return map;
}

/** Does `ns` currently have `address` (bare) on `device`? */
export async function hasAddress(ns: Namespace, address: string, device = 'eth0'): Promise<boolean> {
  const { stdout } = await ns.ip(['-j', 'addr', 'show', 'dev', device]);
  const links = JSON.parse(stdout) as { addr_info?: { local?: string }[] }[];
  return links.some((link) => (link.addr_info ?? []).some((info) => info.local === address));
}

function bare(cidr: string): string {
  return cidr.split('/')[0] ?? cidr;
}
