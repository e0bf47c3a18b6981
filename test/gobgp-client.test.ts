/**
 * GobgpClient against a real gobgpd 3.10 (Debian), started by this test in its own network
 * namespace with its API on a unix socket in a temp dir. A second gobgpd in a second
 * namespace is a BGP neighbor that announces a route, so "locally originated" is checked
 * against a real learned path. What gobgpd holds is cross-checked with the `gobgp` CLI.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { parsePrefix } from '../src/core/prefix.js';
import { GobgpClient, GobgpError, PathCodecError, samePath, UntargetedDeleteError, type PathSpec, type PeerInfo, type RibPath } from '../src/gobgp/index.js';

function which(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const missing = ['gobgpd', 'gobgp', 'ip'].filter((b) => !which(b));
const isRoot = process.getuid?.() === 0;
const skipReason = !isRoot ? 'needs root (network namespaces)' : missing.length ? `missing ${missing.join(', ')} (Debian: gobgpd, gobgp, iproute2)` : '';
if (skipReason) console.warn(`SKIPPED gobgp-client integration test: ${skipReason}`);

const NS_AGENT = `qt-gc-${process.pid}`;
const NS_PEER = `qt-gc-${process.pid}-p`;
const VETH_AGENT = `qgc${process.pid % 100000}a`;
const VETH_PEER = `qgc${process.pid % 100000}p`;
const AGENT_ADDR = '198.51.100.1';
const PEER_ADDR = '198.51.100.2';
const AGENT_AS = 64512;
const PEER_AS = 64513;
const LEARNED = '203.0.113.0/24';

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** Polls until `check` passes or `limit` ms have gone by (then fails with the last error). */
async function eventually<T>(check: () => Promise<T> | T, limit = 30_000): Promise<T> {
  const end = Date.now() + limit;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(100);
    }
  }
}

class Lab {
  readonly dir = mkdtempSync(join(tmpdir(), 'qt-gc-'));
  readonly agentSock = join(this.dir, 'agent.sock');
  readonly peerSock = join(this.dir, 'peer.sock');
  private readonly children = new Map<string, ChildProcess>();

