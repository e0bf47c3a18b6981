/**
 * The handover clearance (pure, fake time): when this node may start serving an exclusive
 * service another node may still hold.
 */
import { describe, expect, it } from 'vitest';
import { HandoverTracker, type HandoverContext, type HandoverTiming } from '../src/cluster/handover.js';
import type { NodeState, ServiceState } from '../src/cluster/membership-node-state.js';
import type { MembershipDigest } from '../src/cluster/membership-digest.js';
import { ms, type Millis } from '../src/core/duration.js';
import { clusterName, nodeId, serviceName, type NodeId } from '../src/core/ids.js';

const DB = serviceName('db');
const timing: HandoverTiming = { interval: ms(200), deadAfter: ms(1000), withdrawBound: ms(1000), convergenceAllowance: ms(500), addressAllowance: ms(30), driftRate: 0.02 };
const A = nodeId('a');
const B = nodeId('b');
const C = nodeId('c');

const state = (node: NodeId, db: Partial<ServiceState>, seenPeers: NodeId[] = []): NodeState => ({
  cluster: clusterName('c1'), node, digest: 'x' as MembershipDigest, seenPeers: new Set(seenPeers),
  quorum: { quorate: true, reason: '' }, withdrawBound: ms(0),
  services: new Map([[DB, { healthy: true, drained: false, announceable: true, priority: 100, holding: false, released: false, ...db }]]),
});

/** `unseen`: the configured peers not seen now (rule 3 waits for each of them). */
const ctx = (peers: NodeState[], seen: NodeId[], lastSend: Millis = ms(0), rtt?: Millis, unseen: NodeId[] = []): HandoverContext => ({
  seen: new Set(seen),
  unseen: new Set(unseen),
  peers: new Map(peers.map((p) => [p.node, p])),
  lastSeenSend: () => lastSend,
  longestRoundTrip: () => rtt,
});

