/**
 * The seen-table on a fake clock (plain numbers): a peer is seen only through complete round
 * trips, and only until the send time of its last one plus dead-after.
 */
import { describe, expect, it } from 'vitest';
import { ms, type Millis } from '../src/core/duration.js';
import { clusterName, nodeId, serviceName, type NodeId } from '../src/core/ids.js';
import type { Heartbeat } from '../src/cluster/heartbeat-wire.js';
import { MembershipTable, type MembershipChange } from '../src/cluster/membership.js';
import { computeMembershipDigest, type MembershipDigest } from '../src/cluster/membership-digest.js';
import type { NodeState, ServiceState } from '../src/cluster/membership-node-state.js';

const cluster = clusterName('payments');
const A = nodeId('ny-1');
const B = nodeId('nj-1');
const C = nodeId('ch-1');
const DEAD = ms(1000);
const digest = computeMembershipDigest(cluster, { id: A, votes: 1 }, [{ id: B, votes: 1 }, { id: C, votes: 1 }]);
const t = (n: number): Millis => ms(n);

function tableOf(self: NodeId, peers: NodeId[]): MembershipTable {
  return new MembershipTable({ cluster, self, digest, peers, deadAfter: DEAD });
}

function state(node: NodeId, over: Partial<NodeState> = {}, services: Record<string, Partial<ServiceState>> = {}): NodeState {
  return {
    cluster, node, digest, seenPeers: new Set(), quorum: { quorate: true, reason: 'test' }, withdrawBound: ms(0),
    services: new Map(Object.entries(services).map(([name, s]) => [serviceName(name), {
      healthy: true, drained: false, announceable: true, priority: 100, holding: false, released: false, ...s,
    }])),
    ...over,
  };
}

const reply = (sequence: number, sender: NodeState): Heartbeat => ({ sequence, sender });

/** One complete round trip: sent at `at`, answered `rtt` later. */
function roundTrip(table: MembershipTable, peer: NodeId, sequence: number, at: number, rtt: number, sender = state(peer)): void {
  table.sent(peer, sequence, t(at));
  table.replied(peer, sequence, reply(sequence, sender), t(at + rtt));
}

describe('MembershipTable: seen through complete round trips', () => {
  it('sees nobody before any round trip, and nobody on heartbeats sent without a reply', () => {
    const table = tableOf(A, [B]);
    expect(table.seen(t(0))).toEqual(new Set());
    table.sent(B, 1, t(0));
    table.sent(B, 2, t(200));
    expect(table.seen(t(300))).toEqual(new Set());
    expect(table.lastSeenSend(B)).toBeUndefined();
  });

  it('sees a peer from its reply until the send time of that heartbeat plus dead-after (not the reply time)', () => {
    const table = tableOf(A, [B]);
    roundTrip(table, B, 1, 100, 400);
    expect(table.seen(t(500))).toEqual(new Set([B]));
    expect(table.seen(t(1099))).toEqual(new Set([B]));
    // 100 + 1000: gone, although the reply arrived at 500.
    expect(table.seen(t(1100))).toEqual(new Set());
    expect(table.lastSeenSend(B)).toBe(100);
    expect(table.longestRoundTrip(B)).toBe(400);
  });

  it('extends the window with every later round trip', () => {
    const table = tableOf(A, [B]);
    for (let i = 0; i < 10; i++) roundTrip(table, B, i + 1, i * 200, 5);
    expect(table.seen(t(2799))).toEqual(new Set([B]));
    expect(table.seen(t(2800))).toEqual(new Set());
    expect(table.nextExpiry(t(2000))).toBe(2800);
  });

  it('keeps peers apart: one peer answering says nothing about another', () => {
    const table = tableOf(A, [B, C]);
    roundTrip(table, B, 1, 0, 10);
    table.sent(C, 1, t(0));
    table.failed(C, 1, { kind: 'unreachable', detail: 'DEADLINE_EXCEEDED' }, t(1000));
    expect(table.seen(t(500))).toEqual(new Set([B]));
  });
});

