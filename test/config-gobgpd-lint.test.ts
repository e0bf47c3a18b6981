/**
 * The lint of gobgpd's own config (bgp.gobgp.run.config): settings that keep a dead node's
 * routes at the router are reported as warnings at their line in the TOML file. The
 * fixtures are real gobgpd configs: gobgpd 3.10 itself must accept them (its dry run).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../src/config/load.js';
import { TempConfigs, lines } from './fixtures/config/temp-config.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/config/', import.meta.url));
const temp = new TempConfigs();
afterAll(() => temp.remove());

/** An agent config whose gobgpd config is `toml`, next to it. */
function agentWith(toml: string, bgpExtra = '') {
  copyFileSync(join(FIXTURES, toml), join(temp.dir, toml));
  const file = temp.write(`
    node: { id: a-1 }
    cluster: { name: c }
    bgp:
      gobgp: { run: { config: ${toml} }${bgpExtra} }
      next-hop: { ipv4: 192.0.2.1 }
    services: [{ name: web, prefixes: [203.0.113.80/32], mode: exclusive, checks: [{ tcp: { port: 80 } }] }]
  `);
  return { file, toml: join(temp.dir, toml), ...loadAgentConfig(file, 'check') };
}

describe('gobgpd config lint', () => {
  it('reports graceful restart, long, unset or disabled hold timers and zebra, each at its line', () => {
    const { toml, config, diagnostics } = agentWith('gobgpd-unsafe.toml');
    expect(config).toBeDefined(); // warnings only: the operator decides
    const printed = lines(diagnostics);
    const fix = 'set [neighbors.timers.config] hold-time = 9 and keepalive-interval = 3';
    expect(printed).toEqual([
      `${toml}:8:1: warning: zebra is enabled: gobgpd's zebra integration is fragile with the FRR that Debian ships; let the router redistribute BGP into OSPF instead`,
      `${toml}:16:1: warning: peer group routers: hold time 30 s: if this host dies without closing the session, the router keeps sending traffic to it for up to 30 s; set [peer-groups.timers.config] hold-time = 9 and keepalive-interval = 3`,
      `${toml}:19:1: warning: neighbor 192.0.2.254: hold time unset, so gobgpd uses 90 s: if this host dies without closing the session, the router keeps sending traffic to it for up to 90 s; ${fix}`,
      `${toml}:24:1: warning: neighbor 192.0.2.254: graceful restart is enabled: when the agent dies the router keeps its routes for the restart time (gobgpd's default: the hold time) and keeps sending traffic to a dead node; set enabled = false or remove the graceful-restart table`,
      `${toml}:34:1: warning: neighbor 192.0.2.253: graceful restart is enabled for an address family: when the agent dies the router keeps its routes for the restart time (gobgpd's default: the hold time) and keeps sending traffic to a dead node; set enabled = false`,
      `${toml}:41:1: warning: neighbor 192.0.2.252: hold-time = 0 turns the hold timer off: the router never notices a dead host; ${fix}`,
    ]);
  });

  it('with a quorum lease, the hold time it suggests is no longer than the lease (never under 3 s), so the two warnings agree', () => {
    copyFileSync(join(FIXTURES, 'gobgpd-unsafe.toml'), join(temp.dir, 'gobgpd-unsafe.toml'));
    const withLease = (lease: string) => lines(loadAgentConfig(temp.write(`
      node: { id: a-1 }
      cluster:
        name: c
        listen: 192.0.2.1:7480
        peers: [{ id: b-1, address: "198.51.100.1:7480" }]
        quorum: [{ voting: {} }, { server: { address: "203.0.113.250:7481", lease: ${lease} } }]
      tls: { insecure: true }
      bgp:
        gobgp: { run: { config: gobgpd-unsafe.toml } }
        next-hop: { ipv4: 192.0.2.1 }
      services: [{ name: web, prefixes: [203.0.113.80/32], mode: exclusive, checks: [{ tcp: { port: 80 } }] }]
    `), 'check').diagnostics).filter((l) => l.includes('hold time 30 s'));
    expect(withLease('4s')).toEqual([expect.stringContaining('set [peer-groups.timers.config] hold-time = 4 and keepalive-interval = 1')]);
    expect(withLease('2s')).toEqual([expect.stringContaining('hold-time = 3 and keepalive-interval = 1')]);
    expect(withLease('20s')).toEqual([expect.stringContaining('hold-time = 9 and keepalive-interval = 3')]);
  });

  it('has nothing to say about a safe gobgpd config', () => {
    const { diagnostics } = agentWith('gobgpd-safe.toml');
    expect(lines(diagnostics)).toEqual([]);
  });

  it('reports a TOML syntax error as an error at its line and column', () => {
    writeFileSync(join(temp.dir, 'broken.toml'), '[global.config]\n  as = = 64512\n');
    const file = temp.write(`
      node: { id: a-1 }
      cluster: { name: c }
      bgp: { gobgp: { run: { config: broken.toml } }, next-hop: { ipv4: 192.0.2.1 } }
      services: [{ name: web, prefixes: [203.0.113.80/32], mode: anycast, checks: [{ tcp: { port: 80 } }] }]
    `);
    const { config, diagnostics } = loadAgentConfig(file, 'check');
    expect(config).toBeUndefined();
    expect(lines(diagnostics)).toEqual([`${join(temp.dir, 'broken.toml')}:2:8: gobgpd's config is not valid TOML: invalid value`]);
  });

  it('names the TOML file as the operator named the agent config: relative stays relative', () => {
    const { file } = agentWith('gobgpd-unsafe.toml');
    const { diagnostics } = loadAgentConfig(relative(process.cwd(), file), 'check');
    expect(diagnostics.every((d) => !d.file.startsWith('/'))).toBe(true);
    expect(diagnostics[0]!.file).toBe(relative(process.cwd(), join(temp.dir, 'gobgpd-unsafe.toml')));
  });

  it('warns when the agent\'s own gobgpd would serve its API on a TCP port', () => {
    const { file, diagnostics } = agentWith('gobgpd-safe.toml', ', address: 127.0.0.1:50051');
    expect(lines(diagnostics)).toEqual([
      `${file}:4:56: warning: gobgpd's API on 127.0.0.1:50051: a TCP port may already be held by another gobgpd (Debian's gobgpd.service listens on 127.0.0.1:50051), and is open to every local user; leave address unset for a private unix socket`,
    ]);
  });
});

