/**
 * `quorate plan`: what a node announces in each state, as the network team reviews it. The
 * routes come from the agent's own decide() and desiredBgpPaths(), so these check that the
 * plan says what the agent would do, with every attribute.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../src/config/load.js';
import { formatPlanTable, planFor } from '../src/plan/plan.js';
import { speakerAs } from '../src/plan/speaker-as.js';
import { birdFilter } from '../src/plan/bird-filter.js';
import { frrFilter } from '../src/plan/router-filter.js';
import { TempConfigs } from './fixtures/config/temp-config.js';
import { quorateBin } from '../lab/agent-lab.js';
import { ms } from '../src/core/duration.js';

const temp = new TempConfigs();
afterAll(() => temp.remove());
const copy = join(temp.dir, 'contract');
cpSync('/work/shared/contract', copy, { recursive: true });
// The contract names a gobgpd TOML it does not ship: give it one, with a prepend to show.
writeFileSync(join(copy, 'gobgpd-ny.toml'), '[global.config]\n  as = 65001\n  router-id = "192.0.2.1"\n');

describe('quorate plan', () => {
  const file = join(copy, 'agent.yaml');
  const { config } = loadAgentConfig(file, 'check');

  it('shows every service in every state, with the attributes of each route', () => {
    const rows = planFor(config!, speakerAs(config!));
    const api = rows.filter((r) => r.service === 'payments-api');
    expect(api.map((r) => r.state)).toEqual(['healthy, quorate', 'unhealthy', 'no quorum', 'drained']);
    expect(api[0]!.routes).toEqual([
      expect.objectContaining({ prefix: '203.0.113.10/32', method: 'bgp', nextHop: '192.0.2.1', med: 10, localPref: 200, communities: ['65001:10', '65001:100'], largeCommunities: ['65001:1:10'] }),
      expect.objectContaining({ prefix: '2001:db8:10::10/128', method: 'bgp', nextHop: '2001:db8:1::1' }),
    ]);
    expect(api.slice(1).map((r) => [r.routes.length, r.note])).toEqual([
      [0, 'checks failing'], [0, expect.stringContaining('no quorum')], [0, 'drained by the operator'],
    ]);
    // via [bgp, arp]: BGP first; ARP shown as the fallback it is, on its interface.
    const vip = rows.filter((r) => r.service === 'db-vip');
    expect(vip.find((r) => r.state === 'healthy, quorate')!.routes).toEqual([expect.objectContaining({ prefix: '192.0.2.100/32', method: 'bgp' })]);
    expect(vip.find((r) => r.state === 'healthy, quorate, by arp')).toMatchObject({
      routes: [{ prefix: '192.0.2.100/32', method: 'arp', interface: 'eth0' }], note: expect.stringContaining('only while bgp is not usable'),
    });
  });

  it('with bgp.graceful-shutdown, an anycast service shows its drain\'s graceful shutdown (65535:0, local-pref 0); an exclusive one does not', () => {
    const graceful = { ...config!, bgp: { ...config!.bgp!, gracefulShutdown: ms(5000) } };
    const rows = planFor(graceful, speakerAs(graceful));
    const dns = rows.filter((r) => r.service === 'dns');
    expect(dns.map((r) => r.state)).toEqual(['healthy, quorate', 'unhealthy', 'no quorum', 'drained, shutting down gracefully', 'drained']);
    expect(dns[3]!.routes).toEqual([expect.objectContaining({ prefix: '203.0.113.53/32', localPref: 0, communities: ['65001:100', '65535:0'] })]);
    expect(dns[3]!.note).toBe('for bgp.graceful-shutdown (5s) after a drain, then withdrawn');
    expect(rows.filter((r) => r.service === 'payments-api').map((r) => r.state)).not.toContain('drained, shutting down gracefully');
  });

  it('a prepend shows the speaker\'s AS from its TOML', () => {
    const prepended = { ...config!, services: config!.services.map((s) => ({ ...s, bgp: { ...s.bgp, asPathPrepend: 2 } })) };
    const [row] = planFor(prepended, speakerAs(prepended));
    expect(row!.routes[0]!.asPath).toBe('65001 65001');
    expect(formatPlanTable(planFor(prepended, speakerAs(prepended)))).toContain('as-path 65001 65001');
  });

  it('the command prints the table or JSON, and refuses a broken config with FILE:LINE:COL and exit 1', () => {
    const table = execFileSync(process.execPath, [quorateBin(), 'plan', '-c', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(table.split('\n')[0]).toMatch(/^service\s+state\s+prefix\s+via/);
    expect(table).toMatch(/dns\s+healthy, quorate\s+203\.0\.113\.53\/32\s+bgp\s+192\.0\.2\.1/);
    const json = JSON.parse(execFileSync(process.execPath, [quorateBin(), 'plan', '-c', file, '--format', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as unknown[];
    expect(json.length).toBe(13);
    const broken = join(temp.dir, 'broken.yaml');
    writeFileSync(broken, 'node: { id: a-1 }\ncluster: { name: c }\nservices:\n  - { name: web, prefixes: [203.0.113.80/33], mode: anycast, checks: [{ tcp: { port: 80 } }] }\n');
    const refused = spawnSync(process.execPath, [quorateBin(), 'plan', '-c', broken], { encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: `));
    expect(refused.stdout).toBe('');
  });

  it('the BIRD text: one session per family, exact prefix sets, a limit of the family\'s count', () => {
    const text = birdFilter(config!, { routerAs: 65000, speakerAs: 65001 });
    const block = (name: string): string => new RegExp(`\\n${name} \\{\\n[^]*?\\n\\}\\n`).exec(text)?.[0] ?? '';
    expect(block('filter quorate_ny_1_v4_in')).toMatch(/if net ~ \[\s*203\.0\.113\.10\/32,\s*203\.0\.113\.53\/32,\s*192\.0\.2\.100\/32\s*\] then accept;\s*reject;/);
    expect(block('filter quorate_ny_1_v6_in')).toMatch(/if net ~ \[\s*2001:db8:10::10\/128\s*\] then accept;/);
    const v4 = block('protocol bgp quorate_ny_1_v4');
    expect(v4).toContain('neighbor 192.0.2.1 as 65001;');
    expect(v4).toMatch(/ipv4 \{\s*import filter quorate_ny_1_v4_in;\s*import limit 3 action restart;\s*export none;\s*\};/);
    expect(v4).not.toMatch(/ipv6/);
    const v6 = block('protocol bgp quorate_ny_1_v6');
    expect(v6).toContain('neighbor 2001:db8:1::1 as 65001;');
    expect(v6).toMatch(/ipv6 \{\s*import filter quorate_ny_1_v6_in;\s*import limit 1 action restart;\s*export none;\s*\};/);
    for (const session of [v4, v6]) {
      for (const line of ['local as 65000;', 'hold time 3;', 'keepalive time 1;', 'graceful restart off;', 'long lived graceful restart off;', 'error wait time 5, 60;']) expect(session).toContain(line);
    }
  });

  it('the FRR text activates each neighbor for its own family only', () => {
    const text = frrFilter(config!, { routerAs: 65000, speakerAs: 65001 });
    // Set before any neighbor, or FRR has already activated IPv4 on the IPv6 one.
    expect(text.indexOf(' no bgp default ipv4-unicast')).toBeGreaterThan(-1);
    expect(text.indexOf(' no bgp default ipv4-unicast')).toBeLessThan(text.indexOf(' neighbor '));
  });

  it('--format bird takes the speaker\'s AS from gobgpd\'s TOML and needs the router\'s', () => {
    const bird = execFileSync(process.execPath, [quorateBin(), 'plan', '-c', file, '--format', 'bird', '--router-as', '65000'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(bird).toBe(birdFilter(config!, { routerAs: 65000, speakerAs: 65001 }));
    const noRouterAs = spawnSync(process.execPath, [quorateBin(), 'plan', '-c', file, '--format', 'bird'], { encoding: 'utf8' });
    expect(noRouterAs.status).toBe(2);
    expect(noRouterAs.stderr).toContain('--format bird needs --router-as N');
    const unknown = spawnSync(process.execPath, [quorateBin(), 'plan', '-c', file, '--format', 'juniper'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--format must be table, json, frr or bird, not "juniper"');
  });
});
