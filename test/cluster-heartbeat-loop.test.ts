/**
 * The heartbeat loop with a fake transport and fake timers, feeding a real MembershipTable:
 * deterministic one-way loss (replies dropped on one side, requests on the other), and what
 * the loop promises about sequences, deadlines and stopping.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ms, type Millis } from '../src/core/duration.js';
import { clusterName, nodeId, type NodeId } from '../src/core/ids.js';
import { HeartbeatLoop, type HeartbeatOutcome, type HeartbeatTransport } from '../src/cluster/heartbeat-client.js';
import { parseRequest } from '../src/cluster/heartbeat-wire.js';
import type { HeartbeatRequest__Output } from '../src/cluster/generated/quorate/v1/HeartbeatRequest.js';
import { MembershipTable } from '../src/cluster/membership.js';
import { computeMembershipDigest } from '../src/cluster/membership-digest.js';
import type { NodeState } from '../src/cluster/membership-node-state.js';

const cluster = clusterName('payments');
const A = nodeId('ny-1');
const B = nodeId('nj-1');
const INTERVAL = ms(200);
const DEAD = ms(1000);
const digest = computeMembershipDigest(cluster, { id: A, votes: 1 }, [{ id: B, votes: 1 }]);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const now = (): Millis => ms(Date.now());
const stateOf = (node: NodeId, seen: () => Set<NodeId>) => (): NodeState => ({
  cluster, node, digest, seenPeers: seen(), quorum: { quorate: false, reason: 'test' }, services: new Map(), withdrawBound: ms(0),
});

/**
 * Two nodes wired through an in-memory link with `latency` each way. `aToB` / `bToA` say whether
 * packets in that direction arrive. A node answers a request it receives with its own state.
 */
function twoNodes(link: { aToB: boolean; bToA: boolean }, latency = 10) {
  const tables = {
    [A]: new MembershipTable({ cluster, self: A, digest, peers: [B], deadAfter: DEAD }),
    [B]: new MembershipTable({ cluster, self: B, digest, peers: [A], deadAfter: DEAD }),
  } as Record<NodeId, MembershipTable>;
  const received = { [A]: 0, [B]: 0 } as Record<NodeId, number>;
  const state = { [A]: stateOf(A, () => tables[A]!.seen(now())), [B]: stateOf(B, () => tables[B]!.seen(now())) } as Record<NodeId, () => NodeState>;

  const transport = (from: NodeId, to: NodeId): HeartbeatTransport => (request, timeout, signal) => new Promise<HeartbeatOutcome>((resolve) => {
    const forward = from === A ? () => link.aToB : () => link.bToA;
    const back = from === A ? () => link.bToA : () => link.aToB;
    const deadline = setTimeout(() => resolve({ ok: false, problem: { kind: 'unreachable', detail: 'DEADLINE_EXCEEDED' } }), timeout);
    signal.addEventListener('abort', () => { clearTimeout(deadline); resolve({ ok: false, problem: { kind: 'unreachable', detail: 'stopped' } }); });
    if (!forward()) return;
    setTimeout(() => {
      const parsed = parseRequest(request as HeartbeatRequest__Output);
      if (!parsed.ok) throw new Error(parsed.problem);
      received[to]!++;
      const reply = { sequence: parsed.value.sequence, sender: state[to]!() };
      if (!back()) return;
      setTimeout(() => {
        clearTimeout(deadline);
        resolve({ ok: true, reply });
      }, latency);
    }, latency);
  });

  const loopFor = (self: NodeId, peer: NodeId) => new HeartbeatLoop({
    peer, interval: INTERVAL, deadAfter: DEAD, transport: transport(self, peer), state: state[self]!, now,
    onSent: (seq, at) => tables[self]!.sent(peer, seq, at),
    onOutcome: (seq, outcome, at) => {
      if (outcome.ok) tables[self]!.replied(peer, seq, outcome.reply, at);
      else tables[self]!.failed(peer, seq, outcome.problem, at);
    },
  });
  return { tables, received, loops: [loopFor(A, B), loopFor(B, A)] };
}

describe('heartbeat loop + seen-table, deterministic', () => {
  it('both directions up: each sees the other after one round trip', async () => {
    const { tables, loops } = twoNodes({ aToB: true, bToA: true });
    loops.forEach((l) => l.start());
    await vi.advanceTimersByTimeAsync(25);
    expect([...tables[A]!.seen(now())]).toEqual([B]);
    expect([...tables[B]!.seen(now())]).toEqual([A]);
    await Promise.all(loops.map((l) => l.stop()));
  });

  it('replies dropped one way: requests keep arriving, and neither side ever sees the other', async () => {
    const link = { aToB: true, bToA: true };
    const { tables, received, loops } = twoNodes(link);
    loops.forEach((l) => l.start());
    await vi.advanceTimersByTimeAsync(500);
    expect(tables[A]!.seen(now()).size + tables[B]!.seen(now()).size).toBe(2);

    link.bToA = false; // B → A loses everything from here on
    const cutAt = now();
    const receivedByB = received[B]!;
    // Both sides are lost within dead-after of the cut (+ the last round trip's age) …
    await vi.advanceTimersByTimeAsync(DEAD + INTERVAL);
    expect(tables[A]!.seen(now()).size).toBe(0);
    expect(tables[B]!.seen(now()).size).toBe(0);
    // … and stay so, although B keeps receiving (and answering) A's heartbeats.
    for (let i = 0; i < 50; i++) {
      await vi.advanceTimersByTimeAsync(INTERVAL);
      expect(tables[A]!.seen(now()).size).toBe(0);
      expect(tables[B]!.seen(now()).size).toBe(0);
    }
    expect(received[B]! - receivedByB).toBeGreaterThan(50);
    expect(tables[A]!.lastSeenSend(B)).toBeLessThan(cutAt);
    expect(tables[B]!.lastSeenSend(A)).toBeLessThan(cutAt);

    link.bToA = true; // healed: seen again within a round trip or two
    await vi.advanceTimersByTimeAsync(INTERVAL + 25);
    expect(tables[A]!.seen(now()).size + tables[B]!.seen(now()).size).toBe(2);
    await Promise.all(loops.map((l) => l.stop()));
  });

  it('numbers heartbeats 1, 2, 3 … one per interval without waiting for replies, and reports nothing after stop', async () => {
    const sent: number[] = [];
    const outcomes: number[] = [];
    const pending: (() => void)[] = [];
    const loop = new HeartbeatLoop({
      peer: B, interval: INTERVAL, deadAfter: DEAD, now,
      state: stateOf(A, () => new Set()),
      // A peer that never answers: every call hangs until aborted.
      transport: (_req, _timeout, signal) => new Promise((resolve) => {
        const done = () => resolve({ ok: false, problem: { kind: 'unreachable', detail: 'stopped' } });
        signal.addEventListener('abort', done);
        pending.push(done);
      }),
      onSent: (seq) => sent.push(seq),
      onOutcome: (seq) => outcomes.push(seq),
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(4 * INTERVAL + 1);
    expect(sent).toEqual([1, 2, 3, 4, 5]);
    await loop.stop();
    await vi.advanceTimersByTimeAsync(10 * INTERVAL);
    expect(sent).toHaveLength(5);
    expect(outcomes).toEqual([]);
  });
});
