/**
 * The routed lab's one description (config/lab/topology.yaml), loaded and checked: both
 * renderings — the namespace twin (routed-lab.ts) and docker-compose.yml
 * (routed-lab-compose.ts) — read it through here, so they cannot disagree about a name, a
 * subnet or an address.
 *
 * Checks beyond the schema: every reference names something that exists, every address lies
 * in its network's subnet and is unique, no node takes a subnet's last usable address (Docker
 * puts the network's gateway, its bridge, there), and hosts' gateways are on their segment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { clusterName, nodeId, serviceName, type ClusterName, type NodeId, type ServiceName } from '../src/core/ids.js';
import { parsePrefix, prefixContains, addressToBytes, bytesToAddress, type Prefix } from '../src/core/prefix.js';

export type Site = 'ny' | 'nj';
export const SITES: readonly Site[] = ['ny', 'nj'];

/** FRR daemons a router runs (zebra always). */
export type FrrDaemon = 'zebra' | 'ospfd' | 'bgpd';

export interface LabInterface {
  /** The interface's name inside its node (routers' frr.conf uses it). */
  name: string;
  network: string;
  /** Bare IPv4 address. */
  address: string;
  /** `address/length` with the network's length. */
  cidr: string;
}

interface NodeBase {
  name: string;
  interfaces: LabInterface[];
  /** Folder under config/lab holding this node's files, if it has any. */
  config?: string;
}

export interface ServerNode extends NodeBase {
  kind: 'server';
  site: Site;
  nodeId: NodeId;
  as: number;
  config: string;
  gateway: string;
  /** The site router it peers with over eBGP. */
  router: string;
}

export interface RouterNode extends NodeBase {
  kind: 'router';
  site?: Site;
  as?: number;
  config: string;
  daemons: FrrDaemon[];
}

export interface QuorumServerNode extends NodeBase {
  kind: 'quorum-server';
  config: string;
  gateway: string;
}

export interface ClientNode extends NodeBase {
  kind: 'client';
  gateway: string;
}

export type LabNode = ServerNode | RouterNode | QuorumServerNode | ClientNode;

export interface LabService {
  name: ServiceName;
  /** The service address (on every server's loopback). */
  address: string;
  prefix: Prefix;
  port: number;
}

export interface LabNetwork {
  name: string;
  subnet: Prefix;
  /** The subnet's last usable address: Docker's bridge; no lab node uses it. */
  dockerGateway: string;
}

export interface Topology {
  cluster: ClusterName;
  services: LabService[];
  networks: LabNetwork[];
  nodes: LabNode[];
  /** The inter-site cut: the link that goes down and the two LANs kept apart. */
  cut: { link: string; between: [string, string] };
  /** The folder the per-node config folders are in (config/lab). */
  dir: string;
}

const ipv4 = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'an IPv4 address');
const name = z.string().regex(/^[a-z][a-z0-9-]{0,14}$/, 'a short lower-case name (≤ 15 characters)');
const iface = z.strictObject({ network: name, address: ipv4 });
const interfaces = z.record(name, iface);
const site = z.enum(['ny', 'nj']);
const asn = z.number().int().min(64512).max(65534);

const nodeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('server'), site, 'node-id': z.string().min(1), as: asn, config: z.string(), interfaces, gateway: ipv4, router: name }),
  z.strictObject({ kind: z.literal('router'), site: site.optional(), as: asn.optional(), config: z.string(), daemons: z.array(z.enum(['zebra', 'ospfd', 'bgpd'])), interfaces }),
  z.strictObject({ kind: z.literal('quorum-server'), config: z.string(), interfaces, gateway: ipv4 }),
  z.strictObject({ kind: z.literal('client'), interfaces, gateway: ipv4 }),
]);

const topologySchema = z.strictObject({
  cluster: z.string().min(1),
  services: z.record(z.string(), z.strictObject({ address: ipv4, port: z.number().int().min(1).max(65535) })),
  networks: z.record(name, z.strictObject({ subnet: z.string() })),
  nodes: z.record(name, nodeSchema),
  cut: z.strictObject({ link: name, between: z.tuple([name, name]) }),
});

/** config/lab of this repository (from lab/ when run by vitest, or dist/lab/ when compiled). */
export function labConfigDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the project root above lab/routed-lab-topology.ts');
    dir = up;
  }
  return join(dir, 'config', 'lab');
}