describe('HandoverTracker', () => {
  it('nothing known: no wait', () => {
    expect(new HandoverTracker(A, timing).clearance(DB, ms(0), ctx([], []))).toBeUndefined();
  });

  it('a released holder: waits the convergence allowance from when the release was seen', () => {
    const t = new HandoverTracker(A, timing);
    t.observe(ms(1000), new Map([[B, state(B, { holding: true })]]));
    t.observe(ms(3000), new Map([[B, state(B, { holding: false, released: true })]]));
    const c = ctx([state(B, { released: true })], [B]);
    expect(t.clearance(DB, ms(3499), c)).toMatchObject({ until: 3500 });
    expect(t.clearance(DB, ms(3500), c)).toBeUndefined();
  });

  it('a seen holder whose latest state says released: the allowance starts even when asked before observe() saw that state', () => {
    // The lab found it: the agent decided between a heartbeat's arrival and observe(); the
    // record said "holding", the holder was seen, so no wait, and decide() saw no holder.
    const t = new HandoverTracker(A, timing);
    t.observe(ms(1000), new Map([[B, state(B, { holding: true })]]));
    const c = ctx([state(B, { holding: false, released: true })], [B]);
    expect(t.clearance(DB, ms(3000), c)).toMatchObject({ until: 3500, reason: expect.stringContaining('released') });
    // Asked again later with the same state: the allowance still counts from the first sight of the release.
    expect(t.clearance(DB, ms(3200), c)).toMatchObject({ until: 3500 });
    expect(t.clearance(DB, ms(3500), c)).toBeUndefined();
  });

  it('a holder that vanished without releasing: waits until it must have withdrawn, drift included', () => {
    const t = new HandoverTracker(A, timing);
    t.observe(ms(1000), new Map([[B, state(B, { holding: true })]]));
    // Last completed round trip sent at 5000, its longest counted round trip 50 ms.
    const c = ctx([], [], ms(5000), ms(50), [B]);
    const until = 5000 + (1000 + 200 + 50 + 1000) * 1.02;
    expect(t.clearance(DB, ms(until - 1), c)).toMatchObject({ until, reason: expect.stringContaining('no longer seen') });
    expect(t.clearance(DB, ms(until), c)).toBeUndefined();
  });

  it('a holder that stated a longer withdrawal bound in its heartbeats is waited for by its own bound', () => {
    const t = new HandoverTracker(A, timing);
    t.observe(ms(1000), new Map([[B, { ...state(B, { holding: true }), withdrawBound: ms(3000) }]]));
    const until = 5000 + (1000 + 200 + 50 + 3000) * 1.02;
    expect(t.clearance(DB, ms(until - 1), ctx([], [], ms(5000), ms(50), [B]))).toMatchObject({ until });
    expect(t.clearance(DB, ms(until), ctx([], [], ms(5000), ms(50), [B]))).toBeUndefined();
  });

  it('a holder by ARP that released: only the short address allowance, not the routers\' (its address is already gone)', () => {
    const t = new HandoverTracker(A, timing);
    t.observe(ms(1000), new Map([[B, state(B, { holding: true, method: 'arp' })]]));
    t.observe(ms(3000), new Map([[B, state(B, { holding: false, released: true })]]));
    expect(t.clearance(DB, ms(3029), ctx([state(B, { released: true })], [B]))).toMatchObject({ until: 3030 });
    expect(t.clearance(DB, ms(3030), ctx([state(B, { released: true })], [B]))).toBeUndefined();
  });

  it('a vanished holder by ARP: duplicate-address probes started after its heartbeats died, all unanswered, end the wait early', () => {
    const t = new HandoverTracker(A, timing);
    t.observe(ms(1000), new Map([[B, state(B, { holding: true, method: 'arp' })]]));
    const base = ctx([], [], ms(5000), ms(50), [B]);
    // Dead from 5000 + deadAfter = 6000 on.
    expect(t.clearance(DB, ms(6300), base)).toMatchObject({ probeAddress: true });
    const probed = (startedAt: number, unanswered: boolean): HandoverContext => ({ ...base, addressProbe: () => ({ startedAt: ms(startedAt), unanswered }) });
    expect(t.clearance(DB, ms(6300), probed(6000, true))).toBeUndefined();
    // Started before the heartbeats died, or answered: proves nothing; the full wait stands.
    expect(t.clearance(DB, ms(6300), probed(5999, true))).toMatchObject({ probeAddress: true });
    expect(t.clearance(DB, ms(6300), probed(6100, false))).toMatchObject({ probeAddress: true });
  });

  it('a vanished holder by BGP: no probe shortcut', () => {
    const t = new HandoverTracker(A, timing);
    t.observe(ms(1000), new Map([[B, state(B, { holding: true, method: 'bgp' })]]));
    const c: HandoverContext = { ...ctx([], [], ms(5000), ms(50), [B]), addressProbe: () => ({ startedAt: ms(6000), unanswered: true }) };
    const r = t.clearance(DB, ms(6300), c);
    expect(r).toBeDefined();
    expect(r?.probeAddress).toBeUndefined();
  });

  it('a node that stopped serving (say, it lost quorum in a stall) does not take the service back on its own old record', () => {
    const t = new HandoverTracker(A, timing);
    t.selfHolds(DB);
    t.selfReleased(DB, ms(5000), 'arp');
    // Waking, it first sees B, which took the service meanwhile and has already released it.
    const c = ctx([state(B, { holding: false, released: true })], [B]);
    expect(t.clearance(DB, ms(5100), c)).toMatchObject({ until: 5600, reason: expect.stringContaining('b released it') });
    expect(t.clearance(DB, ms(5600), c)).toBeUndefined();
  });

  it('a peer that vanished before any heartbeat said it took the service is waited for as if it held it (the lab\'s race)', () => {
    // A released to B (B had precedence); B took it and died before A heard of it.
    const t = new HandoverTracker(A, timing);
    t.selfHolds(DB);
    t.selfReleased(DB, ms(4900), 'arp');
    t.observe(ms(4950), new Map([[B, state(B, { holding: false, released: false })]]));
    const c = ctx([], [], ms(5000), ms(50), [B]);
    const until = 5000 + (1000 + 200 + 50 + 1000) * 1.02;
    expect(t.clearance(DB, ms(until - 1), c)).toMatchObject({ until, reason: expect.stringContaining('may have taken it') });
    expect(t.clearance(DB, ms(until), c)).toBeUndefined();
    // A service that only ARP can serve: probes that go unanswered end the wait, as for a known holder.
    const arpOnly: HandoverContext = { ...c, methodsOf: () => ['arp'], addressProbe: () => ({ startedAt: ms(6000), unanswered: true }) };
    expect(t.clearance(DB, ms(6300), arpOnly)).toBeUndefined();
    expect(t.clearance(DB, ms(6300), { ...arpOnly, methodsOf: () => ['bgp', 'arp'] })).toMatchObject({ until });
  });

  it('a peer never seen counts as last seen when this node started', () => {
    const t = new HandoverTracker(A, timing, ms(100_000));
    const c: HandoverContext = { ...ctx([], [], ms(0), undefined, [C]), lastSeenSend: () => undefined };
    const until = 100_000 + (1000 + 200 + 1000 + 1000) * 1.02;
    expect(t.clearance(DB, ms(100_500), c)).toMatchObject({ until });
    expect(t.clearance(DB, ms(until), c)).toBeUndefined();
  });

  it('a seen holder that still holds: left to decide() (which waits for the release)', () => {
    const t = new HandoverTracker(A, timing);
    t.observe(ms(1000), new Map([[B, state(B, { holding: true })]]));
    expect(t.clearance(DB, ms(9_999_999), ctx([state(B, { holding: true })], [B]))).toBeUndefined();
  });

  it('a seen peer that stopped holding but has not completed its withdrawal: no start until it says released', () => {
    // The lab found it: `holding` drops at the decision, `released` only once the speaker withdrew.
    const t = new HandoverTracker(A, timing);
    t.observe(ms(1000), new Map([[B, state(B, { holding: true })]]));
    const withdrawing = ctx([state(B, { holding: false, released: false })], [B]);
    expect(t.clearance(DB, ms(2000), withdrawing)).toMatchObject({ until: Infinity, reason: 'b has not completed its withdrawal of it' });
    const released = ctx([state(B, { holding: false, released: true })], [B]);
    expect(t.clearance(DB, ms(2100), released)).toMatchObject({ until: 2600 });
    expect(t.clearance(DB, ms(2600), released)).toBeUndefined();
  });

  it('a peer seen anew that says it released: the allowance starts now (it may have stopped a moment ago)', () => {
    const t = new HandoverTracker(A, timing);
    // This node held db earlier, then stopped; it never saw B hold.
    t.selfHolds(DB);
    const c = ctx([state(B, { holding: false, released: true })], [B]);
    expect(t.clearance(DB, ms(5000), c)).toMatchObject({ until: 5500, reason: expect.stringContaining('b released it') });
    expect(t.clearance(DB, ms(5500), c)).toBeUndefined();
    // Lost and seen anew: another allowance.
    expect(t.clearance(DB, ms(6000), ctx([], []))).toBeUndefined();
    expect(t.clearance(DB, ms(7000), c)).toMatchObject({ until: 7500 });
  });

  it('a seen peer that sees a node this one does not: nothing new is taken', () => {
    const t = new HandoverTracker(A, timing);
    const c = ctx([state(B, {}, [A, C])], [B]);
    expect(t.clearance(DB, ms(1e12), c)).toMatchObject({ until: Infinity, reason: 'b still sees c, which this node does not' });
    const agreeing = ctx([state(B, { released: true }, [A])], [B]);
    t.clearance(DB, ms(0), agreeing); // B seen anew: its release starts an allowance
    expect(t.clearance(DB, ms(500), agreeing)).toBeUndefined();
  });

  it('once this node holds the service, earlier holders no longer delay it', () => {
    const t = new HandoverTracker(A, timing);
    t.observe(ms(1000), new Map([[B, state(B, { holding: true })]]));
    t.selfHolds(DB);
    expect(t.clearance(DB, ms(1001), ctx([], []))).toBeUndefined();
  });
});

describe('mutual sighting', () => {
  it('a seen peer counts only when its latest state says it sees this node too', async () => {
    const { mutuallySeen } = await import('../src/cluster/quorum-keeper.js');
    const states = new Map([[B, state(B, {}, [A])], [C, state(C, {}, [])]]);
    expect([...mutuallySeen(A, new Set([B, C]), states)]).toEqual([B]);
    expect([...mutuallySeen(A, new Set([C]), states)]).toEqual([]);
  });
});