  setUp(): void {
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
    ip('netns', 'add', NS_AGENT);
    ip('netns', 'add', NS_PEER);
    ip('link', 'add', VETH_AGENT, 'type', 'veth', 'peer', 'name', VETH_PEER);
    ip('link', 'set', VETH_AGENT, 'netns', NS_AGENT);
    ip('link', 'set', VETH_PEER, 'netns', NS_PEER);
    ip('-n', NS_AGENT, 'addr', 'add', `${AGENT_ADDR}/30`, 'dev', VETH_AGENT);
    ip('-n', NS_PEER, 'addr', 'add', `${PEER_ADDR}/30`, 'dev', VETH_PEER);
    for (const [ns, dev] of [[NS_AGENT, VETH_AGENT], [NS_PEER, VETH_PEER]] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    writeFileSync(join(this.dir, 'agent.toml'), speakerConfig(AGENT_AS, '192.0.2.1', AGENT_ADDR, PEER_ADDR, PEER_AS, false));
    writeFileSync(join(this.dir, 'peer.toml'), speakerConfig(PEER_AS, '192.0.2.2', PEER_ADDR, AGENT_ADDR, AGENT_AS, true));
  }

  startAgent(): void {
    this.start('agent', NS_AGENT, this.agentSock);
  }

  startPeer(): void {
    this.start('peer', NS_PEER, this.peerSock);
  }

  private start(name: string, ns: string, sock: string): void {
    rmSync(sock, { force: true }); // a killed gobgpd leaves its socket file behind
    // `ip netns exec` execs gobgpd, so the child's PID is gobgpd's.
    const child = spawn('ip', ['netns', 'exec', ns, 'gobgpd', '-f', join(this.dir, `${name}.toml`), '-p',
      '--api-hosts', `unix://${sock}`, '--pprof-disable'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.resume();
    this.children.set(name, child);
  }

  /** SIGKILL, as a crash would; resolves once the process is gone. */
  async kill(name: string): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  cli(sock: string, ...args: string[]): string {
    return execFileSync('gobgp', ['--target', `unix://${sock}`, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  }

  /** gobgpd's global RIB as the CLI prints it in JSON: prefix → paths. */
  rib(family: 'ipv4' | 'ipv6'): Record<string, CliPath[]> {
    const text = this.cli(this.agentSock, 'global', 'rib', '-a', family, '-j').trim();
    return text === '' || text === 'null' ? {} : (JSON.parse(text) as Record<string, CliPath[]>);
  }

  async tearDown(): Promise<void> {
    for (const name of this.children.keys()) await this.kill(name);
    for (const ns of [NS_AGENT, NS_PEER]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // not created (setUp failed early); nothing to remove
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface CliAttr { type: number; [key: string]: unknown }
interface CliPath { attrs: CliAttr[]; source_id?: string; neighbor_ip?: string }

function speakerConfig(as: number, routerId: string, local: string, neighbor: string, peerAs: number, passive: boolean): string {
  return `[global.config]
  as = ${as}
  router-id = "${routerId}"
  port = 1790
  local-address-list = ["${local}"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "${neighbor}"
    peer-as = ${peerAs}
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
  [neighbors.transport.config]
    remote-port = 1790
    passive-mode = ${passive}
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`;
}

const full4: PathSpec = {
  prefix: parsePrefix('198.51.100.128/25'),
  nextHop: AGENT_ADDR,
  origin: 'egp',
  med: 20,
  localPref: 300,
  communities: [((AGENT_AS << 16) | 100) >>> 0, ((AGENT_AS << 16) | 7) >>> 0],
  largeCommunities: [{ global: AGENT_AS, local1: 1, local2: 2 }],
  asPath: [AGENT_AS, AGENT_AS],
};
const full6: PathSpec = {
  ...full4,
  prefix: parsePrefix('2001:db8:100::/48'),
  nextHop: '2001:db8::1',
  origin: 'igp',
  med: 0,
  localPref: 0,
};

const find = (paths: readonly RibPath[], p: PathSpec) => paths.filter((x) => x.prefix.key === p.prefix.key);

describe.skipIf(Boolean(skipReason))('GobgpClient against a real gobgpd 3.10', () => {
  const lab = new Lab();
  let client: GobgpClient;
  const peerEvents: PeerInfo[] = [];
  let stopWatch: (() => void) | undefined;

  beforeAll(async () => {
    lab.setUp();
    lab.startAgent();
    lab.startPeer();
    client = new GobgpClient({ target: `unix://${lab.agentSock}`, callTimeout: ms(2_000) });
    await eventually(() => client.getGlobal());
    stopWatch = client.watchPeers((p) => peerEvents.push(p));
    // The neighbor announces a route of its own: a learned path in the agent's RIB.
    await eventually(() => lab.cli(lab.peerSock, 'global', 'rib', 'add', LEARNED, 'nexthop', PEER_ADDR));
  });

  afterAll(async () => {
    stopWatch?.();
    client?.close();
    await lab.tearDown();
  });

  it('reads the global configuration', async () => {
    expect(await client.getGlobal()).toMatchObject({ asn: AGENT_AS, routerId: '192.0.2.1', listenPort: 1790 });
  });

  it('adds IPv4 and IPv6 paths with every attribute; both the client and the CLI read them back', async () => {
    const uuid4 = await client.addPath(full4);
    const uuid6 = await client.addPath(full6);
    expect(uuid4.length).toBe(16);
    expect(uuid6.length).toBe(16);

    const [l4] = find(await client.listLocalPaths(4), full4);
    const [l6] = find(await client.listLocalPaths(6), full6);
    expect(l4 && samePath(l4, full4)).toBe(true);
    expect(l6 && samePath(l6, full6)).toBe(true);
    expect(l4?.unmodeled).toEqual([]);
    expect(l6?.unmodeled).toEqual([]);

    // What gobgpd itself holds, in its own CLI's words.
    const cli4 = lab.rib('ipv4')[full4.prefix.key]?.[0];
    const cli6 = lab.rib('ipv6')[full6.prefix.key]?.[0];
    expect(cli4, JSON.stringify(lab.rib('ipv4'))).toBeDefined();
    expect(cli6).toBeDefined();
    const attr = (p: CliPath | undefined, type: number) => p?.attrs.find((a) => a.type === type);
    expect(attr(cli4, 1)).toMatchObject({ value: 1 }); // ORIGIN egp
    expect(attr(cli4, 2)).toMatchObject({ as_paths: [{ asns: [AGENT_AS, AGENT_AS] }] });
    expect(attr(cli4, 3)).toMatchObject({ nexthop: AGENT_ADDR });
    expect(attr(cli4, 4)).toMatchObject({ metric: 20 });
    expect(attr(cli4, 5)).toMatchObject({ value: 300 });
    expect(attr(cli4, 8)).toMatchObject({ communities: full4.communities });
    expect(JSON.stringify(attr(cli4, 32))).toContain(String(AGENT_AS));
    expect(attr(cli6, 14)).toMatchObject({ nexthop: '2001:db8::1', afi: 2, safi: 1 });
    expect(attr(cli6, 4)).toMatchObject({ metric: 0 });
    expect(attr(cli6, 5)).toMatchObject({ value: 0 });
  });

  it('lists only locally originated paths, not the one learned from the neighbor', async () => {
    // The learned route is in gobgpd's RIB (seen by the CLI) ...
    await eventually(() => expect(lab.rib('ipv4')[LEARNED]?.length).toBeGreaterThan(0), 45_000);
    // ... but not among the local paths.
    const local = await client.listLocalPaths(4);
    expect(local.map((p) => p.prefix.key)).not.toContain(LEARNED);
  });

  it('replaces a path when the same prefix is added again', async () => {
    const changed: PathSpec = { ...full4, med: 99, communities: [], asPath: [AGENT_AS] };
    await client.addPath(changed);
    const mine = find(await client.listLocalPaths(4), full4);
    expect(mine).toHaveLength(1);
    expect(samePath(mine[0]!, changed)).toBe(true);
    expect(samePath(mine[0]!, full4)).toBe(false);
  });

  it('deletes by path and by uuid, and refuses an untargeted delete', async () => {
    await client.deletePath(full4);
    expect(find(await client.listLocalPaths(4), full4)).toEqual([]);
    expect(lab.rib('ipv4')[full4.prefix.key]).toBeUndefined();

    const other: PathSpec = { ...full6, prefix: parsePrefix('2001:db8:101::/48') };
    const uuid = await client.addPath(other);
    await client.deleteByUuid(uuid);
    expect(find(await client.listLocalPaths(6), other)).toEqual([]);
    expect(lab.rib('ipv6')[other.prefix.key]).toBeUndefined();

    // A DeletePath with neither path nor uuid would withdraw everything: never sent.
    await expect(client.deleteByUuid(new Uint8Array(0))).rejects.toBeInstanceOf(UntargetedDeleteError);
    expect(find(await client.listLocalPaths(6), full6)).toHaveLength(1);
  });

  it('adds 10,000 prefixes in one stream, lists them all, and withdraws them in one stream', async () => {
    const many: PathSpec[] = [];
    for (let i = 0; i < 10_000; i++) {
      const hi = (i >> 8).toString(16);
      const lo = (i & 0xff).toString(16);
      many.push({ ...full6, prefix: parsePrefix(`2001:db8:1:${hi}${lo.padStart(2, '0')}::/64`), med: i });
    }
    const started = performance.now();
    await client.addPaths(many);
    console.log(`addPaths: 10,000 IPv6 prefixes streamed to gobgpd in ${Math.round(performance.now() - started)} ms`);

    const listed = new Map((await client.listLocalPaths(6)).map((p) => [p.prefix.key, p] as const));
    const missingOrDifferent = many.filter((p) => {
      const l = listed.get(p.prefix.key);
      return !l || !samePath(l, p);
    });
    expect(missingOrDifferent).toEqual([]);
    expect(Object.keys(lab.rib('ipv6')).length).toBeGreaterThanOrEqual(10_000);

    await client.deletePaths(many);
    const left = (await client.listLocalPaths(6)).map((p) => p.prefix.key);
    expect(left).toEqual([full6.prefix.key]);
  });

  it('sees a path added with the gobgp CLI as local and deletes it by path', async () => {
    lab.cli(lab.agentSock, 'global', 'rib', 'add', '192.0.2.64/26', 'nexthop', AGENT_ADDR, 'origin', 'igp', 'med', '5',
      'community', `${AGENT_AS}:9`);
    const spec: PathSpec = {
      prefix: parsePrefix('192.0.2.64/26'), nextHop: AGENT_ADDR, origin: 'igp', med: 5,
      communities: [((AGENT_AS << 16) | 9) >>> 0], largeCommunities: [], asPath: [],
    };
    const [listed] = find(await client.listLocalPaths(4), spec);
    expect(listed && samePath(listed, spec)).toBe(true);
    await client.deletePath(spec);
    expect(lab.rib('ipv4')['192.0.2.64/26']).toBeUndefined();
  });

  it('watches the neighbor come up', async () => {
    await eventually(() => {
      expect(peerEvents.some((p) => p.address === PEER_ADDR && p.established && p.asn === PEER_AS)).toBe(true);
    }, 45_000);
    const peers = await client.listPeers();
    expect(peers).toEqual([expect.objectContaining({ address: PEER_ADDR, asn: PEER_AS, state: 'ESTABLISHED' })]);
  });

  it('validates a whole batch before streaming any of it', async () => {
    const good: PathSpec = { ...full6, prefix: parsePrefix('2001:db8:200::/48') };
    const bad: PathSpec = { ...full6, prefix: parsePrefix('2001:db8:201::/48'), nextHop: AGENT_ADDR };
    await expect(client.addPaths([good, bad])).rejects.toBeInstanceOf(PathCodecError);
    expect(find(await client.listLocalPaths(6), good)).toEqual([]);
  });

  it('watches the neighbor go down when its speaker dies', async () => {
    peerEvents.length = 0;
    await lab.kill('peer');
    await eventually(() => {
      expect(peerEvents.some((p) => p.address === PEER_ADDR && !p.established)).toBe(true);
    }, 30_000);
    lab.startPeer();
  });

  it('fails a call with a typed error while gobgpd is down, and works again after a restart without a new client', async () => {
    await lab.kill('agent');
    const failure = await client.getGlobal().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GobgpError);
    expect((failure as GobgpError).call).toBe('GetBgp');
    expect((failure as GobgpError).unreachable).toBe(true);

    peerEvents.length = 0;
    lab.startAgent();
    // Same client object: grpc-js reconnects, calls wait for the connection up to their deadline.
    await eventually(() => client.getGlobal());
    expect(await client.listLocalPaths(6)).toEqual([]); // a fresh gobgpd holds nothing
    await client.addPath(full6);
    expect(find(await client.listLocalPaths(6), full6)).toHaveLength(1);
    // The watch subscribed again by itself and reports the neighbor's state anew.
    await eventually(() => expect(peerEvents.some((p) => p.address === PEER_ADDR)).toBe(true), 20_000);
  });
});