/** Reads and checks topology.yaml; throws with every problem found. */
export function loadTopology(dir: string = labConfigDir()): Topology {
  const file = join(dir, 'topology.yaml');
  const parsed = topologySchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const raw = parsed.data;
  const problems: string[] = [];

  const networks: LabNetwork[] = Object.entries(raw.networks).map(([netName, n]) => {
    const subnet = parsePrefix(n.subnet);
    if (subnet.family !== 4 || subnet.length > 29) problems.push(`network ${netName}: ${n.subnet} must be IPv4, /29 or larger (two nodes and Docker's gateway)`);
    return { name: netName, subnet, dockerGateway: lastUsable(subnet) };
  });
  const networkByName = new Map(networks.map((n) => [n.name, n]));
  const seen = new Map<string, string>();

  const toInterfaces = (nodeName: string, given: z.infer<typeof interfaces>): LabInterface[] =>
    Object.entries(given).map(([ifName, i]) => {
      const net = networkByName.get(i.network);
      const where = `node ${nodeName} interface ${ifName}`;
      if (!net) {
        problems.push(`${where}: no network "${i.network}"`);
        return { name: ifName, network: i.network, address: i.address, cidr: `${i.address}/32` };
      }
      if (!prefixContains(net.subnet, i.address)) problems.push(`${where}: ${i.address} is not in ${net.subnet.key}`);
      if (i.address === net.dockerGateway) problems.push(`${where}: ${i.address} is ${i.network}'s Docker gateway (its last usable address)`);
      const other = seen.get(i.address);
      if (other) problems.push(`${where}: ${i.address} is also ${other}'s`);
      seen.set(i.address, nodeName);
      return { name: ifName, network: i.network, address: i.address, cidr: `${i.address}/${net.subnet.length}` };
    });

  const nodes: LabNode[] = Object.entries(raw.nodes).map(([nodeName, n]): LabNode => {
    const ifs = toInterfaces(nodeName, n.interfaces);
    if ('config' in n && !existsSync(join(dir, n.config))) problems.push(`node ${nodeName}: no folder ${n.config} in ${dir}`);
    if ('gateway' in n) {
      const onSegment = ifs.some((i) => {
        const net = networkByName.get(i.network);
        return net !== undefined && prefixContains(net.subnet, n.gateway);
      });
      if (!onSegment) problems.push(`node ${nodeName}: gateway ${n.gateway} is on none of its segments`);
    }
    switch (n.kind) {
      case 'server':
        return { kind: 'server', name: nodeName, site: n.site, nodeId: nodeId(n['node-id']), as: n.as, config: n.config, interfaces: ifs, gateway: n.gateway, router: n.router };
      case 'router':
        return { kind: 'router', name: nodeName, site: n.site, as: n.as, config: n.config, daemons: n.daemons, interfaces: ifs };
      case 'quorum-server':
        return { kind: 'quorum-server', name: nodeName, config: n.config, interfaces: ifs, gateway: n.gateway };
      case 'client':
        return { kind: 'client', name: nodeName, interfaces: ifs, gateway: n.gateway };
    }
  });

  for (const node of nodes) {
    if (node.kind === 'server' && nodes.find((r) => r.name === node.router)?.kind !== 'router') problems.push(`node ${node.name}: router ${node.router} is not a router`);
    if (node.kind === 'router' && !node.daemons.includes('zebra')) problems.push(`node ${node.name}: FRR needs zebra`);
  }
  for (const net of networks) {
    const members = nodes.filter((n) => n.interfaces.some((i) => i.network === net.name));
    if (members.length < 2) problems.push(`network ${net.name}: ${members.length} node(s) on it; a link needs two`);
  }
  for (const s of SITES) {
    if (nodes.filter((n) => n.kind === 'server' && n.site === s).length !== 1) problems.push(`site ${s}: needs exactly one server`);
  }
  for (const netName of [raw.cut.link, ...raw.cut.between]) {
    if (!networkByName.has(netName)) problems.push(`cut: no network "${netName}"`);
  }

  const services = Object.entries(raw.services).map(([svc, s]): LabService => ({
    name: serviceName(svc), address: s.address, prefix: parsePrefix(`${s.address}/32`), port: s.port,
  }));
  if (problems.length) throw new Error(`${file}:\n${problems.join('\n')}`);
  return { cluster: clusterName(raw.cluster), services, networks, nodes, cut: raw.cut, dir };
}

/** The subnet's last usable address (broadcast − 1). */
function lastUsable(subnet: Prefix): string {
  const bytes = addressToBytes(subnet.address, 4);
  let value = ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;
  value += 2 ** (32 - subnet.length) - 2;
  return bytesToAddress(Uint8Array.of(value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255), 4);
}

/** Typed look-ups on a loaded topology. */
export function server(t: Topology, s: Site): ServerNode {
  const node = t.nodes.find((n): n is ServerNode => n.kind === 'server' && n.site === s);
  if (!node) throw new Error(`no server at site ${s}`);
  return node;
}

export function router(t: Topology, routerName: string): RouterNode {
  const node = t.nodes.find((n): n is RouterNode => n.kind === 'router' && n.name === routerName);
  if (!node) throw new Error(`no router ${routerName}`);
  return node;
}

export function nodeOfKind<K extends LabNode['kind']>(t: Topology, kind: K): Extract<LabNode, { kind: K }> {
  const node = t.nodes.find((n): n is Extract<LabNode, { kind: K }> => n.kind === kind);
  if (!node) throw new Error(`no ${kind} node`);
  return node;
}

export function service(t: Topology, svc: string): LabService {
  const found = t.services.find((s) => s.name === svc);
  if (!found) throw new Error(`no service ${svc}`);
  return found;
}

/** The address a node has on `network`. */
export function addressOn(node: LabNode, network: string): string {
  const found = node.interfaces.find((i) => i.network === network);
  if (!found) throw new Error(`${node.name} is not on ${network}`);
  return found.address;
}
