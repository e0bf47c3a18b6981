/**
 * `quorate plan --format frr` loaded into a real FRR (issue 6, item 2): a gobgpd speaker in
 * one namespace originates the node's service prefix and a longer one; the FRR router in
 * another, configured with nothing but the plan's output, accepts exactly the service prefix,
 * and gives it local-preference 0 while it carries GRACEFUL_SHUTDOWN (a draining node's paths,
 * RFC 8326) — which FRR does by itself for an eBGP neighbor, so the plan adds no route-map.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrrInstance } from '../lab/frr.js';
import { startGobgpd, type GobgpdInstance } from '../lab/gobgpd.js';
import { Lab } from '../lab/netns.js';
import { labRequirements, missingPrograms } from '../lab/requirements.js';
import { waitUntil } from '../lab/wait.js';
import { loadAgentConfig } from '../src/config/load.js';
import { ms } from '../src/core/duration.js';
import { frrFilter } from '../src/plan/router-filter.js';
import { TempConfigs } from './fixtures/config/temp-config.js';

const requirements = labRequirements();
const missing = missingPrograms({ vtysh: 'frr', gobgpd: 'gobgpd' });
const skip = !requirements.ok || missing.length > 0;
if (skip) console.warn(`plan-frr tests skipped: ${requirements.ok ? `missing ${missing.join(', ')}` : requirements.reason}`);

const SPEAKER = '198.51.100.1';
const ROUTER = '198.51.100.2';
const SERVICE = '203.0.113.0/24';
const LONGER = '203.0.113.0/25';
const temp = new TempConfigs();

describe.skipIf(skip)('plan --format frr on a real FRR', () => {
  let lab: Lab;
  let frr: FrrInstance;
  let speaker: GobgpdInstance;
  let plan: string;

  beforeAll(async () => {
    const file = join(temp.dir, 'agent.yaml');
    writeFileSync(file, [
      'node: { id: edge-1 }',
      'cluster: { name: edge }',
      'bgp: { gobgp: { address: 127.0.0.1:50051, allow-unguarded: true }, next-hop: { ipv4: 198.51.100.1 } }',
      'services:',
      '  - { name: web, prefixes: [203.0.113.0/24], mode: anycast, checks: [{ tcp: { port: 80 } }] }',
      '',
    ].join('\n'));
    const { config, diagnostics } = loadAgentConfig(file, 'check');
    if (!config) throw new Error(`test config rejected: ${JSON.stringify(diagnostics)}`);
    const frrConf = join(temp.dir, 'frr.conf');
    plan = frrFilter(config, { routerAs: 65000, speakerAs: 65001 });
    writeFileSync(frrConf, plan);
    lab = await Lab.build('planfrr', async (l) => {
      const spk = await l.namespace('spk');
      const rtr = await l.namespace('rtr');
      await l.veth({ ns: spk, device: 'eth0', addresses: [`${SPEAKER}/24`] }, { ns: rtr, device: 'eth0', addresses: [`${ROUTER}/24`] });
      speaker = await startGobgpd(l, spk, {
        as: 65001, routerId: SPEAKER, listenAddresses: [SPEAKER],
        neighbors: [{ address: ROUTER, peerAs: 65000, passive: true, families: ['ipv4'] }],
      });
      frr = await FrrInstance.start(l, rtr, { name: 'rtr', configFile: frrConf, daemons: ['zebra', 'bgpd'] });
      return l;
    });
  }, 60_000);

  afterAll(async () => {
    await lab?.teardown();
    temp.remove();
  });

  it('accepts the service prefix and rejects a longer one from the speaker', async () => {
    for (const prefix of [SERVICE, LONGER]) {
      await speaker.cli(['global', 'rib', 'add', prefix, 'nexthop', SPEAKER, '-a', 'ipv4']);
    }
    type Table = { routes?: Record<string, unknown> };
    const table = await waitUntil(async () => {
      const t = await frr.json<Table>('show ip bgp json');
      return t.routes && Object.keys(t.routes).includes('203.0.113.0/24') ? t : undefined;
    }, { timeout: ms(30_000), what: 'FRR to accept 203.0.113.0/24 from the speaker' });
    // The speaker did send the longer one: the router's filter is what refused it.
    const sent = await waitUntil(async () => {
      const out = (await speaker.cli(['neighbor', ROUTER, 'adj-out', '-a', 'ipv4'])).stdout;
      return out.includes('203.0.113.0/25') ? out : undefined;
    }, { timeout: ms(10_000), what: 'the speaker to advertise 203.0.113.0/25' });
    expect(sent).toContain('203.0.113.0/24');
    await new Promise((r) => setTimeout(r, 1000));
    const after = await frr.json<Table>('show ip bgp json');
    expect(Object.keys(table.routes ?? {})).toEqual(['203.0.113.0/24']);
    expect(Object.keys(after.routes ?? {})).toEqual(['203.0.113.0/24']);
    const neighbor = await frr.vtysh([`show bgp neighbors ${SPEAKER}`]);
    expect(neighbor).toMatch(/BGP state = Established/);
    expect(neighbor).toMatch(/Hold time is 3 seconds?/i);
  }, 60_000);

  it('gives the service prefix local-preference 0 while it carries GRACEFUL_SHUTDOWN, and only then', async () => {
    // FRR 8.4 does this itself for routes from an eBGP neighbor: the plan says so, and adds nothing.
    expect(plan).toMatch(/^! FRR itself sets local-preference 0 on such routes from an eBGP neighbor$/m);
    expect(plan).not.toMatch(/^[^!].*(route-map \S+ in$|local-preference)/m);
    type Path = { locPrf?: number; community?: { string?: string } };
    const marked = (p: Path): boolean => /graceful-shutdown|65535:0/.test(p.community?.string ?? '');
    /** The speaker (re-)announces the prefix, which replaces its path, and the router shows the result. */
    const announce = async (prefix: string, community: string[]): Promise<void> => {
      await speaker.cli(['global', 'rib', 'add', prefix, 'nexthop', SPEAKER, ...community, '-a', 'ipv4']);
    };
    const pathAs = (wantMarked: boolean): Promise<Path> => waitUntil(async () => {
      const detail = await frr.json<{ paths?: Path[] }>(`show bgp ipv4 unicast ${SERVICE} json`);
      return detail.paths?.length === 1 && marked(detail.paths[0]!) === wantMarked ? detail.paths[0] : undefined;
    }, { timeout: ms(30_000), what: `FRR to hold ${SERVICE} ${wantMarked ? 'with' : 'without'} GRACEFUL_SHUTDOWN` });

    await announce(SERVICE, []);
    const plain = await pathAs(false);
    // FRR leaves locPrf out when an eBGP neighbor's route gets the default (100).
    expect(plain.locPrf ?? 100).toBe(100);

    // The drain: the same exact prefix, now marked (and a marked longer one, still refused).
    await announce(SERVICE, ['community', '65535:0']);
    await announce(LONGER, ['community', '65535:0']);
    const draining = await pathAs(true);
    expect(draining.locPrf).toBe(0);

    // Undrained before the withdrawal: back to the normal preference.
    await announce(SERVICE, []);
    const restored = await pathAs(false);
    expect(restored.locPrf ?? 100).toBe(100);

    const table = await frr.json<{ routes?: Record<string, unknown> }>('show ip bgp json');
    expect(Object.keys(table.routes ?? {})).toEqual([SERVICE]);
  }, 60_000);
});
