/**
 * The lab toolkit on real daemons: gobgpd and BIRD 2 in two namespaces joined by a veth,
 * routes added with the `gobgp` CLI read back from BIRD with every attribute, and a lab
 * that leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { parsePrefix } from '../src/core/prefix.js';
import { community, startBird, type BirdInstance, type BirdRoute } from '../lab/bird.js';
import { startGobgpd, type GobgpdInstance } from '../lab/gobgpd.js';
import { Lab, listNamespaces, run } from '../lab/netns.js';
import { labRequirements } from '../lab/requirements.js';
import { startService } from '../lab/service.js';

const requirements = labRequirements();
if (!requirements.ok) console.warn(`lab-toolkit tests skipped: ${requirements.reason}`);

/** Generous: a session needs about a second with the lab timers; this only bounds a failure. */
const SESSION_TIMEOUT = ms(30_000);
const ROUTE_TIMEOUT = ms(20_000);

/** Waits until BIRD holds exactly `count` routes for `prefix` and returns them. */
async function routesAt(bird: BirdInstance, prefix: string, count: number): Promise<BirdRoute[]> {
  const p = parsePrefix(prefix);
  return bird.control.waitFor(
    async (b) => {
      const routes = await b.showRoute(p);
      return routes.length === count ? routes : undefined;
    },
    ROUTE_TIMEOUT,
    { what: `${count} route(s) for ${prefix} at BIRD` },
  );
}

