/**
 * The ARP edge on the real kernel and the real tools (ip, arping, na6), in namespaces this
 * file creates and removes: two servers (srvA, srvB) and a client (cli) on one bridge.
 *
 * What a user would check: the address appears with a lifetime and disappears by itself
 * when nobody renews it (S4's dead-man switch); a renewal keeps it; a removal is immediate;
 * after a gratuitous ARP / unsolicited NA the client's neighbour cache carries the new
 * holder's MAC; a duplicate-address probe sees a holder; the reconciler holds, releases,
 * repairs drift, cleans up and stops without leaving anything behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { ms, type Millis } from '../src/core/duration.js';
import { parsePrefix, type Prefix, type PrefixKey } from '../src/core/prefix.js';
import { probeAddressInUse } from '../src/arp/duplicate-probe.js';
import { announceAddress } from '../src/arp/gratuitous.js';
import { localHostCommands, type HostCommands } from '../src/arp/host-commands.js';
import { holdAddress, kernelLifetime, removeAddress, type KernelLifetime } from '../src/arp/host-address.js';
import { arpUsability, readInterface, type InterfaceState } from '../src/arp/interface-state.js';
import { ArpReconciler, type DesiredArpEntry } from '../src/arp/reconcile-arp.js';
import { Lab, type Namespace } from '../lab/netns.js';
import { labRequirements } from '../lab/requirements.js';
import { waitUntil } from '../lab/wait.js';

const requirements = labRequirements({ programs: { arping: 'iputils-arping', na6: 'ipv6toolkit' } });
if (!requirements.ok) console.warn(`arp-kernel tests skipped: ${requirements.reason}`);

const VIP4 = parsePrefix('198.51.100.10/32');
const VIP6 = parsePrefix('2001:db8:5::10/128');
const IF = 'e0';

/** Runs the ARP edge's commands inside a namespace, as the agent would run inside its own. */
function inNamespace(ns: Namespace): HostCommands {
  return { run: (argv, opts) => localHostCommands.run(['ip', 'netns', 'exec', ns.name, ...argv], opts) };
}

function lifetimeOf(seconds: number): KernelLifetime {
  const d = kernelLifetime(ms(seconds * 1000), ms(3_600_000));
  if (!d.hold) throw new Error('unreachable');
  return d.lifetime;
}

async function stateOf(cmd: HostCommands, name = IF): Promise<InterfaceState | undefined> {
  const r = await readInterface(cmd, name);
  if (!r.ok) throw new Error(r.reason);
  return r.state;
}

async function present(cmd: HostCommands, vip: Prefix): Promise<{ validLft: number | undefined } | undefined> {
  const s = await stateOf(cmd);
  return s?.addresses.find((a) => a.address === vip.address && a.prefixLength === vip.length);
}

/** The client's neighbour entry for `vip` (`ip -j neigh show`), lower-case MAC or undefined. */
async function clientMac(cli: Namespace, vip: Prefix): Promise<string | undefined> {
  const { stdout } = await cli.ip([vip.family === 6 ? '-6' : '-4', '-j', 'neigh', 'show', vip.address]);
  const entries = JSON.parse(stdout || '[]') as { dst: string; lladdr?: string }[];
  return entries.find((e) => e.dst === vip.address)?.lladdr?.toLowerCase();
}

/** One UDP datagram from the client to the address: enough for its kernel to resolve it. */
async function clientSends(cli: Namespace, vip: Prefix): Promise<void> {
  await cli.exec('bash', ['-c', `echo probe > /dev/udp/${vip.address}/9`], { allowFailure: true });
}

const sleep = (t: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, t));

