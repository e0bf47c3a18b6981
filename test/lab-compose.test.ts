/**
 * docker-compose.yml is the rendering of config/lab/topology.yaml (so the Docker version
 * and the namespace twin cannot drift), Debian's docker-compose accepts it, and it keeps
 * the lab's promises: internal networks with the topology's subnets, every node at its
 * topology address, the per-node configs mounted from config/lab.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { missingPrograms } from '../lab/requirements.js';
import { composePath, listConfigFiles, renderCompose } from '../lab/routed-lab-compose.js';
import { loadTopology } from '../lab/routed-lab-topology.js';

const topology = loadTopology();
const path = composePath(topology);

interface ComposeFile {
  services: Record<string, { networks?: Record<string, { ipv4_address: string }>; volumes?: string[]; build?: { dockerfile: string } }>;
  networks: Record<string, { internal: boolean; ipam: { config: { subnet: string; gateway: string }[] } }>;
}

describe('docker-compose.yml (the routed lab as containers)', () => {
  it('is exactly the rendering of config/lab/topology.yaml', () => {
    expect(readFileSync(path, 'utf8'), 'run: node dist/lab/routed-lab-compose-main.js').toBe(renderCompose(topology, listConfigFiles(topology)));
  });

  it('has internal networks with the topology subnets and every node at its topology address', () => {
    const compose = parse(readFileSync(path, 'utf8')) as ComposeFile;
    for (const net of topology.networks) {
      expect(compose.networks[net.name]).toEqual({ internal: true, ipam: { config: [{ subnet: net.subnet.key, gateway: net.dockerGateway }] } });
    }
    for (const node of topology.nodes) {
      const networks = compose.services[node.name]?.networks ?? {};
      expect(Object.fromEntries(Object.entries(networks).map(([n, v]) => [n, v.ipv4_address])))
        .toEqual(Object.fromEntries(node.interfaces.map((i) => [i.network, i.address])));
    }
  });

  it('mounts the committed per-node configs, which exist', () => {
    const compose = parse(readFileSync(path, 'utf8')) as ComposeFile;
    const mounted = Object.values(compose.services).flatMap((s) => s.volumes ?? []).filter((v) => v.startsWith('./'));
    expect(mounted).toContain('./config/lab/ny-srv/agent.yaml:/etc/quorate/agent.yaml:ro');
    expect(mounted).toContain('./config/lab/qs/server.yaml:/etc/quorate/server.yaml:ro');
    expect(mounted).toContain('./config/lab/core/frr.conf:/etc/frr/frr.conf:ro');
    for (const volume of mounted) expect(existsSync(join(path, '..', volume.split(':')[0]!)), volume).toBe(true);
    for (const service of Object.values(compose.services)) {
      if (service.build) expect(existsSync(join(path, '..', service.build.dockerfile))).toBe(true);
    }
  });

  const missing = missingPrograms({ 'docker-compose': 'docker-compose' });
  if (missing.length) console.warn(`skipping the docker-compose validation: missing ${missing.join(', ')}`);
  it.skipIf(missing.length > 0)('passes `docker-compose -f docker-compose.yml config -q`', () => {
    // Throws (with docker-compose's message) on a non-zero exit.
    execFileSync('docker-compose', ['-f', path, 'config', '-q'], { cwd: join(path, '..'), stdio: 'pipe' });
  });
});
