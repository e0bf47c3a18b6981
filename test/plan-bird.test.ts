/**
 * `quorate plan --format bird` loaded into a real BIRD 2 (issue 6, item 2): a gobgpd speaker
 * in one namespace originates the node's service prefixes and a longer one of each; the BIRD
 * router in another, configured with the plan's output (as printed by the real CLI) included
 * into a bird.conf that adds nothing but a router id, accepts exactly the service prefixes,
 * over IPv4 and IPv6 sessions of their own, and gives them local-preference 0 while they carry
 * GRACEFUL_SHUTDOWN (a draining node's paths, RFC 8326). The README's example is the real output.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quorateBin } from '../lab/agent-lab.js';
import { community, parseRoutes, type BirdRoute } from '../lab/bird-route.js';
import { startGobgpd, type GobgpdInstance } from '../lab/gobgpd.js';
import { Lab, run } from '../lab/netns.js';
import { labRequirements, missingPrograms } from '../lab/requirements.js';
import { waitUntil } from '../lab/wait.js';
import { ms } from '../src/core/duration.js';
import { TempConfigs } from './fixtures/config/temp-config.js';

const requirements = labRequirements();
const missing = missingPrograms({ bird: 'bird2', birdc: 'bird2', gobgpd: 'gobgpd' });
const skip = !requirements.ok || missing.length > 0;
if (skip) console.warn(`plan-bird tests skipped: ${requirements.ok ? `missing ${missing.join(', ')}` : requirements.reason}`);

const SPEAKER4 = '198.51.100.33';
const ROUTER4 = '198.51.100.34';
const SPEAKER6 = '2001:db8:33::1';
const ROUTER6 = '2001:db8:33::2';
const SERVICE4 = '203.0.113.0/24';
const LONGER4 = '203.0.113.0/25';
const SERVICE6 = '2001:db8:100::/48';
const LONGER6 = '2001:db8:100::/56';
const temp = new TempConfigs();
afterAll(() => temp.remove());

/** The node's config: one anycast service with a prefix of each family. */
function agentConfig(): string {
  return temp.write(`
    node: { id: edge-2 }
    cluster: { name: edge }
    bgp: { gobgp: { address: 127.0.0.1:50051, allow-unguarded: true }, next-hop: { ipv4: ${SPEAKER4}, ipv6: "${SPEAKER6}" } }
    services:
      - { name: web, prefixes: [${SERVICE4}, "${SERVICE6}"], mode: anycast, checks: [{ tcp: { port: 80 } }] }
  `, 'agent.yaml');
}

function planBird(configFile: string, asArgs = ['--router-as', '65010', '--speaker-as', '65011']): string {
  return execFileSync(process.execPath, [quorateBin(), 'plan', '-c', configFile, '--format', 'bird', ...asArgs], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('plan --format bird: the text', () => {
  it('lists the prefixes as exact matches only, with a limit, short timers and nothing exported', () => {
    const text = planBird(agentConfig());
    // A `+` or `{a,b}` after a prefix in a BIRD set admits every longer prefix.
    const sets = [...text.matchAll(/net ~ \[([^\]]*)\]/g)].map((m) => m[1]!);
    expect(sets.map((s) => s.split(',').map((p) => p.trim()))).toEqual([[SERVICE4], [SERVICE6]]);
    for (const set of sets) expect(set).not.toMatch(/[+{}]/);
    expect(text).toMatch(/neighbor 198\.51\.100\.33 as 65011;/);
    expect(text).toMatch(/neighbor 2001:db8:33::1 as 65011;/);
    expect(text.match(/local as 65010;/g)).toHaveLength(2);
    expect(text.match(/import limit 1 action restart;/g)).toHaveLength(2);
    expect(text.match(/export none;/g)).toHaveLength(2);
    expect(text.match(/graceful restart off;/g)).toHaveLength(4); // and the long-lived kind
    // RFC 8326, ahead of the exact-prefix check, which still alone decides what is accepted.
    expect(text.match(/_in \{\n {2}if \(65535, 0\) ~ bgp_community then bgp_local_pref = 0;\n {2}if net ~ \[[^\]]*\] then accept;\n {2}reject;\n\}/g)).toHaveLength(2);
  });

  it('is what the README shows', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const command = '$ quorate plan -c agent.yaml --format bird --router-as 65000 --speaker-as 65001';
    const lines = readme.split('\n');
    const at = lines.findIndex((line) => line.trim() === command);
    expect(at, `README.md has no example starting with "${command}"`).toBeGreaterThan(-1);
    const indent = lines[at]!.indexOf('$');
    const end = lines.findIndex((line, i) => i > at && line.trim() === '```');
    const shown = lines.slice(at + 1, end).map((line) => line.slice(indent)).join('\n') + '\n';
    // The agent.yaml the README means: node edge-1, one anycast service, its next hop.
    const config = temp.write(`
      node: { id: edge-1 }
      cluster: { name: edge }
      bgp: { gobgp: { address: 127.0.0.1:50051, allow-unguarded: true }, next-hop: { ipv4: 198.51.100.1 } }
      services:
        - { name: web, prefixes: [203.0.113.0/24], mode: anycast, checks: [{ tcp: { port: 80 } }] }
    `, 'readme-agent.yaml');
    expect(shown).toBe(planBird(config, ['--router-as', '65000', '--speaker-as', '65001']));
  });
});