describe.skipIf(!requirements.ok)('ARP edge on the real kernel', () => {
  let lab: Lab;
  let srvA: Namespace;
  let srvB: Namespace;
  let cli: Namespace;
  let a: HostCommands;
  let b: HostCommands;
  let macA: string;
  let macB: string;

  beforeAll(async () => {
    lab = await Lab.build('arpk', async (l) => {
      const br = await l.namespace('br');
      await br.addBridge('br0');
      srvA = await l.namespace('srva');
      srvB = await l.namespace('srvb');
      cli = await l.namespace('cli');
      await l.veth({ ns: srvA, device: IF, addresses: ['198.51.100.2/24', '2001:db8:5::2/64'] }, { ns: br, device: 'pa', bridge: 'br0' });
      await l.veth({ ns: srvB, device: IF, addresses: ['198.51.100.3/24', '2001:db8:5::3/64'] }, { ns: br, device: 'pb', bridge: 'br0' });
      await l.veth({ ns: cli, device: IF, addresses: ['198.51.100.100/24', '2001:db8:5::100/64'] }, { ns: br, device: 'pc', bridge: 'br0' });
      // An interface that is down, with an address of another subnet.
      await l.veth({ ns: srvA, device: 'x0', addresses: ['192.0.2.1/24'] }, { ns: srvA, device: 'x1' });
      await srvA.ip(['link', 'set', 'dev', 'x0', 'down']);
      return l;
    });
    a = inNamespace(srvA);
    b = inNamespace(srvB);
    macA = (await stateOf(a))!.mac!;
    macB = (await stateOf(b))!.mac!;
    expect(macA).not.toBe(macB);
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  describe('arpUsability on real interfaces', () => {
    it('is usable on an up veth with an address in the subnet, for IPv4 and IPv6', async () => {
      const s = await stateOf(a);
      expect(s?.up).toBe(true);
      expect(arpUsability(s, VIP4)).toEqual({ usable: true });
      expect(arpUsability(s, VIP6)).toEqual({ usable: true });
    });
    it('is not usable without an address in the subnet, on a down interface, or a missing one', async () => {
      expect(arpUsability(await stateOf(a), parsePrefix('203.0.113.10/32'))).toMatchObject({ usable: false, reason: expect.stringContaining('no IPv4 address') });
      const down = await stateOf(a, 'x0');
      expect(down?.up).toBe(false);
      expect(arpUsability(down, parsePrefix('192.0.2.10/32'))).toMatchObject({ usable: false, reason: expect.stringContaining('not up') });
      expect(await stateOf(a, 'nosuch0')).toBeUndefined();
    });
  });

  describe('the address with a kernel lifetime', () => {
    it('is added with its lifetime and gone after it ends when nobody renews it (S4 dead-man)', async () => {
      for (const vip of [VIP4, VIP6]) expect(await holdAddress(a, IF, vip, lifetimeOf(2))).toEqual({ ok: true });
      for (const vip of [VIP4, VIP6]) {
        const held = await present(a, vip);
        expect(held?.validLft).toBeGreaterThan(0);
        expect(held?.validLft).toBeLessThanOrEqual(2);
      }
      // The agent "stops": no renewal. Gone within lifetime + 2 s (a generous bound).
      for (const vip of [VIP4, VIP6]) {
        await waitUntil(async () => (await present(a, vip)) === undefined, { timeout: ms(4000), what: `${vip.key} to expire`, interval: ms(100) });
      }
    });

    it('stays while renewed, past twice its lifetime; replace restarts the lifetime', async () => {
      for (const vip of [VIP4, VIP6]) expect(await holdAddress(a, IF, vip, lifetimeOf(1))).toEqual({ ok: true });
      const started = Date.now();
      while (Date.now() - started < 2500) {
        await sleep(300);
        for (const vip of [VIP4, VIP6]) expect(await holdAddress(a, IF, vip, lifetimeOf(1))).toEqual({ ok: true });
      }
      for (const vip of [VIP4, VIP6]) expect(await present(a, vip)).toBeDefined();
      // A longer lifetime by replace: read back, the kernel counts the new one.
      for (const vip of [VIP4, VIP6]) {
        expect(await holdAddress(a, IF, vip, lifetimeOf(30))).toEqual({ ok: true });
        expect((await present(a, vip))?.validLft).toBeGreaterThan(1);
      }
    });

    it('is removed at once, and removing again (or on a missing interface) is success', async () => {
      for (const vip of [VIP4, VIP6]) {
        expect(await present(a, vip)).toBeDefined();
        expect(await removeAddress(a, IF, vip)).toEqual({ ok: true });
        expect(await present(a, vip)).toBeUndefined();
        expect(await removeAddress(a, IF, vip)).toEqual({ ok: true });
        expect(await removeAddress(a, 'nosuch0', vip)).toEqual({ ok: true });
      }
    });
  });

  describe('gratuitous announcements move the client to the new holder', () => {
    it('IPv4: arping request form, then reply form, each retrains the client', async () => {
      await holdAddress(a, IF, VIP4, lifetimeOf(60));
      await clientSends(cli, VIP4);
      await waitUntil(async () => (await clientMac(cli, VIP4)) === macA, { timeout: ms(5000), what: 'client to resolve the address to srvA' });

      // Takeover by srvB with the request form only.
      await removeAddress(a, IF, VIP4);
      await holdAddress(b, IF, VIP4, lifetimeOf(60));
      const toB = announceAddress(b, IF, VIP4, { forms: ['request'], count: 2, interval: ms(200) });
      expect(await toB.done).toEqual({ ok: true, sent: 2 });
      await waitUntil(async () => (await clientMac(cli, VIP4)) === macB, { timeout: ms(5000), what: "client's entry to carry srvB's MAC" });

      // And back to srvA with the reply form only.
      await removeAddress(b, IF, VIP4);
      await holdAddress(a, IF, VIP4, lifetimeOf(60));
      const toA = announceAddress(a, IF, VIP4, { forms: ['reply'], count: 2, interval: ms(200) });
      expect(await toA.done).toEqual({ ok: true, sent: 2 });
      await waitUntil(async () => (await clientMac(cli, VIP4)) === macA, { timeout: ms(5000), what: "client's entry to carry srvA's MAC again" });
      await removeAddress(a, IF, VIP4);
    });

    it('IPv6: an unsolicited NA with the override flag retrains the client', async () => {
      await holdAddress(a, IF, VIP6, lifetimeOf(60));
      await clientSends(cli, VIP6);
      await waitUntil(async () => (await clientMac(cli, VIP6)) === macA, { timeout: ms(5000), what: 'client to resolve the IPv6 address to srvA' });
      await removeAddress(a, IF, VIP6);
      await holdAddress(b, IF, VIP6, lifetimeOf(60));
      const started = performance.now();
      const na = announceAddress(b, IF, VIP6, { forms: ['request', 'reply'], count: 1, interval: ms(200) });
      expect(await na.done).toEqual({ ok: true, sent: 1 });
      console.info(`na6: one unsolicited NA took ${Math.round(performance.now() - started)} ms`);
      await waitUntil(async () => (await clientMac(cli, VIP6)) === macB, { timeout: ms(5000), what: "client's IPv6 entry to carry srvB's MAC" });
      await removeAddress(b, IF, VIP6);
    });

    it('reports a failure as a result (the address is not on the interface), and can be cancelled', async () => {
      const failed = await announceAddress(b, 'nosuch0', VIP4, { forms: ['request'], count: 1, interval: ms(100) }).done;
      expect(failed).toMatchObject({ ok: false, sent: 0, reason: expect.stringContaining('arping') });
      await holdAddress(b, IF, VIP4, lifetimeOf(60));
      const long = announceAddress(b, IF, VIP4, { forms: ['request'], count: 50, interval: ms(1000) });
      await sleep(100);
      long.cancel();
      expect(await long.done).toMatchObject({ ok: false, cancelled: true });
      await removeAddress(b, IF, VIP4);
    });
  });

  describe('duplicate-address probe', () => {
    it('sees a holder (with its MAC) and nobody once it is gone, IPv4 (arping -D) and IPv6 (ndisc6)', async () => {
      await holdAddress(a, IF, VIP4, lifetimeOf(60));
      expect(await probeAddressInUse(b, IF, VIP4, { wait: ms(300) })).toEqual({ inUse: true, mac: macA });
      await removeAddress(a, IF, VIP4);
      const started = performance.now();
      expect(await probeAddressInUse(b, IF, VIP4, { wait: ms(300) })).toEqual({ inUse: false });
      console.info(`arping -D with a 300 ms wait, nobody answering: ${Math.round(performance.now() - started)} ms`);
      expect(await probeAddressInUse(b, IF, VIP4, { wait: ms(2000), count: 2 })).toEqual({ inUse: false });
      await holdAddress(a, IF, VIP6, lifetimeOf(60));
      expect(await probeAddressInUse(b, IF, VIP6, { wait: ms(300) })).toEqual({ inUse: true, mac: macA });
      await removeAddress(a, IF, VIP6);
      expect(await probeAddressInUse(b, IF, VIP6, { wait: ms(300) })).toEqual({ inUse: false });
      expect(await probeAddressInUse(b, 'nosuch0', VIP6, { wait: ms(300) })).toMatchObject({ inUse: 'unknown' });
      expect(await probeAddressInUse(b, 'nosuch0', VIP4, { wait: ms(300) })).toMatchObject({ inUse: 'unknown' });
    });
  });

  describe('ArpReconciler end to end', () => {
    const logger = pino({ level: 'silent' });
    const now = (): Millis => ms(performance.now());
    const entry = (prefix: Prefix, validFor: number): [PrefixKey, DesiredArpEntry] => [prefix.key, { prefix, interface: IF, until: ms(now() + validFor) }];
    const options = { lifetime: ms(2000), syncInterval: ms(500), garp: { count: 2, interval: ms(100), refresh: ms(1000) } };

    it('cleans up leftovers, holds, retrains the client, repairs drift, releases at once, stops clean', async () => {
      const leftover = parsePrefix('198.51.100.11/32');
      await srvB.ip(['addr', 'add', leftover.key, 'dev', IF]); // from "an earlier run", no lifetime
      const errors: Error[] = [];
      const r = new ArpReconciler({ cmd: b, logger, options, onError: (e) => errors.push(e) });
      try {
        await r.cleanup([{ prefix: leftover, interface: IF }, { prefix: VIP4, interface: IF }, { prefix: VIP6, interface: IF }]);
        expect(await present(b, leftover)).toBeUndefined();

        // The client last knew srvA for both addresses (earlier tests): take them to srvB.
        await r.setDesired(new Map([entry(VIP4, 60_000), entry(VIP6, 60_000)]));
        expect([...r.held().keys()].sort()).toEqual([VIP6.key, VIP4.key].sort());
        expect(r.released(VIP4.key)).toBe(false);
        for (const vip of [VIP4, VIP6]) {
          expect((await present(b, vip))?.validLft).toBeLessThanOrEqual(2);
          await clientSends(cli, vip);
          await waitUntil(async () => (await clientMac(cli, vip)) === macB, { timeout: ms(5000), what: `client to reach ${vip.key} at srvB` });
        }

        // Renewed by its own timers: still there after twice the lifetime.
        await sleep(4500);
        for (const vip of [VIP4, VIP6]) expect(await present(b, vip)).toBeDefined();

        // Removed by hand: back within the sync interval (a generous bound).
        await srvB.deleteAddress(IF, VIP4.key);
        await waitUntil(async () => (await present(b, VIP4)) !== undefined, { timeout: ms(3000), what: 'the removed address to be re-added' });

        // Nothing desired: gone when setDesired resolves, reported released.
        await r.setDesired(new Map());
        for (const vip of [VIP4, VIP6]) expect(await present(b, vip)).toBeUndefined();
        expect(r.held().size).toBe(0);
        expect(r.released(VIP4.key) && r.released(VIP6.key)).toBe(true);

        // Less than one whole second of validity: not held at all.
        await r.setDesired(new Map([entry(VIP4, 800)]));
        expect(await present(b, VIP4)).toBeUndefined();
        expect(r.released(VIP4.key)).toBe(true);

        // A leftover that reappears (an operator, a stale script) is removed by the sync.
        await srvB.ip(['addr', 'add', leftover.key, 'dev', IF]);
        await waitUntil(async () => (await present(b, leftover)) === undefined, { timeout: ms(3000), what: 'the sync to remove a managed address nobody wants' });

        await r.setDesired(new Map([entry(VIP4, 60_000), entry(VIP6, 60_000)]));
        expect(r.held().size).toBe(2);
      } finally {
        await r.stop();
      }
      for (const vip of [VIP4, VIP6, leftover]) expect(await present(b, vip)).toBeUndefined();
      expect(r.held().size).toBe(0);
      expect(errors).toEqual([]);
    });

    it('when its event loop stalls, the kernel drops the address (S4), and a validity that ends removes it', async () => {
      const monitor = await srvB.spawn('ip-monitor', 'ip', ['monitor', 'address']);
      const r = new ArpReconciler({ cmd: b, logger, options: { ...options, lifetime: ms(1000) } });
      try {
        await r.setDesired(new Map([entry(VIP4, 60_000)]));
        expect(await present(b, VIP4)).toBeDefined();
        // Block this process's event loop for 3 s: no timer can renew.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
        await monitor.waitForOutput(/Deleted.*198\.51\.100\.10\/32/, ms(2000));

        // The validity (quorum) ends while nothing else changes: the address goes with it.
        await r.setDesired(new Map([entry(VIP4, 1600)]));
        expect(await present(b, VIP4)).toBeDefined();
        await waitUntil(async () => (await present(b, VIP4)) === undefined && r.released(VIP4.key), { timeout: ms(4000), what: 'removal when the validity ends' });
      } finally {
        await r.stop();
        await monitor.stop();
      }
      expect(await present(b, VIP4)).toBeUndefined();
    });
  });
});
