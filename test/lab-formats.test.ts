/**
 * Unit tests of the lab's formats: BIRD's route listing, BIRD's control-socket line protocol
 * (against a scripted socket), and the configs it renders (checked by the daemons' own
 * config checkers where installed).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrefix } from '../src/core/prefix.js';
import { BirdControl } from '../lab/bird-control.js';
import { community, parseRoutes } from '../lab/bird-route.js';
import { birdConfig } from '../lab/bird.js';
import { gobgpdConfig } from '../lab/gobgpd-config.js';
import { missingPrograms } from '../lab/requirements.js';

const run = promisify(execFile);

const LISTING = [
  'Table master4:',
  '203.0.113.10/32      unicast [east 06:22:34.945] * (100) [AS65001i]',
  '\tvia 192.0.2.1 on eth0',
  '\tType: BGP univ',
  '\tBGP.origin: IGP',
  '\tBGP.as_path: 65001 65003 65003',
  '\tBGP.next_hop: 192.0.2.1',
  '\tBGP.med: 10',
  '\tBGP.local_pref: 100',
  '\tBGP.community: (65001,10) (65001,20)',
  '\tBGP.large_community: (65001, 1, 10) (65001, 2, 20)',
  '                     unicast [west 06:22:35.100 from 198.51.100.1] (100) [AS65002?]',
  '\tvia 198.51.100.7 on eth1',
  '\tType: BGP univ',
  '\tBGP.origin: Incomplete',
  '\tBGP.as_path: 65002',
  '\tBGP.next_hop: 198.51.100.7',
  '\tBGP.local_pref: 100',
  '',
  'Table master6:',
  '2001:db8:ff::10/128  unicast [east 06:22:34.966] * (100) [AS65001?]',
  '\tvia 2001:db8:1::1 on eth0',
  '\tType: BGP univ',
  '\tBGP.next_hop: 2001:db8:1::1 fe80::1',
].join('\n');

describe('parseRoutes', () => {
  const routes = parseRoutes(LISTING);

  it('finds every route, including a second path for the same prefix', () => {
    expect(routes.map((r) => [r.table, r.prefix.key, r.protocol, r.primary])).toEqual([
      ['master4', '203.0.113.10/32', 'east', true],
      ['master4', '203.0.113.10/32', 'west', false],
      ['master6', '2001:db8:ff::10/128', 'east', true],
    ]);
  });

  it('reads every BGP attribute', () => {
    expect(routes[0]).toMatchObject({
      gateways: [{ address: '192.0.2.1', device: 'eth0' }],
      type: 'BGP univ',
      bgp: {
        origin: 'igp',
        asPath: [65001, 65003, 65003],
        nextHop: ['192.0.2.1'],
        med: 10,
        localPref: 100,
        communities: [community(65001, 10), community(65001, 20)],
        largeCommunities: [
          { global: 65001, local1: 1, local2: 10 },
          { global: 65001, local1: 2, local2: 20 },
        ],
      },
    });
    expect(routes[1]).toMatchObject({ from: '198.51.100.1', bgp: { origin: 'incomplete', asPath: [65002] } });
    expect(routes[1]!.bgp.med).toBeUndefined();
    expect(routes[2]!.bgp.nextHop).toEqual(['2001:db8:1::1', 'fe80::1']);
    expect(routes[0]!.attributes['BGP.med']).toBe('10');
  });

  it('encodes communities as the agent config does (asn<<16 | value), never negative', () => {
    expect(community(65001, 10)).toBe(65001 * 65536 + 10);
    expect(community(65535, 65535)).toBe(0xffffffff);
  });
});

describe('BirdControl line protocol (scripted socket)', () => {
  let dir: string;
  let server: Server;
  let control: BirdControl;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qt-formats-'));
    const path = join(dir, 'bird.ctl');
    const replies: Record<string, string> = {
      'show route 203.0.113.10/32 all': LISTING.split('\n')
        .slice(0, 18)
        .map((line, i) => (i === 0 ? `1007-${line}` : ` ${line}`))
        .join('\n') + '\n0000 \n',
      'show route 198.51.100.0/24 all': '8001 Network not found\n',
      'show protocols east': '2002-Name       Proto      Table      State  Since         Info\n1002-east       BGP        ---        up     06:22:29.533  Established   \n0000 \n',
      'show protocols west': '2002-Name       Proto      Table      State  Since         Info\n1002-west       BGP        ---        start  06:22:29.533  Active        Socket: Connection refused\n0000 \n',
      'bogus': '9001 syntax error, unexpected CF_SYM_UNDEFINED\n',
    };
    server = createServer((socket) => {
      // Split every reply into 7-byte pieces: the client must reassemble lines itself.
      const send = (text: string): void => {
        for (let i = 0; i < text.length; i += 7) socket.write(text.slice(i, i + 7));
      };
      send('0001 BIRD 2.0.12 ready.\n');
      let pending = '';
      socket.on('data', (chunk) => {
        pending += chunk.toString();
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const command = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          send(replies[command] ?? '9001 unknown\n');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    control = await BirdControl.connect(path);
  });

  afterAll(async () => {
    control?.close();
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('parses routes from a reply that arrives in pieces', async () => {
    const routes = await control.showRoute(parsePrefix('203.0.113.10/32'));
    expect(routes.map((r) => r.protocol)).toEqual(['east', 'west']);
    expect(routes[0]!.bgp.med).toBe(10);
  });

  it('answers pipelined commands in order', async () => {
    const [east, west, none] = await Promise.all([
      control.protocolState('east'),
      control.protocolState('west'),
      control.showRoute(parsePrefix('198.51.100.0/24')),
    ]);
    expect(east).toMatchObject({ name: 'east', state: 'up', info: 'Established', established: true });
    expect(west).toMatchObject({ state: 'start', established: false });
    expect(west!.info).toMatch(/^Active/);
    expect(none).toEqual([]);
  });

  it('rejects a command BIRD refuses, with its code', async () => {
    await expect(control.command('bogus')).rejects.toMatchObject({ code: 9001 });
  });
});

const missingGobgpd = missingPrograms({ gobgpd: 'gobgpd' });
const missingBird = missingPrograms({ bird: 'bird2' });
if (missingGobgpd.length) console.warn(`gobgpd config check skipped: missing ${missingGobgpd.join(', ')}`);
if (missingBird.length) console.warn(`BIRD config check skipped: missing ${missingBird.join(', ')}`);

/** A config file in a temp dir, removed afterwards. */
async function withFile(name: string, text: string, use: (path: string) => Promise<unknown>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'qt-formats-'));
  try {
    await writeFile(join(dir, name), text);
    await use(join(dir, name));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const GOBGPD_TEXT = gobgpdConfig({
  as: 65001,
  routerId: '192.0.2.1',
  listenPort: 'none',
  neighbors: [
    { address: '192.0.2.2', peerAs: 65002, passive: true },
    { address: '2001:db8::2', peerAs: 65001, families: ['ipv6'] },
  ],
});

const BIRD_TEXT = birdConfig({
  routerId: '192.0.2.2',
  neighbors: [
    { name: 'east', address: '192.0.2.1', localAs: 65002, peerAs: 65001 },
    { name: 'west', address: '2001:db8::1', localAs: 65002, peerAs: 65002, families: ['ipv6'], passive: true },
  ],
});

describe('rendered configs', () => {

  it('gobgpd: neighbors, families, short timers, no graceful restart, port -1', async () => {
    const toml = parse(GOBGPD_TEXT) as {
      global: { config: Record<string, unknown> };
      neighbors: { config: Record<string, unknown>; timers: { config: Record<string, unknown> }; 'graceful-restart': { config: { enabled: boolean } }; 'afi-safis': { config: { 'afi-safi-name': string } }[] }[];
    };
    expect(toml.global.config).toEqual({ as: 65001, 'router-id': '192.0.2.1', port: -1 });
    expect(toml.neighbors).toHaveLength(2);
    expect(toml.neighbors[0]!.timers.config).toMatchObject({ 'connect-retry': 1, 'hold-time': 3, 'keepalive-interval': 1 });
    expect(toml.neighbors[0]!['graceful-restart'].config.enabled).toBe(false);
    expect(toml.neighbors[0]!['afi-safis'].map((a) => a.config['afi-safi-name'])).toEqual(['ipv4-unicast', 'ipv6-unicast']);
    expect(toml.neighbors[1]!['afi-safis'].map((a) => a.config['afi-safi-name'])).toEqual(['ipv6-unicast']);
    expect(() => gobgpdConfig({ as: 65001, routerId: 'not-an-ip', neighbors: [] })).toThrow(/router-id/);
  });

  it.skipIf(missingGobgpd.length > 0)('gobgpd accepts its config (gobgpd --dry-run)', async () => {
    await withFile('gobgpd.toml', GOBGPD_TEXT, (path) => run('gobgpd', ['-d', '-f', path]));
  });

  it('BIRD: eBGP and iBGP neighbors, short timers, no graceful restart', () => {
    const text = BIRD_TEXT;
    expect(text).toContain('graceful restart off;');
    expect(text).toMatch(/hold time 3;/);
    expect(text).toMatch(/protocol bgp west \{[^}]*direct;/);
    expect(() => birdConfig({ routerId: '192.0.2.2', neighbors: [{ name: 'a-b', address: '192.0.2.1', localAs: 1, peerAs: 2 }] })).toThrow(/protocol name/);
  });

  it.skipIf(missingBird.length > 0)('BIRD accepts its config (bird -p)', async () => {
    await withFile('bird.conf', BIRD_TEXT, (path) => run('bird', ['-p', '-c', path]));
  });
});
