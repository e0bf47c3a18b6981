/**
 * docker-compose.yml, rendered from config/lab/topology.yaml: the routed lab as containers.
 * The committed file is this rendering (test/lab-compose.test.ts checks that they are equal),
 * so the Docker version and the namespace twin cannot drift apart. Regenerate with
 * `node dist/lab/routed-lab-compose-main.js` after changing the topology.
 *
 * - one network per topology network, `internal` (nothing leaves the lab), with the same
 *   subnet; Docker's bridge takes the subnet's last usable address, which no node uses;
 * - routers: docker/frr.Dockerfile (Debian + FRR), their frr.conf mounted as
 *   /etc/frr/frr.conf, forwarding on;
 * - servers, the quorum server and the client: docker/Dockerfile (this repository on
 *   Debian, gobgpd from Debian); each node's files of config/lab mounted one by one into
 *   /etc/quorate (so the certs and state volumes can be mounted beside them);
 * - a one-shot `certs` service makes the cluster's certificates (`quorate certs`) into a
 *   volume every quorate container mounts at /etc/quorate/certs;
 * - docker/lab-net.sh, the entrypoint, renames interfaces to the topology's names (by
 *   address), sets the default route and the loopback service addresses.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { nodeOfKind, SITES, server, type LabNode, type Topology } from './routed-lab-topology.js';

export const COMPOSE_FILE = 'docker-compose.yml';
const AGENT_IMAGE = 'quorate-lab-agent';
const FRR_IMAGE = 'quorate-lab-frr';

/** The files of each node's config folder, by folder name. */
export type ConfigFiles = Record<string, readonly string[]>;

/** Lists the files of every node's config folder (sorted, so the rendering is stable). */
export function listConfigFiles(topology: Topology): ConfigFiles {
  const out: Record<string, string[]> = {};
  for (const node of topology.nodes) {
    if (!('config' in node) || !node.config) continue;
    out[node.config] = readdirSync(join(topology.dir, node.config), { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
  }
  return out;
}

/** docker-compose.yml at the repository root (config/lab is two levels below it). */
export function composePath(topology: Topology): string {
  return join(dirname(dirname(topology.dir)), COMPOSE_FILE);
}

export function renderCompose(topology: Topology, files: ConfigFiles): string {
  const agentBuild = { context: '.', dockerfile: 'docker/Dockerfile' };
  const qs = nodeOfKind(topology, 'quorum-server');
  const servers = SITES.map((s) => server(topology, s));

  const networksOf = (node: LabNode): Record<string, { ipv4_address: string }> =>
    Object.fromEntries(node.interfaces.map((i) => [i.network, { ipv4_address: i.address }]));
  const labInterfaces = (node: LabNode): string => node.interfaces.map((i) => `${i.name}=${i.address}`).join(' ');
  const configMounts = (node: LabNode & { config: string }): string[] =>
    (files[node.config] ?? []).map((f) => `./config/lab/${node.config}/${f}:/etc/quorate/${f}:ro`);
  const stateVolume = (node: LabNode): string => `${node.name}-state`;

  const services: Record<string, Record<string, unknown>> = {
    certs: {
      build: agentBuild,
      image: AGENT_IMAGE,
      entrypoint: ['quorate'],
      command: ['certs', '--dir', '/certs', '--cluster', topology.cluster, ...servers.flatMap((s) => ['--node', s.nodeId]),
        '--server', '--address', qs.interfaces[0]!.address],
      network_mode: 'none',
      volumes: ['certs:/certs'],
    },
  };
  const volumes: Record<string, Record<string, never>> = { certs: {} };

  for (const node of topology.nodes) {
    const common = { hostname: node.name, networks: networksOf(node) };
    switch (node.kind) {
      case 'router':
        services[node.name] = {
          build: { context: '.', dockerfile: 'docker/frr.Dockerfile' },
          image: FRR_IMAGE,
          ...common,
          cap_add: ['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN'],
          // ECMP by ports too, as in the namespace twin: a client's connections spread over both sites.
          sysctls: { 'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0, 'net.ipv4.fib_multipath_hash_policy': 1 },
          environment: { LAB_INTERFACES: labInterfaces(node), FRR_DAEMONS: node.daemons.join(' ') },
          volumes: [`./config/lab/${node.config}/frr.conf:/etc/frr/frr.conf:ro`],
        };
        break;
      case 'server':
        volumes[stateVolume(node)] = {};
        services[node.name] = {
          build: agentBuild,
          image: AGENT_IMAGE,
          ...common,
          depends_on: { certs: { condition: 'service_completed_successfully' }, [node.router]: { condition: 'service_started' } },
          cap_add: ['NET_ADMIN', 'NET_RAW'],
          sysctls: { 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0 },
          environment: {
            LAB_INTERFACES: labInterfaces(node),
            LAB_GATEWAY: node.gateway,
            LAB_LOOPBACK: topology.services.map((s) => `${s.address}/32`).join(' '),
            LAB_SITE: node.site,
            LAB_SERVICES: topology.services.map((s) => `${s.name}=${s.address}:${s.port}`).join(' '),
          },
          command: ['server-start.sh'],
          volumes: [...configMounts(node), 'certs:/etc/quorate/certs:ro', `${stateVolume(node)}:/etc/quorate/state`],
        };
        break;
      case 'quorum-server':
        volumes[stateVolume(node)] = {};
        services[node.name] = {
          build: agentBuild,
          image: AGENT_IMAGE,
          ...common,
          depends_on: { certs: { condition: 'service_completed_successfully' } },
          cap_add: ['NET_ADMIN'],
          environment: { LAB_INTERFACES: labInterfaces(node), LAB_GATEWAY: node.gateway },
          command: ['quorate', 'server', '--config', '/etc/quorate/server.yaml'],
          volumes: [...configMounts(node), 'certs:/etc/quorate/certs:ro', `${stateVolume(node)}:/etc/quorate/state`],
        };
        break;
      case 'client':
        services[node.name] = {
          build: agentBuild,
          image: AGENT_IMAGE,
          ...common,
          cap_add: ['NET_ADMIN'],
          environment: { LAB_INTERFACES: labInterfaces(node), LAB_GATEWAY: node.gateway },
          // Idle: `docker-compose exec client curl -s http://203.0.113.10/` asks the lab.
          command: ['sleep', 'infinity'],
        };
        break;
    }
  }

  const networks = Object.fromEntries(topology.networks.map((n) => [n.name, {
    internal: true,
    ipam: { config: [{ subnet: n.subnet.key, gateway: n.dockerGateway }] },
  }]));

  const header = [
    '# The routed lab as containers (issue 5). GENERATED from config/lab/topology.yaml by',
    '# lab/routed-lab-compose.ts: do not edit; run `node dist/lab/routed-lab-compose-main.js`.',
    '# The namespace twin (lab/routed-lab.ts) builds the same topology without Docker.',
    '#',
    '#   docker-compose up -d --build',
    `#   docker-compose exec client curl -s http://${topology.services[0]?.address ?? ''}/`,
    '#   docker-compose exec core vtysh -c "show ip route ospf"',
    '#   docker-compose down -v',
    '',
  ].join('\n');
  return `${header}${stringify({ services, networks, volumes }, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
