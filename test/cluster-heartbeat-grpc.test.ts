/**
 * Membership over real gRPC on 127.0.0.1 (insecure mode): two and three Membership instances
 * heartbeating each other on their own ports. Outcomes are awaited with generous bounds; the
 * timings themselves belong in benchmarks.
 */
import { createServer, connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../src/config/types.js';
import { ms, type Millis } from '../src/core/duration.js';
import { clusterName, nodeId, serviceName, type NodeId } from '../src/core/ids.js';
import type { HeartbeatTransport } from '../src/cluster/heartbeat-client.js';
import { peerProto } from '../src/cluster/heartbeat-proto.js';
import type { MembershipChange } from '../src/cluster/membership.js';
import type { LocalNodeState } from '../src/cluster/membership-node-state.js';
import { Membership } from '../src/cluster/membership-runtime.js';

const INTERVAL = ms(100);
const DEAD_AFTER = ms(500);
/** Generous: "within a few intervals" on a loaded 2-core machine. */
const OUTCOME_BOUND_MS = 10_000;

interface NodeSpec { id: string; port: number; votes?: number }

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function clusterOf(self: NodeSpec, members: NodeSpec[], name = 'payments'): ClusterConfig {
  return {
    name: clusterName(name),
    listen: { host: '127.0.0.1', port: self.port },
    heartbeat: { interval: INTERVAL, deadAfter: DEAD_AFTER },
    peers: members.filter((m) => m.id !== self.id).map((m) => ({ id: nodeId(m.id), address: { host: '127.0.0.1', port: m.port }, votes: m.votes ?? 1 })),
    quorum: [{ kind: 'voting' }],
  };
}

const localState = (holding = false): (() => LocalNodeState) => () => ({
  quorum: { quorate: true, reason: 'test' }, withdrawBound: ms(0),
  services: new Map([[serviceName('web'), { healthy: true, drained: false, announceable: true, priority: 100, holding, released: false }]]),
});

function capturedLogger(): { logger: Logger; lines: { msg: string; level: number; peer?: string }[] } {
  const lines: { msg: string; level: number; peer?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

const started: Membership[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.stop()));
});

interface Started { m: Membership; registry: Registry; changes: MembershipChange[]; lines: { msg: string; level: number }[] }

async function startNode(self: NodeSpec, members: NodeSpec[], opts: {
  name?: string; holding?: boolean; wrapTransport?: (peer: NodeId, t: HeartbeatTransport) => HeartbeatTransport; votes?: number;
} = {}): Promise<Started> {
  const registry = new Registry();
  const { logger, lines } = capturedLogger();
  const m = new Membership({
    cluster: clusterOf(self, members, opts.name),
    node: { id: nodeId(self.id), votes: opts.votes ?? self.votes ?? 1 },
    tls: { insecure: true },
    localState: localState(opts.holding),
    logger,
    registry,
    ...(opts.wrapTransport ? { wrapTransport: opts.wrapTransport } : {}),
  });
  const changes: MembershipChange[] = [];
  m.on('change', (c) => changes.push(c));
  started.push(m);
  await m.start();
  return { m, registry, changes, lines };
}