const noBird = missingPrograms({ bird: 'bird2' });
if (noBird.length > 0) console.warn(`plan-bird parse check skipped: missing ${noBird.join(', ')}`);

describe.skipIf(noBird.length > 0)('plan --format bird: BIRD reads it', () => {
  it('the contract agent\'s plan, included in a bird.conf, passes `bird -p`', () => {
    const copy = join(temp.dir, 'contract');
    cpSync('/work/shared/contract', copy, { recursive: true });
    // The contract names a gobgpd TOML it does not ship: the speaker's AS comes from it.
    writeFileSync(join(copy, 'gobgpd-ny.toml'), '[global.config]\n  as = 65001\n  router-id = "192.0.2.1"\n');
    const fragment = join(temp.dir, 'quorate-ny-1.conf');
    writeFileSync(fragment, planBird(join(copy, 'agent.yaml'), ['--router-as', '65000']));
    const conf = join(temp.dir, 'bird-contract.conf');
    writeFileSync(conf, `router id 192.0.2.254;\nprotocol device {}\ninclude "${fragment}";\n`);
    // Throws with BIRD's own message (file, line, column) when it rejects the text.
    execFileSync('bird', ['-p', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  });
});

describe.skipIf(skip)('plan --format bird on a real BIRD', () => {
  let lab: Lab;
  let speaker: GobgpdInstance;
  let socket: string;
  const birdc = async (command: string): Promise<string> => (await run('birdc', ['-s', socket, ...command.split(' ')], { timeout: ms(10_000) })).stdout;
  const routes = async (protocol: string): Promise<BirdRoute[]> => parseRoutes(await birdc(`show route protocol ${protocol} all`));

  beforeAll(async () => {
    const fragment = planBird(agentConfig());
    lab = await Lab.build('planbird', async (l) => {
      const dir = await l.tempDir('bird');
      writeFileSync(join(dir, 'quorate-edge-2.conf'), fragment);
      // What the network team's bird.conf keeps of its own: the router id and the device scan.
      const conf = join(dir, 'bird.conf');
      writeFileSync(conf, ['router id 198.51.100.34;', 'log stderr all;', 'protocol device {}', `include "${join(dir, 'quorate-edge-2.conf')}";`, ''].join('\n'));
      socket = join(dir, 'bird.ctl');
      const spk = await l.namespace('spk');
      const rtr = await l.namespace('rtr');
      await l.veth({ ns: spk, device: 'eth0', addresses: [`${SPEAKER4}/24`, `${SPEAKER6}/64`] }, { ns: rtr, device: 'eth0', addresses: [`${ROUTER4}/24`, `${ROUTER6}/64`] });
      speaker = await startGobgpd(l, spk, {
        as: 65011, routerId: SPEAKER4, listenAddresses: [SPEAKER4, SPEAKER6],
        neighbors: [
          { address: ROUTER4, peerAs: 65010, passive: true, families: ['ipv4'] },
          { address: ROUTER6, peerAs: 65010, passive: true, families: ['ipv6'] },
        ],
      });
      // Foreground (-f), so the lab holds BIRD's own PID and stops exactly that process.
      const bird = await rtr.spawn('bird', 'bird', ['-f', '-c', conf, '-s', socket, '-P', join(dir, 'bird.pid')]);
      await bird.untilReady(waitUntil(() => birdc('show status'), { timeout: ms(10_000), what: `BIRD answering on ${socket}` }), 'answering birdc');
      return l;
    });
  }, 60_000);

  afterAll(async () => {
    await lab?.teardown();
  });

  it('accepts the service prefixes and rejects longer ones the speaker sends', async () => {
    for (const [prefix, family, nextHop] of [[SERVICE4, 'ipv4', SPEAKER4], [LONGER4, 'ipv4', SPEAKER4], [SERVICE6, 'ipv6', SPEAKER6], [LONGER6, 'ipv6', SPEAKER6]] as const) {
      await speaker.cli(['global', 'rib', 'add', prefix, 'nexthop', nextHop, '-a', family]);
    }
    const sessions = [
      { protocol: 'quorate_edge_2_v4', peer: ROUTER4, family: 'ipv4', accepted: SERVICE4, refused: LONGER4 },
      { protocol: 'quorate_edge_2_v6', peer: ROUTER6, family: 'ipv6', accepted: SERVICE6, refused: LONGER6 },
    ] as const;
    for (const s of sessions) {
      await waitUntil(async () => (await routes(s.protocol)).some((r) => r.prefix.key === s.accepted), {
        timeout: ms(30_000),
        what: `BIRD to accept ${s.accepted} on ${s.protocol}`,
      });
      // The speaker did send the longer one: the router's filter is what refused it.
      const sent = await waitUntil(async () => {
        const out = (await speaker.cli(['neighbor', s.peer, 'adj-out', '-a', s.family])).stdout;
        return out.includes(s.refused) ? out : undefined;
      }, { timeout: ms(10_000), what: `the speaker to advertise ${s.refused}` });
      expect(sent).toContain(s.accepted);
    }
    // Give a wrongly admitted longer prefix time to show up before looking for it.
    await new Promise((r) => setTimeout(r, 1000));
    for (const s of sessions) {
      expect((await routes(s.protocol)).map((r) => r.prefix.key)).toEqual([s.accepted]);
      const detail = await birdc(`show protocols all ${s.protocol}`);
      expect(detail).toMatch(/BGP state:\s+Established/);
      // The limit counts what the filter accepted: the refused prefix did not trip it.
      expect(detail).toMatch(/Routes:\s+1 imported, 0 exported/);
      expect(detail).toMatch(/Import limit:\s+1/);
      expect(detail).toMatch(/Hold timer:\s+\S+\/3\b/);
      expect(detail).toMatch(/Keepalive timer:\s+\S+\/1\b/);
    }
  }, 60_000);

  it('gives the service prefixes local-preference 0 while they carry GRACEFUL_SHUTDOWN, and only then', async () => {
    const GSHUT = community(65535, 0);
    const sessions = [
      { protocol: 'quorate_edge_2_v4', family: 'ipv4', prefix: SERVICE4, longer: LONGER4, nextHop: SPEAKER4 },
      { protocol: 'quorate_edge_2_v6', family: 'ipv6', prefix: SERVICE6, longer: LONGER6, nextHop: SPEAKER6 },
    ] as const;
    type Session = (typeof sessions)[number];
    /** The speaker (re-)announces a prefix, which replaces its path. */
    const announce = async (s: Session, prefix: string, communities: string[]): Promise<void> => {
      await speaker.cli(['global', 'rib', 'add', prefix, 'nexthop', s.nextHop, ...communities, '-a', s.family]);
    };
    const routeAs = (s: Session, marked: boolean): Promise<BirdRoute> => waitUntil(async () => {
      const all = await routes(s.protocol);
      return all.length === 1 && all[0]!.prefix.key === s.prefix && all[0]!.bgp.communities.includes(GSHUT) === marked ? all[0] : undefined;
    }, { timeout: ms(30_000), what: `BIRD to hold ${s.prefix} ${marked ? 'with' : 'without'} GRACEFUL_SHUTDOWN on ${s.protocol}` });

    for (const s of sessions) {
      await announce(s, s.prefix, []);
      expect((await routeAs(s, false)).bgp.localPref).toBe(100);
      // The drain: the same exact prefix, now marked (and a marked longer one, still refused).
      await announce(s, s.prefix, ['community', '65535:0']);
      await announce(s, s.longer, ['community', '65535:0']);
      expect((await routeAs(s, true)).bgp.localPref).toBe(0);
      // Undrained before the withdrawal: back to the normal preference.
      await announce(s, s.prefix, []);
      expect((await routeAs(s, false)).bgp.localPref).toBe(100);
    }
    // Give a wrongly admitted longer prefix time to show up before looking for it.
    await new Promise((r) => setTimeout(r, 1000));
    for (const s of sessions) expect((await routes(s.protocol)).map((r) => r.prefix.key)).toEqual([s.prefix]);
  }, 60_000);
});