describe.skipIf(!requirements.ok)('lab toolkit on real daemons', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await Lab.create('toolkit');
  });

  afterAll(async () => {
    // Also runs after a failed test: nothing of this file may be left on the machine.
    await lab?.teardown();
  });

  describe('eBGP between gobgpd and BIRD', () => {
    let bird: BirdInstance;
    let gobgpd: GobgpdInstance;

    beforeAll(async () => {
      const router = await lab.namespace('r1');
      const speaker = await lab.namespace('s1');
      await lab.veth(
        { ns: speaker, device: 'eth0', addresses: ['192.0.2.1/24', '2001:db8:1::1/64'] },
        { ns: router, device: 'eth0', addresses: ['192.0.2.2/24', '2001:db8:1::2/64'] },
      );
      bird = await startBird(lab, router, {
        routerId: '192.0.2.2',
        neighbors: [{ name: 'speaker', address: '192.0.2.1', localAs: 65002, peerAs: 65001 }],
      });
      gobgpd = await startGobgpd(lab, speaker, {
        as: 65001,
        routerId: '192.0.2.1',
        neighbors: [{ address: '192.0.2.2', peerAs: 65002, passive: true }],
      });
    });

    it('brings the session up, as BIRD sees it', async () => {
      const state = await bird.control.waitEstablished('speaker', SESSION_TIMEOUT);
      expect(state).toMatchObject({ name: 'speaker', proto: 'BGP', state: 'up', established: true });
    });

    it('shows an IPv4 route with its attributes at BIRD, and drops it when deleted', async () => {
      await bird.control.waitEstablished('speaker', SESSION_TIMEOUT);
      await gobgpd.cli([
        'global', 'rib', 'add', '-a', 'ipv4', '203.0.113.10/32', 'nexthop', '192.0.2.1', 'origin', 'igp',
        'med', '10', 'community', '65001:10', 'large-community', '65001:1:10',
      ]);
      const [route] = await routesAt(bird, '203.0.113.10/32', 1);
      expect(route).toMatchObject({
        prefix: { key: '203.0.113.10/32' },
        table: 'master4',
        kind: 'unicast',
        protocol: 'speaker',
        primary: true,
        type: 'BGP univ',
        gateways: [{ address: '192.0.2.1', device: 'eth0' }],
        bgp: {
          origin: 'igp',
          asPath: [65001],
          nextHop: ['192.0.2.1'],
          med: 10,
          communities: [community(65001, 10)],
          largeCommunities: [{ global: 65001, local1: 1, local2: 10 }],
        },
      });

      await gobgpd.cli(['global', 'rib', 'del', '-a', 'ipv4', '203.0.113.10/32']);
      expect(await routesAt(bird, '203.0.113.10/32', 0)).toEqual([]);
    });

    it('shows an IPv6 route with its attributes at BIRD, and drops it when deleted', async () => {
      await bird.control.waitEstablished('speaker', SESSION_TIMEOUT);
      await gobgpd.cli([
        'global', 'rib', 'add', '-a', 'ipv6', '2001:db8:ff::10/128', 'nexthop', '2001:db8:1::1',
        'med', '20', 'community', '65001:20', 'large-community', '65001:2:20',
      ]);
      const [route] = await routesAt(bird, '2001:db8:ff::10/128', 1);
      expect(route).toMatchObject({
        prefix: { key: '2001:db8:ff::10/128', family: 6 },
        table: 'master6',
        protocol: 'speaker',
        gateways: [{ address: '2001:db8:1::1', device: 'eth0' }],
        bgp: {
          // The gobgp CLI's default origin.
          origin: 'incomplete',
          asPath: [65001],
          med: 20,
          communities: [community(65001, 20)],
          largeCommunities: [{ global: 65001, local1: 2, local2: 20 }],
        },
      });
      expect(route!.bgp.nextHop[0]).toBe('2001:db8:1::1');

      await gobgpd.cli(['global', 'rib', 'del', '-a', 'ipv6', '2001:db8:ff::10/128']);
      expect(await routesAt(bird, '2001:db8:ff::10/128', 0)).toEqual([]);
    });

    it('drops the routes of a speaker that dies (no graceful restart)', async () => {
      await gobgpd.cli(['global', 'rib', 'add', '-a', 'ipv4', '203.0.113.20/32', 'nexthop', '192.0.2.1']);
      await routesAt(bird, '203.0.113.20/32', 1);
      gobgpd.process.kill('SIGKILL');
      await gobgpd.process.exited;
      // The kernel closes the dead process's session; BIRD must forget the routes, not keep them.
      expect(await routesAt(bird, '203.0.113.20/32', 0)).toEqual([]);
      const state = await bird.control.protocolState('speaker');
      expect(state?.established).toBe(false);
    });
  });

  describe('iBGP between gobgpd and BIRD', () => {
    it('carries local-pref', async () => {
      const router = await lab.namespace('r2');
      const speaker = await lab.namespace('s2');
      await lab.veth(
        { ns: speaker, device: 'eth0', addresses: ['198.51.100.1/24', '2001:db8:2::1/64'] },
        { ns: router, device: 'eth0', addresses: ['198.51.100.2/24', '2001:db8:2::2/64'] },
      );
      const bird = await startBird(lab, router, {
        routerId: '198.51.100.2',
        neighbors: [{ name: 'speaker2', address: '198.51.100.1', localAs: 65010, peerAs: 65010 }],
      });
      const gobgpd = await startGobgpd(lab, speaker, {
        as: 65010,
        routerId: '198.51.100.1',
        neighbors: [{ address: '198.51.100.2', peerAs: 65010, passive: true }],
      });
      await bird.control.waitEstablished('speaker2', SESSION_TIMEOUT);

      await gobgpd.cli(['global', 'rib', 'add', '-a', 'ipv4', '203.0.113.30/32', 'nexthop', '198.51.100.1', 'local-pref', '250', 'med', '5']);
      await gobgpd.cli(['global', 'rib', 'add', '-a', 'ipv6', '2001:db8:ff::30/128', 'nexthop', '2001:db8:2::1', 'local-pref', '150']);
      const [v4] = await routesAt(bird, '203.0.113.30/32', 1);
      const [v6] = await routesAt(bird, '2001:db8:ff::30/128', 1);
      expect(v4).toMatchObject({ protocol: 'speaker2', gateways: [{ address: '198.51.100.1' }], bgp: { localPref: 250, med: 5, asPath: [] } });
      expect(v6).toMatchObject({ protocol: 'speaker2', gateways: [{ address: '2001:db8:2::1' }], bgp: { localPref: 150, asPath: [] } });
    });
  });

  describe('demo service', () => {
    it('answers, fails its health check on demand, dies by PID and comes back on the same port', async () => {
      const service = await startService(lab, undefined, { host: '127.0.0.1', port: 0, body: 'node-a' });
      expect(await (await fetch(service.url)).text()).toBe('node-a\n');
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);

      service.failHealth();
      await expect.poll(async () => (await fetch(`${service.url}/healthz`)).status).toBe(503);
      service.restoreHealth();
      await expect.poll(async () => (await fetch(`${service.url}/healthz`)).status).toBe(200);

      await service.kill();
      expect(service.process.exitStatus?.signal).toBe('SIGKILL');
      await expect(fetch(service.url)).rejects.toThrow();

      const again = await service.restart();
      expect(again.pid).not.toBe(service.pid);
      expect(again.port).toBe(service.port);
      expect(await (await fetch(again.url)).text()).toBe('node-a\n');
    });
  });

  describe('one segment through a bridge', () => {
    it('lets a namespace reach the demo service in another one', async () => {
      const segment = await lab.namespace('sw');
      await segment.addBridge('br0');
      const a = await lab.namespace('a');
      const b = await lab.namespace('b');
      await lab.veth({ ns: a, device: 'eth0', addresses: ['192.0.2.129/25'] }, { ns: segment, device: 'a0', bridge: 'br0' });
      await lab.veth({ ns: b, device: 'eth0', addresses: ['192.0.2.130/25'] }, { ns: segment, device: 'b0', bridge: 'br0' });
      const service = await startService(lab, a, { host: '192.0.2.129', port: 8080, body: 'node-a' });

      const client = `fetch(${JSON.stringify(service.url)}).then((r) => r.text()).then((t) => process.stdout.write(t))`;
      const { stdout } = await b.exec(process.execPath, ['-e', client]);
      expect(stdout).toBe('node-a\n');
    });
  });

  describe('teardown', () => {
    it('sweeps what a crashed run with the same tag left behind', async () => {
      // A pid that cannot be running: above the kernel's pid_max.
      const stale = 'qt-toolkit-sw-99999999-x';
      await run('ip', ['netns', 'add', stale]);
      try {
        const fresh = await Lab.create('toolkit-sw');
        expect(await listNamespaces()).not.toContain(stale);
        await fresh.teardown();
      } finally {
        await run('ip', ['netns', 'del', stale], { allowFailure: true });
      }
    });

    it('removes every namespace and stops every process it started', async () => {
      const small = await Lab.create('toolkit-td');
      const ns = await small.namespace('only');
      const sleeper = await ns.spawn('sleep', 'sleep', ['600']);
      expect(await listNamespaces()).toContain(ns.name);

      await small.teardown();

      expect(sleeper.running).toBe(false);
      expect((await listNamespaces()).filter((name) => name.startsWith(small.prefix))).toEqual([]);
    });

    it('leaves none of this file\'s namespaces behind', async () => {
      await lab.teardown();
      expect((await listNamespaces()).filter((name) => name.startsWith(lab.prefix))).toEqual([]);
      expect(lab.processes.every((p) => !p.running)).toBe(true);
    });
  });
});
