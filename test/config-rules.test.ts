/**
 * Every validation rule of the agent's file, each asserted at the exact FILE:LINE:COL an
 * operator would jump to, with the fragment of the message that says what to fix.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadAgentConfig, type Diagnostic } from '../src/config/load.js';
import { TempConfigs, at, lines } from './fixtures/config/temp-config.js';

const temp = new TempConfigs();
afterAll(() => temp.remove());

/** Only the errors, printed. */
const errors = (diagnostics: Diagnostic[]) => lines(diagnostics.filter((d) => d.severity === 'error'));

/** Loads in check mode and returns the file name with the diagnostics. */
function check(yaml: string) {
  const file = temp.write(yaml);
  const { config, diagnostics } = loadAgentConfig(file, 'check');
  return { file, config, diagnostics, printed: lines(diagnostics) };
}

describe('YAML and structure', () => {
  it('reports every YAML syntax error with its position, and no config', () => {
    const { file, config, diagnostics } = check(`
      node: { id: a-1 }
      node: { id: a-2 }
      cluster:
        name: c
       bad: 1
    `);
    expect(config).toBeUndefined();
    expect(at(diagnostics, file, 2, 1)).toEqual([expect.stringContaining('Map keys must be unique')]);
    expect(diagnostics.filter((d) => d.severity === 'error').length).toBeGreaterThanOrEqual(2);
    expect(diagnostics.some((d) => d.line === 5)).toBe(true);
  });

  it('reports an unknown key (a typo) at the key, with the key it probably meant', () => {
    const { file, diagnostics } = check(`
      node: { id: a-1 }
      cluster: { name: c }
      bgp:
        gobgp: { address: 127.0.0.1:50051 }
        next-hop: { ipv4: 192.0.2.1 }
        allow-unguarded: true
      services:
        - name: web
          prefixes: [203.0.113.80/32]
          mode: anycast
          checks:
            - tcp: { port: 80 }
              intervall: 1s
    `);
    expect(at(diagnostics, file, 13, 9)).toEqual([`${file}:13:9: unknown key "intervall": did you mean "interval"?`]);
    expect(at(diagnostics, file, 6, 3)).toEqual([`${file}:6:3: unknown key "allow-unguarded" (known keys here: gobgp, next-hop, communities, large-communities, reconcile-interval, call-timeout, graceful-shutdown)`]);
  });

  it('reports an unknown top-level section and missing required sections', () => {
    const { file, printed } = check(`
      node: { id: a-1 }
      servces: []
    `);
    expect(printed).toContain(`${file}:2:1: unknown key "servces": did you mean "services"?`);
    expect(printed).toContain(`${file}:1:1: the section "cluster" is required`);
    expect(printed).toContain(`${file}:1:1: the section "services" is required`);
  });

  it('reports a missing required key at the key of its mapping', () => {
    const { file, diagnostics } = check(`
      node: { id: a-1 }
      cluster: { name: c }
      bgp:
        gobgp: { address: 127.0.0.1:50051 }
        next-hop: { ipv4: 192.0.2.1 }
      services:
        - name: web
          prefixes: [203.0.113.80/32]
          mode: anycast
          checks:
            - tcp:
                host: 127.0.0.1
    `);
    expect(at(diagnostics, file, 11, 9)).toEqual([`${file}:11:9: "port" is required`]);
  });

  it('reports a wrong type or value at the value', () => {
    const { file, diagnostics } = check(`
      node: { id: a-1, votes: two }
      cluster: { name: c }
      bgp:
        gobgp: { address: 127.0.0.1:50051 }
        next-hop: { ipv4: 192.0.2.1 }
      services:
        - name: web
          prefixes: [203.0.113.80/32]
          mode: anycst
          checks:
            - tcp: { port: 80 }
    `);
    expect(at(diagnostics, file, 1, 25)).toEqual([`${file}:1:25: expected a number, got text "two"`]);
    expect(at(diagnostics, file, 9, 11)).toEqual([`${file}:9:11: expected "anycast" or "exclusive", got text "anycst"`]);
  });

  it('reports every error of a file at once, across sections and services', () => {
    const { file, config, diagnostics } = check(`
      node: { id: a-1 }
      cluster:
        name: c
        heartbeat: { interval: 200 }
      bgp:
        gobgp: { address: 127.0.0.1:50051 }
        next-hop: { ipv4: 192.0.2.1 }
      services:
        - name: web
          prefixes: [198.51.100.7/32]
          mode: anycast
          checks:
            - tcp: { port: 80 }
        - name: api
          prefixes: [203.0.113.1/24]
          mode: anycast
          checks:
            - tcp: { port: 99999 }
        - name: mail
          prefixes: [198.51.100.7/32]
          mode: anycast
          checks:
            - tcp: { port: 25 }
    `);
    expect(config).toBeUndefined();
    expect(errors(diagnostics)).toEqual([
      `${file}:4:26: expected text, got the number 200`,
      `${file}:15:16: "203.0.113.1/24" has host bits set (did you mean 203.0.113.0/24?)`,
      `${file}:18:22: must be at most 65535`,
      `${file}:20:16: 198.51.100.7/32 is already a prefix of service "web": a prefix belongs to one service`,
    ]);
  });
});