describe('MembershipTable: what never counts', () => {
  it('asymmetric link: A reaches B but B cannot reach A — neither side ever sees the other', () => {
    // Both directions simulated for 5 s of heartbeats every 200 ms. A→B packets arrive,
    // B→A packets are lost: A's requests reach B, but B's replies never come back; B's requests
    // never reach A at all. B answering A's requests gives B nothing: only B's own round trips
    // count, and none completes.
    const a = tableOf(A, [B]);
    const b = tableOf(B, [A]);
    let requestsBGot = 0;
    for (let seq = 1, now = 0; now < 5000; seq++, now += 200) {
      a.sent(B, seq, t(now));
      requestsBGot++; // delivered; B answers, the answer is lost
      a.failed(B, seq, { kind: 'unreachable', detail: 'DEADLINE_EXCEEDED' }, t(now + 1000));
      b.sent(A, seq, t(now));
      b.failed(A, seq, { kind: 'unreachable', detail: 'DEADLINE_EXCEEDED' }, t(now + 1000));
      expect(a.seen(t(now + 100))).toEqual(new Set());
      expect(b.seen(t(now + 100))).toEqual(new Set());
    }
    expect(requestsBGot).toBe(25);
    // One line each, not one per heartbeat.
    expect(a.poll(t(6000))).toEqual([expect.objectContaining({ kind: 'not-counted', peer: B, problem: expect.objectContaining({ kind: 'unreachable' }) })]);
  });

  it('a link that becomes one-way loses the peer dead-after after the last complete round trip was sent', () => {
    const table = tableOf(A, [B]);
    roundTrip(table, B, 1, 0, 10);
    roundTrip(table, B, 2, 200, 10);
    // From 400 on, replies are lost.
    for (let seq = 3, now = 400; now < 2000; seq++, now += 200) table.sent(B, seq, t(now));
    expect(table.seen(t(1199))).toEqual(new Set([B]));
    expect(table.seen(t(1200))).toEqual(new Set());
  });

  it('a late reply (at or after send + dead-after) does not count, even from a seen peer', () => {
    const table = tableOf(A, [B]);
    table.sent(B, 1, t(0));
    expect(table.replied(B, 1, reply(1, state(B)), t(1000))).toBe('late');
    expect(table.seen(t(1000))).toEqual(new Set());
    expect(table.lastSeenSend(B)).toBeUndefined();

    roundTrip(table, B, 2, 2000, 10);
    table.sent(B, 3, t(2200));
    // Seen until 3000 from heartbeat 2; heartbeat 3's reply at 3200 is late and does not extend it.
    expect(table.replied(B, 3, reply(3, state(B)), t(3200))).toBe('late');
    expect(table.seen(t(3000))).toEqual(new Set());
    expect(table.longestRoundTrip(B)).toBe(10);
  });

  it('a reply just inside dead-after counts, and the peer is seen only for what is left of the window', () => {
    const table = tableOf(A, [B]);
    table.sent(B, 1, t(0));
    expect(table.replied(B, 1, reply(1, state(B)), t(999))).toBe('counted');
    expect(table.seen(t(999))).toEqual(new Set([B]));
    expect(table.seen(t(1000))).toEqual(new Set());
    expect(table.longestRoundTrip(B)).toBe(999);
  });

  it('reordered replies: an older round trip completing later never moves the window back nor replaces newer state', () => {
    const table = tableOf(A, [B]);
    table.sent(B, 1, t(0));
    table.sent(B, 2, t(200));
    expect(table.replied(B, 2, reply(2, state(B, {}, { web: { holding: true } })), t(250))).toBe('counted');
    expect(table.replied(B, 1, reply(1, state(B, {}, { web: { holding: false } })), t(300))).toBe('counted');
    expect(table.lastSeenSend(B)).toBe(200);
    expect(table.seen(t(1199))).toEqual(new Set([B]));
    expect(table.stateOf(B, t(500))?.services.get(serviceName('web'))?.holding).toBe(true);
    expect(table.longestRoundTrip(B)).toBe(300);
  });

  it('a reply to a heartbeat not outstanding (never sent, or answered already) and a wrong echo do not count', () => {
    const table = tableOf(A, [B]);
    expect(table.replied(B, 7, reply(7, state(B)), t(10))).toBe('unmatched');
    roundTrip(table, B, 1, 0, 5);
    expect(table.replied(B, 1, reply(1, state(B)), t(20))).toBe('unmatched'); // a duplicate
    table.sent(B, 2, t(1500));
    expect(table.replied(B, 2, reply(1, state(B)), t(1510))).toBe('unmatched'); // echoes another sequence
    expect(table.seen(t(1510))).toEqual(new Set());
  });

  it('digest mismatch: the peer is never seen, and the reason is reported once, not every heartbeat', () => {
    const table = tableOf(A, [B]);
    const other = computeMembershipDigest(cluster, { id: B, votes: 1 }, [{ id: A, votes: 2 }, { id: C, votes: 1 }]);
    for (let seq = 1; seq <= 20; seq++) {
      expect(table.replied(B, seq, reply(seq, state(B, { digest: other })), (table.sent(B, seq, t(seq * 200)), t(seq * 200 + 5)))).toBe('digest-mismatch');
    }
    expect(table.seen(t(4100))).toEqual(new Set());
    const changes = table.poll(t(4100));
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ kind: 'not-counted', peer: B, problem: { kind: 'digest-mismatch', detail: expect.stringMatching(/members or votes differ/) } });
  });

  it('a reply from another cluster or from a node other than the one addressed does not count', () => {
    const table = tableOf(A, [B]);
    table.sent(B, 1, t(0));
    expect(table.replied(B, 1, reply(1, state(B, { cluster: clusterName('ledger') })), t(5))).toBe('wrong-cluster');
    table.sent(B, 2, t(200));
    expect(table.replied(B, 2, reply(2, state(C)), t(205))).toBe('wrong-node');
    expect(table.seen(t(300))).toEqual(new Set());
    expect(table.poll(t(300)).map((c) => c.kind === 'not-counted' && c.problem.kind)).toEqual(['wrong-cluster', 'wrong-node']);
  });
});