const gobgpd = (() => {
  try {
    execFileSync('gobgpd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!gobgpd) console.warn('config-gobgpd-lint: skipping the gobgpd dry runs: gobgpd is not installed (Debian package gobgpd)');

describe.skipIf(!gobgpd)('the fixtures are configs gobgpd 3.10 reads', () => {
  it.each(['gobgpd-unsafe.toml', 'gobgpd-safe.toml'])('gobgpd --dry-run accepts %s', (toml) => {
    // Throws (non-zero exit) when gobgpd cannot read the file.
    execFileSync('gobgpd', ['--dry-run', '--log-plain', '--pprof-disable', '-f', join(FIXTURES, toml)], { stdio: 'pipe', timeout: 10_000 });
  });
});

describe('as-path-prepend and iBGP neighbors', () => {
  it('warns at the iBGP neighbor that would drop a prepended route as a loop', () => {
    writeFileSync(join(temp.dir, 'ibgp.toml'), [
      '[global.config]', '  as = 65001', '  router-id = "192.0.2.1"',
      '[[neighbors]]', '  [neighbors.config]', '    neighbor-address = "192.0.2.3"', '    peer-as = 65001',
      '  [neighbors.timers.config]', '    hold-time = 3', '    keepalive-interval = 1', '',
    ].join('\n'));
    const agent = (prepend: number) => loadAgentConfig(temp.write(`
      node: { id: a-1 }
      cluster: { name: c }
      bgp:
        gobgp: { run: { config: ibgp.toml } }
        next-hop: { ipv4: 192.0.2.1 }
      services: [{ name: web, prefixes: [203.0.113.80/32], mode: anycast, checks: [{ tcp: { port: 80 } }], bgp: { as-path-prepend: ${prepend} } }]
    `), 'check');
    expect(lines(agent(2).diagnostics)).toEqual([
      `${join(temp.dir, 'ibgp.toml')}:7:1: warning: neighbor 192.0.2.3 is iBGP (peer-as = global as 65001): it drops the routes of web (as-path-prepend puts its own AS in the path); prepend only towards eBGP neighbors`,
    ]);
    expect(agent(0).diagnostics).toEqual([]);
  });
});