describe('values', () => {
  const withCheck = (item: string) => check(`
    node: { id: a-1 }
    cluster: { name: c }
    bgp:
      gobgp: { address: 127.0.0.1:50051 }
      next-hop: { ipv4: 192.0.2.1 }
    services:
      - name: web
        prefixes: [203.0.113.80/32]
        mode: anycast
        checks:
          ${item}
  `);

  it('durations need a unit', () => {
    const { file, printed } = withCheck('- { tcp: { port: 80 }, interval: 5 seconds, timeout: "1" }');
    expect(printed).toContain(`${file}:11:40: "5 seconds" is not a duration: write a number and a unit, e.g. 500ms, 2s, 1.5s, 1m`);
    expect(printed).toContain(`${file}:11:60: "1" is not a duration: write a number and a unit, e.g. 500ms, 2s, 1.5s, 1m`);
  });

  it('a check has exactly one kind', () => {
    const two = withCheck('- { tcp: { port: 80 }, http: { url: "http://127.0.0.1/" } }');
    expect(errors(two.diagnostics)).toEqual([
      `${two.file}:11:36: a check has exactly one kind, but tcp and http are both given: split them into two list items`,
    ]);
    const none = withCheck('- { interval: 1s }');
    expect(errors(none.diagnostics)).toEqual([`${none.file}:11:9: a check needs one of tcp, http, exec, grpc`]);
  });

  it('http checks validate their url and body regex', () => {
    const { file, printed } = withCheck('- http: { url: "ftp://x/", body: "(" }');
    expect(printed).toContain(`${file}:11:22: expected an http:// or https:// URL`);
    expect(printed).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${file}:11:40: not a regular expression: `))]));
  });

  it('communities are ASN:VALUE and large communities ASN:X:Y', () => {
    const { file, printed } = check(`
      node: { id: a-1 }
      cluster: { name: c }
      bgp:
        gobgp: { address: 127.0.0.1:50051 }
        next-hop: { ipv4: 192.0.2.1 }
        communities: ["65001:100", "70000:1"]
        large-communities: ["65001:1"]
      services:
        - name: web
          prefixes: [203.0.113.80/32]
          mode: anycast
          checks: [{ tcp: { port: 80 } }]
    `);
    expect(printed).toEqual([
      `${file}:6:30: "70000:1" is not a community: write "ASN:VALUE", each 0..65535 (e.g. "65001:100")`,
      `${file}:7:23: "65001:1" is not a large community: write "ASN:X:Y", each 0..4294967295 (e.g. "65001:1:10")`,
    ]);
  });
});

describe('rules across sections', () => {
  it('a BGP service needs a next hop for each family of its prefixes', () => {
    const { file, printed } = check(`
      node: { id: a-1 }
      cluster: { name: c }
      bgp:
        gobgp: { address: 127.0.0.1:50051 }
        next-hop: { ipv4: 192.0.2.1 }
      services:
        - name: web
          prefixes: [203.0.113.80/32, "2001:db8::80/128"]
          mode: anycast
          checks: [{ tcp: { port: 80 } }]
    `);
    expect(printed).toContain(`${file}:8:33: 2001:db8::80/128 is IPv6, but bgp.next-hop.ipv6 is not set: BGP needs a next hop for every family it announces`);
  });

  it('a BGP service needs a bgp section (via defaults to [bgp])', () => {
    const { file, printed } = check(`
      node: { id: a-1 }
      cluster: { name: c }
      services:
        - name: web
          prefixes: [203.0.113.80/32]
          mode: anycast
          checks: [{ tcp: { port: 80 } }]
    `);
    expect(printed).toEqual([`${file}:4:5: service "web" is announced over BGP (via: [bgp]) but the file has no bgp section`]);
  });

  it('service names are unique', () => {
    const { file, printed } = check(`
      node: { id: a-1 }
      cluster: { name: c }
      bgp: { gobgp: { address: 127.0.0.1:50051 }, next-hop: { ipv4: 192.0.2.1 } }
      services:
        - { name: web, prefixes: [203.0.113.80/32], mode: anycast, checks: [{ tcp: { port: 80 } }] }
        - { name: web, prefixes: [203.0.113.81/32], mode: anycast, checks: [{ tcp: { port: 80 } }] }
    `);
    expect(printed).toContain(`${file}:6:13: duplicate service name "web" (the 1st service has it too)`);
  });

  it('peer ids are unique and differ from the node id', () => {
    const { file, printed } = check(`
      node: { id: a-1 }
      cluster:
        name: c
        listen: 192.0.2.1:7480
        peers:
          - { id: a-1, address: 192.0.2.2:7480 }
          - { id: b-1, address: 192.0.2.3:7480 }
          - { id: b-1, address: 192.0.2.4:7480 }
        quorum: [{ voting: {} }, { server: { address: 203.0.113.250:7481, lease: 4s } }]
      tls: { insecure: true }
      bgp: { gobgp: { address: 127.0.0.1:50051 }, next-hop: { ipv4: 192.0.2.1 } }
      services:
        - { name: web, prefixes: [203.0.113.80/32], mode: anycast, checks: [{ tcp: { port: 80 } }] }
    `);
    expect(printed).toContain(`${file}:6:13: peer "a-1" has this node's own id (node.id): list only the other nodes`);
    expect(printed).toContain(`${file}:8:13: duplicate peer id "b-1"`);
  });

  it('a quorum server lease too short to serve between renewals is a warning at the lease', () => {
    const config = (lease: string) => `
      node: { id: a-1 }
      cluster:
        name: c
        listen: 192.0.2.1:7480
        peers: [{ id: b-1, address: 192.0.2.3:7480 }]
        quorum: [{ voting: {} }, { server: { address: 203.0.113.250:7481, lease: ${lease} } }]
      tls: { insecure: true }
      bgp: { gobgp: { address: 127.0.0.1:50051 }, next-hop: { ipv4: 192.0.2.1 } }
      services:
        - { name: web, prefixes: [203.0.113.80/32], mode: anycast, checks: [{ tcp: { port: 80 } }] }
    `;
    const short = check(config('1s'));
    expect(short.printed).toContain(`${short.file}:6:76: warning: a lease of 1s is too short to rely on: the node stops serving 511ms before its lease ends (drift and withdrawal margins); ask for at least 1536ms`);
    expect(check(config('4s')).printed.join('\n')).not.toMatch(/too short/);
  });

  it('arp with a quorum lease too short to hold an address between renewals is a warning at the lease; arp settings are checked', () => {
    const config = (lease: string, arp = '') => `
      node: { id: a-1 }
      cluster:
        name: c
        listen: 192.0.2.1:7480
        peers: [{ id: b-1, address: 192.0.2.3:7480 }]
        quorum: [{ voting: {} }, { server: { address: 203.0.113.250:7481, lease: ${lease} } }]
      tls: { insecure: true }${arp}
      services:
        - { name: vip, prefixes: [192.0.2.100/32], mode: exclusive, via: [arp], arp: { interface: eth0 }, checks: [{ tcp: { port: 80 } }] }
    `;
    const short = check(config('2s'));
    expect(short.printed).toContain(`${short.file}:6:76: warning: a lease of 2s is too short for services via arp: at each renewal only 793ms of it is left, and an address is held for whole seconds and never past the lease, so it would be dropped between renewals; ask for at least 3s`);
    expect(check(config('3s')).printed.join('\n')).not.toMatch(/too short/);
    const bad = check(config('3s', `
      arp: { lifetime: 1500ms, gratuitous: { count: 0, forms: [both] } }`));
    expect(bad.printed).toContain(`${bad.file}:8:18: must be a whole number of seconds, at least 1s (the kernel counts address lifetimes in seconds)`);
    expect(bad.printed).toContain(`${bad.file}:8:47: must be at least 1`);
    expect(bad.printed).toContain(`${bad.file}:8:58: expected "request" or "reply", got text "both"`);
  });

  it('arp: not with anycast, needs arp.interface, moves single addresses', () => {
    const { file, printed } = check(`
      node: { id: a-1 }
      cluster: { name: c }
      services:
        - name: web
          prefixes: [192.0.2.0/28]
          mode: anycast
          via: [arp]
          checks: [{ tcp: { port: 80 } }]
    `);
    expect(printed).toEqual([
      `${file}:5:16: arp takes over single addresses: 192.0.2.0/28 must be a /32 to be used with via arp`,
      `${file}:7:11: an anycast service cannot use arp: an address on one segment has one holder at a time; use via: [bgp], or mode: exclusive`,
      `${file}:7:11: via arp needs arp.interface: the interface that has an address in the subnet of the service's addresses`,
    ]);
  });

  it('rejects a check whose timeout is not shorter than its interval; a default timeout always is', () => {
    const services = (checks: string) => `
      node: { id: a-1 }
      cluster: { name: c }
      bgp: { gobgp: { address: 127.0.0.1:50051 }, next-hop: { ipv4: 192.0.2.1 } }
      services:
        - name: web
          prefixes: [203.0.113.80/32]
          mode: anycast
          checks:
${checks}`;
    const bad = check(services(`
            - { tcp: { port: 80 }, interval: 200ms, timeout: 1s }
            - { tcp: { port: 82 }, interval: 200ms, timeout: 200ms }`));
    expect(bad.config).toBeUndefined();
    expect(bad.printed).toContain(`${bad.file}:10:56: timeout 1s is not shorter than interval 200ms: a check that hangs until its timeout delays the next one, so a dead service is noticed after up to 3 × 1s; make the timeout shorter than the interval (e.g. 160ms)`);
    expect(bad.printed).toContain(`${bad.file}:11:56: timeout 200ms is not shorter than interval 200ms: a check that hangs until its timeout delays the next one, so a dead service is noticed after up to 3 × 200ms; make the timeout shorter than the interval (e.g. 160ms)`);
    // Left out, the timeout is four fifths of the interval, at most 400ms.
    const good = check(services(`
            - { tcp: { port: 81 }, interval: 200ms }
            - { tcp: { port: 83 }, interval: 2s }`));
    expect(good.printed.filter((l) => l.includes('is not shorter than interval'))).toEqual([]);
    expect(good.config!.services[0]!.checks.map((c) => c.timeout)).toEqual([160, 400]);
  });

  it('bgp.gobgp needs run or address', () => {
    const { file, printed } = check(`
      node: { id: a-1 }
      cluster: { name: c }
      bgp:
        gobgp: {}
        next-hop: { ipv4: 192.0.2.1 }
      services:
        - { name: web, prefixes: [203.0.113.80/32], mode: anycast, checks: [{ tcp: { port: 80 } }] }
    `);
    expect(printed).toEqual([`${file}:4:3: bgp.gobgp needs "run" (quorate starts its own gobgpd: recommended) or "address" (an external gobgpd's API)`]);
  });

  it('an exclusive BGP service needs a gobgpd of the agent\'s own, unless explicitly allowed', () => {
    const service = '- { name: db, prefixes: [203.0.113.5/32], mode: exclusive, checks: [{ tcp: { port: 5432 } }] }';
    const refused = check(`
      node: { id: a-1 }
      cluster: { name: c }
      bgp: { gobgp: { address: 127.0.0.1:50051 }, next-hop: { ipv4: 192.0.2.1 } }
      services:
        ${service}
    `);
    expect(refused.config).toBeUndefined();
    expect(refused.printed).toContain(`${refused.file}:5:51: exclusive service "db" is announced through an external gobgpd, which keeps announcing it if this agent dies, while another node takes over: use bgp.gobgp.run, or accept the risk with bgp.gobgp.allow-unguarded: true`);
    const allowed = check(`
      node: { id: a-1 }
      cluster: { name: c }
      bgp: { gobgp: { address: 127.0.0.1:50051, allow-unguarded: true }, next-hop: { ipv4: 192.0.2.1 } }
      services:
        ${service}
    `);
    expect(allowed.config).toBeDefined();
    expect(allowed.printed).toEqual([`${allowed.file}:3:26: warning: an external gobgpd: the agent cannot withdraw routes if it dies (S4); use bgp.gobgp.run so that gobgpd dies with the agent`]);
  });

  it('peers and the quorum server need TLS unless tls.insecure', () => {
    const { file, printed } = check(`
      node: { id: a-1 }
      cluster:
        name: c
        listen: 192.0.2.1:7480
        peers: [{ id: b-1, address: 192.0.2.2:7480 }]
        quorum: [{ voting: {} }, { server: { address: 203.0.113.250:7481, lease: 4s } }]
      bgp: { gobgp: { address: 127.0.0.1:50051 }, next-hop: { ipv4: 192.0.2.1 } }
      services:
        - { name: web, prefixes: [203.0.113.80/32], mode: anycast, checks: [{ tcp: { port: 80 } }] }
    `);
    expect(printed).toContain(`${file}:5:3: peers talk mutual TLS: set tls.ca, tls.cert and tls.key (or tls.insecure: true, for a lab only)`);
    expect(printed).toContain(`${file}:6:38: the quorum server talks mutual TLS: set tls.ca, tls.cert and tls.key (or tls.insecure: true, for a lab only)`);
  });

  it('dead-after must be longer than the heartbeat interval; even votes without a server are a warning', () => {
    const { file, printed } = check(`
      node: { id: a-1 }
      cluster:
        name: c
        listen: 192.0.2.1:7480
        heartbeat: { interval: 1s, dead-after: 1s }
        peers: [{ id: b-1, address: 192.0.2.2:7480 }]
      tls: { insecure: true }
      bgp: { gobgp: { address: 127.0.0.1:50051 }, next-hop: { ipv4: 192.0.2.1 } }
      services:
        - { name: web, prefixes: [203.0.113.80/32], mode: anycast, checks: [{ tcp: { port: 80 } }] }
    `);
    expect(printed).toContain(`${file}:5:42: dead-after (1s) must be longer than the heartbeat interval (1s): peers would be declared dead between two heartbeats`);
    expect(printed).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${file}:2:1: warning: the cluster has 2 votes and no quorum server`))]));
  });
});

describe('files and paths', () => {
  it('resolves relative paths against the config file\'s folder; state-dir defaults by node id', () => {
    const file = temp.write(`
      node: { id: a-1 }
      cluster: { name: c }
      state-dir: state/a
      tls: { ca: certs/ca.pem, cert: /etc/quorate/a.pem, key: ../a.key }
      bgp:
        gobgp: { run: { config: gobgpd.toml, binary: ./bin/gobgpd } }
        next-hop: { ipv4: 192.0.2.1 }
      services:
        - name: web
          prefixes: [203.0.113.80/32]
          mode: anycast
          checks: [{ exec: { command: [./check.sh] } }]
    `, 'nested/agent.yaml');
    const { config } = loadAgentConfig(file, 'check');
    const dir = `${temp.dir}/nested`;
    expect(config!.services[0]!.checks[0]).toMatchObject({ kind: 'exec', command: [`${dir}/check.sh`] });
    expect(config).toMatchObject({
      stateDir: `${dir}/state/a`,
      tls: { ca: `${dir}/certs/ca.pem`, cert: '/etc/quorate/a.pem', key: `${temp.dir}/a.key` },
      bgp: { gobgp: { run: { config: `${dir}/gobgpd.toml`, binary: `${dir}/bin/gobgpd` }, address: `unix://${dir}/state/a/gobgpd.sock` } },
    });
    const noStateDir = loadAgentConfig(temp.write(`
      node: { id: b-2 }
      cluster: { name: c }
      bgp: { gobgp: { run: { config: g.toml } }, next-hop: { ipv4: 192.0.2.1 } }
      services: [{ name: web, prefixes: [203.0.113.80/32], mode: anycast, checks: [{ tcp: { port: 80 } }] }]
    `), 'check');
    expect(noStateDir.config).toMatchObject({ stateDir: '/var/lib/quorate/b-2', bgp: { gobgp: { address: 'unix:///var/lib/quorate/b-2/gobgpd.sock' } } });
  });

  it('a missing referenced file is a warning in check mode and an error in run mode', () => {
    const file = temp.write(`
      node: { id: a-1 }
      cluster: { name: c }
      tls: { ca: missing-ca.pem, cert: missing.pem, key: missing.key, insecure: true }
      bgp: { gobgp: { address: 127.0.0.1:50051 }, next-hop: { ipv4: 192.0.2.1 } }
      services: [{ name: web, prefixes: [203.0.113.80/32], mode: anycast, checks: [{ tcp: { port: 80 } }] }]
    `);
    const checked = loadAgentConfig(file, 'check');
    expect(checked.config).toBeDefined();
    expect(lines(checked.diagnostics)).toContain(`${file}:3:12: warning: ${temp.dir}/missing-ca.pem does not exist`);
    const run = loadAgentConfig(file, 'run');
    expect(run.config).toBeUndefined();
    expect(lines(run.diagnostics)).toContain(`${file}:3:12: ${temp.dir}/missing-ca.pem does not exist`);
  });

  it('documented defaults fill every key left out', () => {
    const { config, printed } = check(`
      node: { id: a-1 }
      cluster: { name: c }
      bgp: { gobgp: { run: { config: /dev/null } }, next-hop: { ipv4: 192.0.2.1 } }
      services:
        - name: web
          prefixes: [203.0.113.80/32]
          mode: exclusive
          checks: [{ grpc: { port: 9000 } }, { http: { url: "https://127.0.0.1/" } }]
    `);
    expect(printed.filter((l) => !l.includes('warning'))).toEqual([]);
    expect(config).toMatchObject({
      node: { votes: 1 },
      cluster: { heartbeat: { interval: 200, deadAfter: 1000 }, peers: [], quorum: [{ kind: 'voting' }] },
      bgp: { gobgp: { run: { binary: 'gobgpd', stallTimeout: 1000 } }, communities: [], largeCommunities: [], reconcileInterval: 1000, callTimeout: 2000 },
      services: [{
        priority: 100, preempt: true, via: ['bgp'],
        bgp: { origin: 'igp', communities: [], largeCommunities: [], asPathPrepend: 0 },
        checks: [
          { kind: 'grpc', host: '127.0.0.1', port: 9000, service: '', tls: false, interval: 500, timeout: 400, rise: 2, fall: 3 },
          { kind: 'http', status: 200, insecureTls: false, headers: {}, interval: 500, timeout: 400, rise: 2, fall: 3 },
        ],
      }],
    });
    // A dead service must be noticed within 2 s with the default timings.
    const c = config!.services[0]!.checks[0]!;
    expect(c.fall * c.interval).toBeLessThanOrEqual(2000);
  });
});