describe('MembershipTable: changes, one per state change', () => {
  it('reports seen, then lost with the last problem as the cause; a problem is said again after a success', () => {
    const table = tableOf(A, [B]);
    roundTrip(table, B, 1, 0, 12);
    const seen = table.poll(t(12));
    expect(seen).toEqual([{ kind: 'seen', peer: B, at: 12, roundTrip: 12, cause: expect.stringMatching(/12 ms/) }]);
    expect(table.poll(t(500))).toEqual([]);

    table.sent(B, 2, t(200));
    table.failed(B, 2, { kind: 'unreachable', detail: 'UNAVAILABLE: connection refused' }, t(201));
    table.sent(B, 3, t(400));
    table.failed(B, 3, { kind: 'unreachable', detail: 'UNAVAILABLE: connection refused' }, t(401));
    expect(table.poll(t(401))).toEqual([expect.objectContaining({ kind: 'not-counted', problem: expect.objectContaining({ kind: 'unreachable' }) })]);
    expect(table.nextExpiry(t(401))).toBe(1000);
    const lost = table.poll(t(1000));
    expect(lost).toEqual([{ kind: 'lost', peer: B, at: 1000, lastSeenSend: 0, cause: expect.stringMatching(/connection refused/) }]);
    expect(table.nextExpiry(t(1000))).toBeUndefined();

    roundTrip(table, B, 4, 1200, 3);
    table.sent(B, 5, t(1400));
    table.failed(B, 5, { kind: 'unreachable', detail: 'DEADLINE_EXCEEDED' }, t(2400));
    const kinds = table.poll(t(2400)).map((c: MembershipChange) => c.kind);
    // Seen again (reported although it ended before this poll), the same kind of problem said
    // again (it is news after a success), then lost.
    expect(kinds).toEqual(['seen', 'not-counted', 'lost']);
  });

  it('a peer lost and seen again between two polls leaves both lines, lost first', () => {
    const table = tableOf(A, [B]);
    roundTrip(table, B, 1, 0, 5);
    expect(table.poll(t(5)).map((c) => c.kind)).toEqual(['seen']);
    roundTrip(table, B, 2, 1500, 5);
    expect(table.poll(t(1505))).toEqual([
      expect.objectContaining({ kind: 'lost', at: 1000, lastSeenSend: 0 }),
      expect.objectContaining({ kind: 'seen', at: 1505 }),
    ]);
  });

  it('reports a seen peer whose state changed as updated (and not when nothing changed)', () => {
    const table = tableOf(A, [B]);
    roundTrip(table, B, 1, 0, 5, state(B, {}, { web: { healthy: true } }));
    table.poll(t(5));
    roundTrip(table, B, 2, 200, 5, state(B, {}, { web: { healthy: true } }));
    expect(table.poll(t(205))).toEqual([]);
    roundTrip(table, B, 3, 400, 5, state(B, { seenPeers: new Set([C]) }, { web: { healthy: true } }));
    expect(table.poll(t(405))).toEqual([{ kind: 'updated', peer: B, at: 405 }]);
    roundTrip(table, B, 4, 600, 5, state(B, { seenPeers: new Set([C]) }, { web: { healthy: true, released: true } }));
    expect(table.poll(t(605))).toEqual([{ kind: 'updated', peer: B, at: 605 }]);
    expect(table.seenStates(t(605)).get(B)?.services.get(serviceName('web'))?.released).toBe(true);
  });

  it('gives no state for a peer that is no longer seen', () => {
    const table = tableOf(A, [B]);
    roundTrip(table, B, 1, 0, 5);
    expect(table.stateOf(B, t(999))?.node).toBe(B);
    expect(table.stateOf(B, t(1000))).toBeUndefined();
    expect(table.seenStates(t(1000)).size).toBe(0);
    // What the takeover bound needs stays known after the peer is lost.
    expect(table.lastSeenSend(B)).toBe(0);
    expect(table.longestRoundTrip(B)).toBe(5);
  });

  it('refuses a configuration listing the node as its own peer, and questions about unknown peers', () => {
    expect(() => tableOf(A, [A])).toThrow(/own peer/);
    expect(() => tableOf(A, [B]).lastSeenSend(C)).toThrow(/not a configured peer/);
  });
});