async function until(what: string, condition: () => boolean, boundMs = OUTCOME_BOUND_MS): Promise<void> {
  const end = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`not within ${boundMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (d: number): Promise<void> => new Promise((r) => setTimeout(r, d));

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0) ?? 0;
}

const ids = (s: Set<NodeId>): string[] => [...s].sort();

describe('membership over gRPC on 127.0.0.1 (insecure)', () => {
  it('two nodes see each other, and each carries the other\'s services and seen peers', async () => {
    const [pa, pb] = await freePorts(2);
    const nodes = [{ id: 'ny-1', port: pa! }, { id: 'nj-1', port: pb! }];
    const a = await startNode(nodes[0]!, nodes, { holding: true });
    const b = await startNode(nodes[1]!, nodes);
    await until('both see each other, and each sees that the other sees it', () =>
      a.m.seen().has(nodeId('nj-1')) && b.m.seen().has(nodeId('ny-1')) &&
      (b.m.peerStates().get(nodeId('ny-1'))?.seenPeers.has(nodeId('nj-1')) ?? false));
    const view = b.m.peerViews().find((p) => p.id === 'ny-1');
    expect(view?.services.get(serviceName('web'))).toMatchObject({ healthy: true, holding: true, priority: 100 });
    expect(b.m.peerStates().get(nodeId('ny-1'))?.quorum).toEqual({ quorate: true, reason: 'test' });
    expect(a.m.lastSeenSend(nodeId('nj-1'))).toBeDefined();
    expect(a.m.longestRoundTrip(nodeId('nj-1'))).toBeLessThan(DEAD_AFTER);
    expect(a.changes.filter((c) => c.kind === 'seen').map((c) => c.peer)).toEqual(['nj-1']);
    expect(a.lines.filter((l) => /^peer nj-1 seen/.test(l.msg))).toHaveLength(1);
    expect(await metric(a.registry, 'quorate_peer_seen', { peer: 'nj-1' })).toBe(1);
    expect(await metric(a.registry, 'quorate_heartbeats_sent_total', { peer: 'nj-1', result: 'counted' })).toBeGreaterThan(0);
  });

  it('three nodes see each other; a stopped node is lost by the others after about dead-after, with one line each', async () => {
    const ports = await freePorts(3);
    const nodes = ['ny-1', 'nj-1', 'ch-1'].map((id, i) => ({ id, port: ports[i]! }));
    const [a, b, c] = await Promise.all(nodes.map((n) => startNode(n, nodes)));
    await until('all three see each other', () => [a!, b!, c!].every((x) => x.m.seen().size === 2));

    await c!.m.stop();
    const stoppedAt = performance.now();
    // seen() turns false at the instant; the change event follows from the expiry timer.
    await until('ny-1 and nj-1 lose ch-1', () => [a!, b!].every((x) => !x.m.seen().has(nodeId('ch-1')) && x.changes.some((ch) => ch.kind === 'lost')));
    const lostAfter = performance.now() - stoppedAt;
    // An outcome bound, generous: never before its last round trip's send + dead-after could pass.
    expect(lostAfter).toBeLessThan(OUTCOME_BOUND_MS);
    expect(ids(a!.m.seen())).toEqual(['nj-1']);
    expect(ids(b!.m.seen())).toEqual(['ny-1']);
    for (const x of [a!, b!]) {
      const lost = x.changes.filter((ch) => ch.kind === 'lost');
      expect(lost).toEqual([expect.objectContaining({ kind: 'lost', peer: 'ch-1', cause: expect.stringMatching(/dead-after/) })]);
      expect(x.lines.filter((l) => /^peer ch-1 lost: /.test(l.msg))).toHaveLength(1);
      expect(await metric(x.registry, 'quorate_peer_seen', { peer: 'ch-1' })).toBe(0);
    }
    // Sent before the stop, so the takeover bound can start from it.
    expect(a!.m.lastSeenSend(nodeId('ch-1'))).toBeLessThan(stoppedAt);
  });

  it('two nodes whose configs disagree on the members never see each other, and say why once', async () => {
    const [pa, pb] = await freePorts(2);
    const aView = [{ id: 'ny-1', port: pa! }, { id: 'nj-1', port: pb! }];
    const bView = [{ id: 'ny-1', port: pa! }, { id: 'nj-1', port: pb!, votes: 2 }];
    const a = await startNode(aView[0]!, aView);
    const b = await startNode(bView[1]!, bView);
    expect(a.m.digest).not.toBe(b.m.digest);
    // Both answer each other (the replies arrive), so wait until the mismatch was noticed on both sides …
    await until('both report the digest mismatch', () =>
      [a, b].every((x) => x.changes.some((c) => c.kind === 'not-counted' && c.problem.kind === 'digest-mismatch')));
    // … and then some more heartbeats: still nobody seen, and the reason said once.
    await sleep(10 * INTERVAL);
    for (const x of [a, b]) {
      expect(x.m.seen().size).toBe(0);
      expect(x.changes.filter((c) => c.kind === 'seen')).toEqual([]);
      expect(x.lines.filter((l) => /does not count \(digest-mismatch\)/.test(l.msg))).toHaveLength(1);
    }
    expect(await metric(a.registry, 'quorate_heartbeats_sent_total', { result: 'digest-mismatch' })).toBeGreaterThan(5);
  });

  it('a node answering at a peer\'s address under another id does not count', async () => {
    const [pa, pb] = await freePorts(2);
    // ny-1 expects nj-1 at pb; what runs there is ch-1 (with ny-1 as its peer).
    const a = await startNode({ id: 'ny-1', port: pa! }, [{ id: 'ny-1', port: pa! }, { id: 'nj-1', port: pb! }]);
    await startNode({ id: 'ch-1', port: pb! }, [{ id: 'ny-1', port: pa! }, { id: 'ch-1', port: pb! }]);
    await until('ny-1 reports the wrong node', () => a.changes.some((c) => c.kind === 'not-counted' && c.problem.kind === 'wrong-node'));
    expect(a.m.seen().size).toBe(0);
  });

  it('garbage to the heartbeat port is refused and counted, and heartbeats keep working', async () => {
    const [pa, pb] = await freePorts(2);
    const nodes = [{ id: 'ny-1', port: pa! }, { id: 'nj-1', port: pb! }];
    const a = await startNode(nodes[0]!, nodes);
    const b = await startNode(nodes[1]!, nodes);
    await until('both see each other', () => a.m.seen().size === 1 && b.m.seen().size === 1);

    // Raw bytes that are not HTTP/2.
    await new Promise<void>((resolve) => {
      const s = connect(pa!, '127.0.0.1', () => s.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff\xfe garbage')));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      setTimeout(() => { s.destroy(); resolve(); }, 1000);
    });
    const raw = new (peerProto().Peer)(`127.0.0.1:${pa}`, grpc.credentials.createInsecure());
    try {
      // Bytes that do not decode as a HeartbeatRequest.
      const undecodable = await new Promise<grpc.ServiceError | null>((resolve) => {
        raw.makeUnaryRequest('/quorate.v1.Peer/Heartbeat', (x: Buffer) => x, (x: Buffer) => x, Buffer.from([0x0f, 0xff, 0xff]), (err) => resolve(err));
      });
      expect(undecodable?.code).toBe(grpc.status.INTERNAL);
      // Messages that decode but are not valid heartbeats.
      const bad: [object, RegExp][] = [
        [{}, /protocol_version is missing/],
        [{ protocol_version: 1, sequence: 1 }, /sender is missing/],
        [{ protocol_version: 1, sequence: 0, sender: { cluster: 'payments', node: 'nj-1', membership_digest: Buffer.from([1]) } }, /sequence/],
        [{ protocol_version: 1, sequence: 5, sender: { cluster: 'payments', node: 'nj 1', membership_digest: Buffer.from([1]) } }, /not a node id/],
        [{ protocol_version: 1, sequence: 5, sender: { cluster: 'payments', node: 'nj-1', membership_digest: Buffer.alloc(0) } }, /membership_digest is missing/],
        [{ protocol_version: 1, sequence: 5, sender: { cluster: 'payments', node: 'nj-1', membership_digest: Buffer.from([1]), services: [{ name: 'web' }, { name: 'web' }] } }, /listed twice/],
      ];
      for (const [message, reason] of bad) {
        const err = await new Promise<grpc.ServiceError | null>((resolve) => raw.Heartbeat(message, (e) => resolve(e)));
        expect(err?.code, String(reason)).toBe(grpc.status.INVALID_ARGUMENT);
        expect(err?.details, String(reason)).toMatch(reason);
      }
      // Another cluster's node is not answered.
      const foreign = await new Promise<grpc.ServiceError | null>((resolve) => raw.Heartbeat(
        { protocol_version: 1, sequence: 1, sender: { cluster: 'ledger', node: 'fra-1', membership_digest: Buffer.from([1]) } }, (e) => resolve(e)));
      expect(foreign?.code).toBe(grpc.status.PERMISSION_DENIED);

      expect(await metric(a.registry, 'quorate_heartbeat_requests_refused_total', { reason: 'undecodable' })).toBe(1);
      expect(await metric(a.registry, 'quorate_heartbeat_requests_refused_total', { reason: 'bad-request' })).toBe(bad.length);
      expect(await metric(a.registry, 'quorate_heartbeat_requests_refused_total', { reason: 'wrong-cluster' })).toBe(1);
      expect(a.lines.some((l) => /^heartbeat refused: bad heartbeat/.test(l.msg))).toBe(true);
    } finally {
      raw.close();
    }
    // Still working: fresh round trips after all that — both *sent* after the counter was read,
    // so A must have answered B's after it (a round trip in flight meanwhile proves nothing).
    const answeredBefore = await metric(a.registry, 'quorate_heartbeat_requests_answered_total');
    const before = performance.now();
    await until('new round trips both ways', () =>
      (a.m.lastSeenSend(nodeId('nj-1')) ?? 0) > before && (b.m.lastSeenSend(nodeId('ny-1')) ?? 0) > before);
    expect(await metric(a.registry, 'quorate_heartbeat_requests_answered_total')).toBeGreaterThan(answeredBefore);
    expect(a.changes.filter((c) => c.kind === 'lost')).toEqual([]);
  });

  it('one-way loss (transport hook): requests get through one way, nothing comes back — neither side counts the other', async () => {
    const [pa, pb] = await freePorts(2);
    const nodes = [{ id: 'ny-1', port: pa! }, { id: 'nj-1', port: pb! }];
    let cut = false;
    const timeout = (d: Millis, signal: AbortSignal) => new Promise<void>((r) => {
      const t = setTimeout(r, d);
      signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
    });
    // ny-1 → nj-1 works; nj-1 → ny-1 loses every packet once `cut` is set. So ny-1's requests
    // reach nj-1 (which answers; its answers are lost), and nj-1's requests never arrive.
    const a = await startNode(nodes[0]!, nodes, {
      wrapTransport: (_peer, send) => async (request, d, signal) => {
        if (!cut) return send(request, d, signal);
        await send(request, d, signal); // delivered and answered …
        await timeout(d, signal); // … but the reply never comes back: the deadline passes
        return { ok: false, problem: { kind: 'unreachable', detail: 'DEADLINE_EXCEEDED (reply dropped by the test)' } };
      },
    });
    const b = await startNode(nodes[1]!, nodes, {
      wrapTransport: (_peer, send) => async (request, d, signal) => {
        if (!cut) return send(request, d, signal);
        await timeout(d, signal); // the request never arrives
        return { ok: false, problem: { kind: 'unreachable', detail: 'DEADLINE_EXCEEDED (request dropped by the test)' } };
      },
    });
    await until('both see each other before the cut', () => a.m.seen().size === 1 && b.m.seen().size === 1);

    cut = true;
    const answeredAtCut = await metric(b.registry, 'quorate_heartbeat_requests_answered_total');
    await until('both lose each other', () => a.m.seen().size === 0 && b.m.seen().size === 0);
    // Stays so: nj-1 keeps receiving and answering ny-1's heartbeats, and that never counts.
    for (let i = 0; i < 10; i++) {
      await sleep(INTERVAL);
      expect(a.m.seen().size).toBe(0);
      expect(b.m.seen().size).toBe(0);
    }
    expect(await metric(b.registry, 'quorate_heartbeat_requests_answered_total')).toBeGreaterThan(answeredAtCut + 5);
    for (const x of [a, b]) expect(x.changes.filter((c) => c.kind === 'lost').map((c) => c.peer)).toHaveLength(1);
  });
});
