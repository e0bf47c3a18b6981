/**
 * The routed lab's committed configs (config/lab) are valid as they stand, for both
 * renderings: the topology loads and keeps its rules, `quorate check` accepts the agents'
 * and the quorum server's files, FRR's own parser (vtysh -C) accepts every frr.conf, and the
 * BGP settings that make failover fast (short hold timers, no graceful restart, exactly the
 * service prefixes accepted) are there on both sides of each session.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterAll, describe, expect, it } from 'vitest';
import { quorateBin } from '../lab/agent-lab.js';
import { missingPrograms } from '../lab/requirements.js';
import { labConfigDir, loadTopology, router, server, SITES } from '../lab/routed-lab-topology.js';

const topology = loadTopology();
const scratch = mkdtempSync(join(tmpdir(), 'qt-rlconf-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('config/lab: the routed lab description', () => {
  it('loads: seven nodes, a server and a router per site, documentation addresses only', () => {
    expect(topology.nodes.map((n) => n.name).sort()).toEqual(['client', 'core', 'nj-rtr', 'nj-srv', 'ny-rtr', 'ny-srv', 'qs']);
    for (const site of SITES) expect(router(topology, server(topology, site).router).site).toBe(site);
    const doc = /^(192\.0\.2|198\.51\.100|203\.0\.113)\./;
    for (const node of topology.nodes) for (const i of node.interfaces) expect(i.address).toMatch(doc);
    for (const s of topology.services) expect(s.address).toMatch(doc);
  });

  it('rejects a topology that breaks its rules, naming every problem', () => {
    const dir = join(scratch, 'broken');
    cpSync(labConfigDir(), dir, { recursive: true });
    const text = readFileSync(join(dir, 'topology.yaml'), 'utf8')
      .replace('eth0: { network: ny-lan, address: 192.0.2.10 }', 'eth0: { network: ny-lan, address: 192.0.2.30 }')
      .replace('eth0: { network: nj-lan, address: 192.0.2.42 }', 'eth0: { network: nj-lan, address: 198.51.100.1 }');
    writeFileSync(join(dir, 'topology.yaml'), text);
    expect(() => loadTopology(dir)).toThrow(/192\.0\.2\.30 is ny-lan's Docker gateway[\s\S]*198\.51\.100\.1 is not in 192\.0\.2\.32\/27/);
  });

  it('`quorate check` accepts each agent.yaml and server.yaml (certificates are made per run)', () => {
    const files = [...SITES.map((s) => join(topology.dir, server(topology, s).config, 'agent.yaml')), join(topology.dir, 'qs', 'server.yaml')];
    for (const file of files) {
      const result = spawnSync(process.execPath, [quorateBin(), 'check', '--config', file], { encoding: 'utf8' });
      expect(result.status, `${file}:\n${result.stdout}${result.stderr}`).toBe(0);
      // The only warnings: the certificates, which `quorate certs` makes in each rendering.
      const warnings = `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.includes('warning:'));
      expect(warnings.filter((l) => !/certs\/.* does not exist/.test(l)), file).toEqual([]);
    }
  });

  it('both sides of each BGP session: hold 3 s, keepalive 1 s, no graceful restart; the router accepts exactly the service /32s', () => {
    for (const site of SITES) {
      const srv = server(topology, site);
      const rtr = router(topology, srv.router);
      const toml = parseToml(readFileSync(join(topology.dir, srv.config, 'gobgpd.toml'), 'utf8')) as {
        global: { config: { as: number } };
        neighbors: { config: { 'neighbor-address': string; 'peer-as': number }; timers: { config: Record<string, number> }; transport: { config: { 'passive-mode': boolean } }; 'graceful-restart': { config: { enabled: boolean } } }[];
      };
      expect(toml.global.config.as).toBe(srv.as);
      const [n] = toml.neighbors;
      expect(n?.config).toEqual({ 'neighbor-address': rtr.interfaces.find((i) => i.network === srv.interfaces[0]!.network)!.address, 'peer-as': rtr.as });
      expect(n?.timers.config).toMatchObject({ 'hold-time': 3, 'keepalive-interval': 1 });
      expect(n?.transport.config['passive-mode']).toBe(true);
      expect(n?.['graceful-restart'].config.enabled).toBe(false);

      const frr = readFileSync(join(topology.dir, rtr.config, 'frr.conf'), 'utf8');
      const peer = srv.interfaces[0]!.address;
      expect(frr).toContain(`router bgp ${rtr.as}`);
      expect(frr).toContain(`neighbor ${peer} remote-as ${srv.as}`);
      expect(frr).toContain(`neighbor ${peer} timers 1 3`);
      expect(frr).toContain('bgp graceful-restart-disable');
      expect(frr).toContain(`neighbor ${peer} prefix-list SERVICES in`);
      const permitted = [...frr.matchAll(/^ip prefix-list SERVICES seq \d+ permit (\S+)$/gm)].map((m) => m[1]);
      expect(permitted.sort()).toEqual(topology.services.map((s) => s.prefix.key).sort());
      expect(frr).toMatch(/redistribute bgp/);
    }
    expect(readFileSync(join(topology.dir, 'core', 'frr.conf'), 'utf8')).not.toMatch(/router bgp/);
  });

  const missing = missingPrograms({ vtysh: 'frr' });
  if (missing.length) console.warn(`skipping the frr.conf syntax check: missing ${missing.join(', ')}`);
  it.skipIf(missing.length > 0)("FRR's parser (vtysh -C) accepts every router's frr.conf", () => {
    // vtysh reads vtysh.conf from its config dir: an empty one of ours, not the host's.
    writeFileSync(join(scratch, 'vtysh.conf'), '');
    for (const node of topology.nodes) {
      if (node.kind !== 'router') continue;
      execFileSync('vtysh', ['--config_dir', scratch, '-C', '-f', join(topology.dir, node.config, 'frr.conf')], { stdio: 'pipe' });
    }
  });
});
