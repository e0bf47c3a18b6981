/**
 * The ARP lab's parts on a real failover, before quorate's own ARP exists: two server
 * namespaces and a client on one bridge, keepalived (Debian, VRRPv3) moving 192.0.2.100 and
 * 2001:db8:2::100 between them, the whoami service on both, the prober and the GARP watcher
 * in the client. The parts must show what the ARP scenarios will assert: who answers, which
 * MAC the client's neighbour entries carry, who announced the address, and the outage.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { hasAddress, joinClient, macsOf, type Client } from '../lab/arp-client.js';
import { parseTcpdumpLine, startGarpWatch, type GarpWatch } from '../lab/arp-garp-watch.js';
import { findOutages, twoNodeWindows, type ProbeSample } from '../lab/arp-probe-analysis.js';
import { parseNeighbourLine } from '../lab/arp-prober-wire.js';
import { startProber, type ArpProber } from '../lab/arp-prober.js';
import { epochMillis, epochNow, type EpochMillis } from '../lab/arp-clock.js';
import { keepalivedConfig } from '../lab/keepalived-config.js';
import { startKeepalived, type KeepalivedInstance } from '../lab/keepalived.js';
import { Lab, listNamespaces, run, type Namespace } from '../lab/netns.js';
import { labRequirements } from '../lab/requirements.js';
import { startService, type ServiceInstance } from '../lab/service.js';
import { startWhoami, type WhoamiInstance } from '../lab/arp-whoami.js';
import { waitUntil } from '../lab/wait.js';

const requirements = labRequirements({ programs: { keepalived: 'keepalived', tcpdump: 'tcpdump', curl: 'curl' } });
if (!requirements.ok) console.warn(`lab-arp tests skipped: ${requirements.reason}`);

const VIP4 = '192.0.2.100';
const VIP6 = '2001:db8:2::100';
const PORT = 7000;
/** Bounds a failure only: keepalived's check runs once a second, VRRP fails over in ~40 ms. */
const MOVE_TIMEOUT = ms(15_000);

type Node = 'a' | 'b';
const ADDRESS: Record<Node, { v4: string; v6: string }> = {
  a: { v4: '192.0.2.11/24', v6: '2001:db8:2::11/64' },
  b: { v4: '192.0.2.12/24', v6: '2001:db8:2::12/64' },
};
const PRIORITY: Record<Node, number> = { a: 200, b: 100 };