describe('membership digest', () => {
  const members = [{ id: A, votes: 1 }, { id: B, votes: 1 }, { id: C, votes: 2 }];
  const fromViewOf = (self: NodeId, m = members, name = cluster): MembershipDigest =>
    computeMembershipDigest(name, m.find((x) => x.id === self)!, m.filter((x) => x.id !== self));

  it('is the same whichever member computes it, whatever the order of its peers', () => {
    const d = fromViewOf(A);
    expect(fromViewOf(B)).toBe(d);
    expect(fromViewOf(C)).toBe(d);
    expect(computeMembershipDigest(cluster, members[0]!, [members[2]!, members[1]!])).toBe(d);
    expect(d).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs when a vote, a member or the cluster name differs', () => {
    const d = fromViewOf(A);
    expect(fromViewOf(A, [{ id: A, votes: 1 }, { id: B, votes: 2 }, { id: C, votes: 2 }])).not.toBe(d);
    expect(fromViewOf(A, [{ id: A, votes: 1 }, { id: B, votes: 1 }])).not.toBe(d);
    expect(fromViewOf(A, members, clusterName('ledger'))).not.toBe(d);
  });

  it('cannot be fooled by moving characters between adjacent fields', () => {
    const one = computeMembershipDigest(clusterName('ab'), { id: nodeId('c'), votes: 1 }, []);
    const two = computeMembershipDigest(clusterName('a'), { id: nodeId('bc'), votes: 1 }, []);
    expect(one).not.toBe(two);
  });
});
