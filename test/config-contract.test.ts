/**
 * The binding examples in /work/shared/contract load as written, and the typed config
 * they produce has the documented defaults and absolute paths.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfigFile } from '../src/config/check.js';
import { detectConfigKind, loadAgentConfig, loadServerConfig } from '../src/config/load.js';
import { TempConfigs, lines } from './fixtures/config/temp-config.js';

const CONTRACT = '/work/shared/contract';
const temp = new TempConfigs();
afterAll(() => temp.remove());

/** A copy of the contract folder, so that the test can add the files the examples name. */
const copy = join(temp.dir, 'contract');
cpSync(CONTRACT, copy, { recursive: true });

describe('contract examples', () => {
  it('agent.yaml loads in check mode; only the files it names are missing, as warnings', () => {
    const file = join(copy, 'agent.yaml');
    const { config, diagnostics } = loadAgentConfig(file, 'check');
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(config).toBeDefined();
    expect(lines(diagnostics)).toEqual([
      `${file}:25:7: warning: ${copy}/certs/ca.pem does not exist`,
      `${file}:26:9: warning: ${copy}/certs/ny-1.pem does not exist`,
      `${file}:27:8: warning: ${copy}/certs/ny-1.key does not exist`,
      `${file}:32:15: warning: ${copy}/gobgpd-ny.toml does not exist`,
      `${file}:74:21: warning: /usr/local/bin/check-dns does not exist`,
    ]);
  });

  it('agent.yaml is refused in run mode while the files it names are missing', () => {
    const { config, diagnostics } = loadAgentConfig(join(copy, 'agent.yaml'), 'run');
    expect(config).toBeUndefined();
    expect(diagnostics.filter((d) => d.severity === 'error')).toHaveLength(5);
  });

  it('agent.yaml means what its comments say', () => {
    mkdirSync(join(copy, 'certs'), { recursive: true });
    for (const f of ['ca.pem', 'ny-1.pem', 'ny-1.key']) writeFileSync(join(copy, 'certs', f), 'x');
    // A hold time no longer than the 4 s lease: the router drops a dead node's routes
    // before another node can have taken over.
    writeFileSync(join(copy, 'gobgpd-ny.toml'), [
      '[global.config]', '  as = 64512', '  router-id = "192.0.2.1"',
      '[[neighbors]]', '  [neighbors.config]', '    neighbor-address = "192.0.2.254"', '    peer-as = 64513',
      '  [neighbors.timers.config]', '    hold-time = 3', '    keepalive-interval = 1', '',
    ].join('\n'));
    const { config, diagnostics } = loadAgentConfig(join(copy, 'agent.yaml'), 'check');
    expect(lines(diagnostics)).toEqual([`${join(copy, 'agent.yaml')}:74:21: warning: /usr/local/bin/check-dns does not exist`]);
    expect(config).toMatchObject({
      file: join(copy, 'agent.yaml'),
      node: { id: 'ny-1', votes: 1 },
      cluster: {
        name: 'payments',
        listen: { host: '192.0.2.1', port: 7480 },
        heartbeat: { interval: 200, deadAfter: 1000 },
        peers: [{ id: 'nj-1', address: { host: '198.51.100.1', port: 7480 }, votes: 1 }],
        quorum: [{ kind: 'voting' }, { kind: 'server', address: { host: '203.0.113.250', port: 7481 }, lease: 4000 }],
      },
      tls: { ca: join(copy, 'certs/ca.pem'), cert: join(copy, 'certs/ny-1.pem'), key: join(copy, 'certs/ny-1.key'), insecure: false },
      bgp: {
        gobgp: {
          run: { config: join(copy, 'gobgpd-ny.toml'), binary: 'gobgpd', stallTimeout: 1000 },
          address: 'unix:///var/lib/quorate/ny-1/gobgpd.sock',
        },
        nextHop: { ipv4: '192.0.2.1', ipv6: '2001:db8:1::1' },
        communities: [65001 * 65536 + 100],
        largeCommunities: [],
        reconcileInterval: 1000,
        callTimeout: 2000,
      },
      status: { listen: { host: '127.0.0.1', port: 7482 } },
      stateDir: '/var/lib/quorate/ny-1',
    });
    const [api, dns, db] = config!.services;
    expect(api).toMatchObject({
      name: 'payments-api', mode: 'exclusive', priority: 200, preempt: true, via: ['bgp'],
      checks: [{ kind: 'http', url: 'http://127.0.0.1:8080/healthz', status: 200, interval: 200, timeout: 150, rise: 2, fall: 2, insecureTls: false, headers: {} }],
      bgp: { origin: 'igp', med: 10, localPref: 200, communities: [65001 * 65536 + 10], largeCommunities: [{ global: 65001, local1: 1, local2: 10 }], asPathPrepend: 0 },
    });
    expect(api!.prefixes.map((p) => p.key)).toEqual(['203.0.113.10/32', '2001:db8:10::10/128']);
    expect(dns).toMatchObject({
      name: 'dns', mode: 'anycast', via: ['bgp'],
      checks: [
        { kind: 'tcp', host: '127.0.0.1', port: 53, interval: 1000, timeout: 500, rise: 3, fall: 2 },
        { kind: 'exec', command: ['/usr/local/bin/check-dns', '--quick'], env: {}, interval: 5000, timeout: 2000, rise: 2, fall: 3 },
      ],
    });
    expect(db).toMatchObject({
      name: 'db-vip', mode: 'exclusive', via: ['bgp', 'arp'], arp: { interface: 'eth0' },
      checks: [{ kind: 'tcp', host: '127.0.0.1', port: 5432, interval: 500, timeout: 300, rise: 2, fall: 3 }],
    });
  });

  it('single.yaml loads; the external gobgpd is a warning naming S4', () => {
    const file = join(copy, 'single.yaml');
    const { config, diagnostics } = loadAgentConfig(file, 'check');
    expect(lines(diagnostics)).toEqual([
      `${file}:6:21: warning: an external gobgpd: the agent cannot withdraw routes if it dies (S4); use bgp.gobgp.run so that gobgpd dies with the agent`,
    ]);
    expect(config).toMatchObject({
      node: { id: 'edge-1', votes: 1 },
      cluster: { name: 'edge', peers: [], quorum: [{ kind: 'voting' }], heartbeat: { interval: 200, deadAfter: 1000 } },
      bgp: { gobgp: { address: '127.0.0.1:50051' }, nextHop: { ipv4: '192.0.2.1' }, communities: [], largeCommunities: [], reconcileInterval: 1000, callTimeout: 2000 },
      stateDir: '/var/lib/quorate/edge-1',
      services: [{
        name: 'web', mode: 'anycast', priority: 100, preempt: true, via: ['bgp'],
        checks: [{ kind: 'http', url: 'http://127.0.0.1:8080/', status: 200, interval: 500, timeout: 400, rise: 2, fall: 3, insecureTls: false, headers: {} }],
        bgp: { origin: 'igp', communities: [], largeCommunities: [], asPathPrepend: 0 },
      }],
    });
    expect(config!.bgp!.gobgp.run).toBeUndefined();
    expect(config!.tls).toBeUndefined();
  });

  it('server.yaml loads as a server config', () => {
    const file = join(CONTRACT, 'server.yaml');
    expect(detectConfigKind(file)).toBe('server');
    const { config, diagnostics } = loadServerConfig(file, 'check');
    expect(lines(diagnostics)).toEqual([
      `${file}:5:7: warning: ${CONTRACT}/certs/ca.pem does not exist`,
      `${file}:6:9: warning: ${CONTRACT}/certs/quorum-server.pem does not exist`,
      `${file}:7:8: warning: ${CONTRACT}/certs/quorum-server.key does not exist`,
    ]);
    expect(config).toEqual({
      file,
      listen: { host: '203.0.113.250', port: 7481 },
      tls: { ca: join(CONTRACT, 'certs/ca.pem'), cert: join(CONTRACT, 'certs/quorum-server.pem'), key: join(CONTRACT, 'certs/quorum-server.key'), insecure: false },
      lease: { max: 10_000 },
      clusters: [{ name: 'payments', prefer: 'ny-1' }, { name: 'ledger' }],
      stateFile: '/var/lib/quorate/quorum-server.json',
    });
  });

  it('quorate check accepts every contract file as written (exit 0) and summarizes it', () => {
    for (const name of ['agent.yaml', 'single.yaml', 'server.yaml']) {
      const report = checkConfigFile(join(CONTRACT, name));
      expect(report.exitCode, report.lines.join('\n')).toBe(0);
      expect(report.lines.at(-1)).toMatch(new RegExp(`^${join(CONTRACT, name)}: ok: `));
    }
  });
});