describe('ARP lab parsers', () => {
  it('reads gratuitous ARPs in both forms and unsolicited NAs from tcpdump -v -e', () => {
    const request = parseTcpdumpLine('1795855825.809785 66:cc:5d:43:1f:f3 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Ethernet (len 6), IPv4 (len 4), Request who-has 192.0.2.100 (ff:ff:ff:ff:ff:ff) tell 192.0.2.100, length 28', new Map([['66:cc:5d:43:1f:f3', 'a']]));
    expect(request).toMatchObject({ kind: 'arp-request', address: '192.0.2.100', mac: '66:cc:5d:43:1f:f3', node: 'a' });
    expect(request?.at).toBeCloseTo(1795855825809.785, 1);
    expect(parseTcpdumpLine('1795855826.830010 66:cc:5d:43:1f:f3 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Ethernet (len 6), IPv4 (len 4), Reply 192.0.2.100 is-at 66:cc:5d:43:1f:f3, length 28'))
      .toMatchObject({ kind: 'arp-reply', address: '192.0.2.100' });
    expect(parseTcpdumpLine('1.0 66:cc:5d:43:1f:f3 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Ethernet (len 6), IPv4 (len 4), Request who-has 192.0.2.100 tell 192.0.2.200, length 28'))
      .toBeUndefined();
    const na = parseTcpdumpLine('1795855827.868201 66:cc:5d:43:1f:f3 > 33:33:00:00:00:01, ethertype IPv6 (0x86dd), length 78: (hlim 255, next-header ICMPv6 (58) payload length: 24) 2001:db8:2::100 > ff02::1: [icmp6 sum ok] ICMP6, neighbor advertisement, length 24, tgt is 2001:db8:2::100, Flags [override]');
    expect(na).toMatchObject({ kind: 'na', address: '2001:db8:2::100', flags: ['override', 'unsolicited'] });
    expect(parseTcpdumpLine('\t  destination link-address option (2), length 8 (1): 66:cc:5d:43:1f:f3')).toBeUndefined();
  });

  it('reads ip monitor neigh lines', () => {
    expect(parseNeighbourLine('192.0.2.100 dev eth0 lladdr B2:F1:1A:AE:63:6C REACHABLE ', 5)).toEqual({
      type: 'neigh', at: 5, dst: '192.0.2.100', lladdr: 'b2:f1:1a:ae:63:6c', state: ['REACHABLE'], deleted: false,
    });
    expect(parseNeighbourLine('Deleted 2001:db8:2::100 dev eth0 lladdr b2:f1:1a:ae:63:6c router STALE', 5)).toMatchObject({ deleted: true, state: ['STALE'] });
    expect(parseNeighbourLine('192.0.2.100 dev eth0  FAILED', 5)).toMatchObject({ lladdr: null, state: ['FAILED'] });
  });

  it('finds outages by lost probes and windows with answers from two nodes', () => {
    // Probes every 10 ms to one target: a answers 1–3, 4–7 are lost, b answers 8–9, a late answer of 10 arrives after 11.
    const at = (seq: number, node: string, late = 0): ProbeSample => ({
      target: VIP4, seq, node, sentAt: epochMillis(seq * 10), receivedAt: epochMillis(seq * 10 + 1 + late), answeredAt: epochMillis(seq * 10 + 0.5),
    });
    const replies = [at(1, 'a'), at(2, 'a'), at(3, 'a'), at(8, 'b'), at(9, 'b'), at(11, 'b'), at(10, 'b', 15)];
    expect(findOutages(replies, [VIP4], new Map([[VIP4, 11]]), epochMillis(200))).toEqual([
      { target: VIP4, from: 31, to: 81, duration: 50, lost: 4, before: 'a', after: 'b' },
    ]);
    // Silence at the end: still going on.
    expect(findOutages(replies, [VIP4], new Map([[VIP4, 20]]), epochMillis(250)).at(-1)).toMatchObject({ from: 111, to: undefined, lost: 9, before: 'b' });
    expect(twoNodeWindows(replies, [VIP4], ms(20))).toEqual([]);
    expect(twoNodeWindows(replies, [VIP4], ms(60))).toEqual([{ target: VIP4, from: 21, to: 91, nodes: ['a', 'b'] }]);
    // Another target's answers never pair with this one's.
    expect(twoNodeWindows([at(1, 'a'), { ...at(2, 'b'), target: VIP6 }], [VIP4, VIP6], ms(20))).toEqual([]);
  });

  it('writes a VRRPv3 keepalived.conf at its fastest settings, IPv6 riding along as excluded', () => {
    const conf = keepalivedConfig({
      name: 'a', interface: 'eth0', vip: { v4: VIP4, v6: VIP6 }, priority: 200, virtualRouterId: 51, check: { url: 'http://127.0.0.1:1/healthz' },
    });
    expect(conf).toMatch(/vrrp_version 3/);
    expect(conf).toMatch(/advert_int 0\.01/);
    expect(conf).toMatch(/interval 1\n\s+timeout 1\n\s+fall 1\n\s+rise 1/);
    expect(conf).toMatch(/virtual_ipaddress \{\n\s+192\.0\.2\.100\/32\n/);
    expect(conf).toMatch(/virtual_ipaddress_excluded \{\n\s+2001:db8:2::100\/128 preferred_lft forever/);
    expect(() => keepalivedConfig({ name: 'a', interface: 'eth0', vip: {}, priority: 1, virtualRouterId: 1 })).toThrow(/vip/);
  });
});

describe.skipIf(!requirements.ok)('ARP lab parts on a keepalived failover', () => {
  let lab: Lab;
  let prefix: string;
  const ns = {} as Record<Node, Namespace>;
  const service = {} as Record<Node, ServiceInstance>;
  const keepalived = {} as Record<Node, KeepalivedInstance>;
  const whoami = {} as Record<Node, WhoamiInstance>;
  const pids: number[] = [];
  let client: Client;
  let prober: ArpProber;
  let garps: GarpWatch;
  let macs: Map<string, string>;
  const macOfNode = (node: Node): string => [...macs].find(([, n]) => n === node)![0];

  const startKeepalivedAt = async (node: Node): Promise<KeepalivedInstance> => {
    const k = await startKeepalived(lab, ns[node], {
      name: node, vip: { v4: VIP4, v6: VIP6 }, priority: PRIORITY[node], virtualRouterId: 51, checkUrl: `${service[node].url}/healthz`,
    });
    keepalived[node] = k;
    pids.push(k.pid, await k.vrrpPid());
    return k;
  };

  /** After a fault at `since`: b answers on both addresses, the client's entries carry b's MAC, b announced itself. */
  const expectMovedTo = async (node: Node, since: EpochMillis, what: string): Promise<void> => {
    const first4 = await prober.waitForAnswerFrom(node, MOVE_TIMEOUT, { target: VIP4, since });
    const first6 = await prober.waitForAnswerFrom(node, MOVE_TIMEOUT, { target: VIP6, since });
    await prober.waitForNeighbour(VIP4, macOfNode(node), MOVE_TIMEOUT);
    await prober.waitForNeighbour(VIP6, macOfNode(node), MOVE_TIMEOUT);
    expect(prober.neighbour(VIP4)?.node).toBe(node);
    expect(prober.neighbour(VIP6)?.node).toBe(node);
    const garp = await garps.waitForGarpFrom(node, MOVE_TIMEOUT, { address: VIP4, since });
    const na = await garps.waitForGarpFrom(node, MOVE_TIMEOUT, { address: VIP6, since });
    expect(garp.mac).toBe(macOfNode(node));
    expect(na.flags).toContain('unsolicited');
    // For information only (timings belong in the benchmark): the outage as the client saw it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const outages = prober.outages({ since }).filter((o) => o.to !== undefined);
    const twoNodes = prober.answeredBy(ms(20), { since });
    console.log(`${what}: first answer from ${node} ${(first4.receivedAt - since).toFixed(1)} ms (v4) / ${(first6.receivedAt - since).toFixed(1)} ms (v6) after the fault; outages ${
      outages.map((o) => `${o.target} ${o.duration.toFixed(1)} ms (${o.lost} lost, ${o.before}→${o.after})`).join(', ') || 'none'}; GARP ${(garp.at - since).toFixed(1)} ms, NA ${(na.at - since).toFixed(1)} ms after the fault; ${
      twoNodes.length} 20 ms window(s) with answers from both nodes`);
  };

  let started: EpochMillis;

  beforeAll(async () => {
    started = epochNow();
    lab = await Lab.create('arp-parts');
    prefix = lab.prefix;
    const segment = await lab.namespace('seg');
    await segment.addBridge('br0');
    for (const node of ['a', 'b'] as const) {
      ns[node] = await lab.namespace(node);
      await lab.veth({ ns: ns[node], device: 'eth0', addresses: [ADDRESS[node].v4, ADDRESS[node].v6] }, { ns: segment, device: `p-${node}`, bridge: 'br0' });
      service[node] = await startService(lab, ns[node], { host: '127.0.0.1', port: 0, body: node });
      whoami[node] = await startWhoami(lab, ns[node], { addresses: [VIP4, VIP6], port: PORT, name: node });
      pids.push(whoami[node].pid, service[node].pid);
    }
    client = await joinClient(lab, segment, 'br0', { v4: '192.0.2.200/24', v6: '2001:db8:2::200/64' });
    macs = await macsOf(ns);
    // Watchers first, so they see the first master's announcements too.
    garps = await startGarpWatch(lab, client.ns, { addresses: [VIP4, VIP6], nodesByMac: macs });
    prober = await startProber(lab, client.ns, { targets: [VIP4, VIP6], port: PORT, nodesByMac: macs });
    pids.push(garps.process.pid, prober.pid);
    for (const node of ['a', 'b'] as const) await startKeepalivedAt(node);
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('keepalived -t accepts every config variant the lab writes', async () => {
    const dir = await lab.tempDir('kcfg');
    const variants = {
      unicast: { name: 'a', interface: 'eth0', vip: { v4: VIP4 }, priority: 100, virtualRouterId: 9, peers: ['192.0.2.12'], check: { script: '/bin/true' }, preempt: false },
      v6only: { name: 'a', interface: 'eth0', vip: { v6: VIP6 }, priority: 100, virtualRouterId: 9, garpRefresh: 1 },
      both: { name: 'a', interface: 'eth0', vip: { v4: VIP4, v6: VIP6 }, priority: 100, virtualRouterId: 9, check: { url: 'http://127.0.0.1:8080/healthz' } },
    };
    for (const [variant, options] of Object.entries(variants)) {
      const path = join(dir, `${variant}.conf`);
      writeFileSync(path, keepalivedConfig(options));
      const result = await run('keepalived', ['--config-test', '--use-file', path], { allowFailure: true });
      expect({ variant, code: result.code, complaints: `${result.stdout}${result.stderr}`.trim() }).toEqual({ variant, code: 0, complaints: '' });
    }
  });

  it('the prober sees answers from the master, whose MAC the client resolves the address to', async () => {
    await keepalived.a.waitForState('MASTER', MOVE_TIMEOUT);
    await prober.waitForAnswerFrom('a', MOVE_TIMEOUT, { target: VIP4 });
    await prober.waitForAnswerFrom('a', MOVE_TIMEOUT, { target: VIP6 });
    await prober.waitForNeighbour(VIP4, macOfNode('a'), MOVE_TIMEOUT);
    await prober.waitForNeighbour(VIP6, macOfNode('a'), MOVE_TIMEOUT);
    expect(await hasAddress(ns.a, VIP4)).toBe(true);
    expect(await hasAddress(ns.b, VIP4)).toBe(false);
    await garps.waitForGarpFrom('a', MOVE_TIMEOUT, { address: VIP4 });
    // Steady state: only a answers.
    const since = epochNow();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const recent = prober.samples({ since });
    expect(recent.length).toBeGreaterThan(10);
    expect(new Set(recent.map((s) => s.node))).toEqual(new Set(['a']));
  });

  it("failing the master's check moves the address to the backup; restoring it moves it back", async () => {
    const since = epochNow();
    service.a.failHealth();
    await expectMovedTo('b', since, 'check failed at a');
    await waitUntil(async () => !(await hasAddress(ns.a, VIP4)) && !(await hasAddress(ns.a, VIP6)), { timeout: MOVE_TIMEOUT, what: 'a to release the address' });
    const back = epochNow();
    service.a.restoreHealth();
    await expectMovedTo('a', back, 'check restored at a (preempt)');
  });

  it("SIGKILL of the master's keepalived moves the address (its VRRP child still releases it)", async () => {
    await prober.waitForAnswerFrom('a', MOVE_TIMEOUT, { target: VIP4 });
    const since = epochNow();
    await keepalived.a.kill();
    await expectMovedTo('b', since, 'keepalived SIGKILL at a');
    await waitUntil(async () => !(await hasAddress(ns.a, VIP4)), { timeout: MOVE_TIMEOUT, what: 'a to release the address' });
  });

  it("the master's service dying (whoami and its health endpoint) moves the address: the outage includes keepalived's check", async () => {
    const restarted = epochNow();
    await startKeepalivedAt('a');
    await expectMovedTo('a', restarted, 'keepalived restarted at a (preempt)');
    const since = epochNow();
    await Promise.all([whoami.a.kill(), service.a.kill()]);
    await expectMovedTo('b', since, 'service death at a');
    const back = epochNow();
    service.a = await service.a.restart();
    whoami.a = await startWhoami(lab, ns.a, { addresses: [VIP4, VIP6], port: PORT, name: 'a' });
    pids.push(service.a.pid, whoami.a.pid);
    await expectMovedTo('a', back, 'service restarted at a (preempt)');
  });

  it('a crash of the whole keepalived (child too) leaves the address on the old master: two holders', async () => {
    await prober.waitForAnswerFrom('a', MOVE_TIMEOUT, { target: VIP4 });
    const since = epochNow();
    await keepalived.a.crash();
    await expectMovedTo('b', since, 'keepalived crash (parent and VRRP child SIGKILL) at a');
    // The split brain keepalived leaves: nobody removes a's copy.
    expect(await hasAddress(ns.a, VIP4)).toBe(true);
    expect(await hasAddress(ns.b, VIP4)).toBe(true);
  });

  it('teardown leaves no namespace and no process behind', async () => {
    // For information: what the lab's own processes cost over the run (2 cores here).
    const cpu = (pid: number): string => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      return `${((Number(fields[11]) + Number(fields[12])) * 10).toFixed(0)} ms`;
    };
    console.log(`CPU over ${((epochNow() - started) / 1000).toFixed(1)} s: prober ${cpu(prober.pid)} (${prober.samples().length} answers), tcpdump ${cpu(garps.process.pid)}`);
    await lab.teardown();
    const left = (await listNamespaces()).filter((name) => name.startsWith(`${prefix}-`));
    expect(left).toEqual([]);
    // A killed daemon's orphaned child is reaped by init a moment later: a zombie counts as gone.
    const running = (pid: number): boolean => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    await waitUntil(() => pids.every((pid) => !running(pid)), { timeout: ms(10_000), what: `lab processes to be gone (${pids.filter(running).join(', ')})` })
      .catch(() => undefined);
    expect(pids.filter(running)).toEqual([]);
  });
});
