import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decide, successor, type DecideInput, type PeerView, type PeerServiceView } from '../src/decide.js';
import { runQuorumChain } from '../src/cluster/quorum-chain.js';
import { votingVerdict } from '../src/cluster/voting.js';
import { ms } from '../src/core/duration.js';
import { nodeId, serviceName, type NodeId, type ServiceName } from '../src/core/ids.js';
import { parsePrefix } from '../src/core/prefix.js';
import type { ServiceConfig } from '../src/config/types.js';

const service = (name: string, over: Partial<ServiceConfig> = {}): ServiceConfig => ({
  name: serviceName(name),
  prefixes: [parsePrefix('203.0.113.10/32')],
  mode: 'anycast',
  priority: 100,
  preempt: true,
  via: ['bgp'],
  checks: [],
  bgp: { origin: 'igp', communities: [], largeCommunities: [], asPathPrepend: 0 },
  ...over,
});

const quorate = runQuorumChain([{ name: 'voting', verdict: { vote: 'HAVEQUORUM', reason: '1 of 1 votes visible' } }]);
const noQuorum = runQuorumChain([{ name: 'voting', verdict: { vote: 'NOQUORUM', reason: '1 of 3 votes visible' } }]);

/** BGP usable for every service of the input, unless the test says otherwise. */
const base = (over: Partial<DecideInput> = {}): DecideInput => {
  const services = over.services ?? [service('web')];
  return {
    now: ms(1000),
    self: nodeId('a'),
    services,
    health: new Map([[serviceName('web'), true]]),
    drained: new Set(),
    quorum: quorate,
    peers: [],
    methods: new Map(services.map((s) => [s.name, new Set(['bgp'] as const)])),
    ...over,
  };
};

describe('decide', () => {
  it('serves a healthy anycast service of a quorate node by its first usable method', () => {
    expect(decide(base())).toEqual([{ service: 'web', serve: true, method: 'bgp', reason: 'healthy and quorate' }]);
  });

  it('withdraws without quorum, when unhealthy, drained, or without a usable method — saying why', () => {
    expect(decide(base({ quorum: noQuorum }))[0]).toMatchObject({ serve: false, reason: expect.stringContaining('no quorum') });
    expect(decide(base({ health: new Map() }))[0]).toMatchObject({ serve: false, reason: 'checks failing' });
    expect(decide(base({ drained: new Set([serviceName('web')]) }))[0]).toMatchObject({ serve: false, reason: 'drained by the operator' });
    expect(decide(base({ heldDown: new Set([serviceName('web')]) }))[0]).toMatchObject({ serve: false, reason: 'held down for flapping' });
    expect(decide(base({ methods: new Map() }))[0]).toMatchObject({ serve: false, reason: expect.stringContaining('no usable method') });
  });

  it('a drained anycast service inside its graceful shutdown stays announced, marked; an exclusive one is released at once', () => {
    const web = serviceName('web');
    const draining = new Map([[web, ms(1500)]]);
    expect(decide(base({ drained: new Set([web]), draining }))[0]).toEqual({
      service: 'web', serve: true, method: 'bgp', gracefulShutdown: true, reason: 'drained: announced with GRACEFUL_SHUTDOWN until the withdrawal',
    });
    // Its time is over, or it would not be served anyway: withdrawn.
    expect(decide(base({ now: ms(1500), drained: new Set([web]), draining }))[0]).toMatchObject({ serve: false, reason: 'drained by the operator' });
    expect(decide(base({ drained: new Set([web]), draining, health: new Map() }))[0]).toMatchObject({ serve: false, reason: 'checks failing' });
    expect(decide(base({ drained: new Set([web]), draining, quorum: noQuorum }))[0]).toMatchObject({ serve: false });
    expect(decide(base({ services: [service('web', { mode: 'exclusive' })], drained: new Set([web]), draining }))[0]).toMatchObject({ serve: false, reason: 'drained by the operator' });
  });

  it('serves by the first usable method in via order, per service', () => {
    const vip = service('vip', { mode: 'anycast', via: ['bgp', 'arp'] });
    const only = (...m: ('bgp' | 'arp')[]) => new Map([[vip.name, new Set(m)]]);
    const input = (methods: Map<ServiceName, Set<'bgp' | 'arp'>>) => base({ services: [vip], health: new Map([[vip.name, true]]), methods });
    expect(decide(input(only('bgp', 'arp')))[0]).toMatchObject({ serve: true, method: 'bgp' });
    expect(decide(input(only('arp')))[0]).toMatchObject({ serve: true, method: 'arp' });
    expect(decide(input(only()))[0]).toMatchObject({ serve: false, reason: 'no usable method among bgp, arp' });
  });

  it('stops serving at the end of a quorum lease', () => {
    const lease = runQuorumChain([
      { name: 'voting', verdict: { vote: 'QUORUMTIE', reason: '1 of 2' } },
      { name: 'server', verdict: { vote: 'HAVEQUORUM', until: ms(5000), reason: 'lease granted' } },
    ]);
    expect(decide(base({ quorum: lease, now: ms(4999) }))[0]!.serve).toBe(true);
    expect(decide(base({ quorum: lease, now: ms(5000) }))[0]!.serve).toBe(false);
  });

  const peer = (id: string, view: Partial<PeerServiceView>): PeerView => ({
    id: nodeId(id),
    services: new Map([[serviceName('db'), { healthy: true, drained: false, announceable: true, priority: 100, holding: false, ...view }]]),
  });

  it('a drained holder\'s successor is the placement among the eligible peers alone', () => {
    const svc = service('db', { mode: 'exclusive' });
    expect(successor([peer('c', { priority: 200 }), peer('b', { priority: 200 }), peer('a', { priority: 300, drained: true })], svc)).toBe('b');
    expect(successor([peer('c', { priority: 100, holding: true }), peer('b', { priority: 200 })], service('db', { mode: 'exclusive', preempt: false }))).toBe('c');
    expect(successor([peer('a', { healthy: false }), peer('b', { announceable: false })], svc)).toBeUndefined();
  });

  it('places an exclusive service on the highest priority, then the lowest node id', () => {
    const svc = service('db', { mode: 'exclusive', priority: 100 });
    const input = (peers: PeerView[], self = 'b') =>
      base({ self: nodeId(self), services: [svc], health: new Map([[serviceName('db'), true]]), peers });
    expect(decide(input([peer('a', { priority: 200 })]))[0]!.serve).toBe(false);
    expect(decide(input([peer('a', { priority: 100 })]))[0]!.serve).toBe(false); // tie: lowest id wins
    expect(decide(input([peer('c', { priority: 100 })]))[0]!.serve).toBe(true);
    expect(decide(input([peer('a', { priority: 200, healthy: false })]))[0]!.serve).toBe(true);
    expect(decide(input([peer('a', { priority: 200, drained: true })]))[0]!.serve).toBe(true);
  });

  it('does not take an exclusive service a seen peer still holds; without preempt the holder keeps it', () => {
    const input = (preempt: boolean, view: Partial<PeerServiceView>) =>
      base({ services: [service('db', { mode: 'exclusive', priority: 200, preempt })], health: new Map([[serviceName('db'), true]]), peers: [peer('z', view)] });
    expect(decide(input(true, { holding: true, priority: 100 }))[0]).toMatchObject({ serve: false, reason: 'waiting for z to release' });
    expect(decide(input(false, { holding: true, priority: 100 }))[0]).toMatchObject({ serve: false, reason: expect.stringContaining('z has precedence') });
    expect(decide(input(true, { holding: false, priority: 100 }))[0]!.serve).toBe(true);
  });

  it('property: nothing is served without quorum, unhealthy, or drained; never two holders of an exclusive service', () => {
    const ids = ['a', 'b', 'c', 'd'].map(nodeId);
    const arbNode = fc.record({ healthy: fc.boolean(), drained: fc.boolean(), priority: fc.integer({ min: 0, max: 3 }) });
    fc.assert(
      fc.property(fc.array(arbNode, { minLength: 4, maxLength: 4 }), fc.boolean(), fc.boolean(), (nodes, preempt, isQuorate) => {
        const svc = service('db', { mode: 'exclusive', preempt });
        const servers: NodeId[] = [];
        // Every node decides from the same shared view (nobody holds yet): at most one may serve.
        for (let i = 0; i < ids.length; i++) {
          const me = nodes[i]!;
          const peers: PeerView[] = ids.flatMap((id, j) =>
            j === i ? [] : [{ id, services: new Map<ServiceName, PeerServiceView>([[svc.name, { ...nodes[j]!, announceable: true, holding: false }]]) }],
          );
          const [d] = decide(base({
            self: ids[i]!, services: [{ ...svc, priority: me.priority }], quorum: isQuorate ? quorate : noQuorum,
            health: new Map([[svc.name, me.healthy]]), drained: me.drained ? new Set([svc.name]) : new Set(), peers,
          }));
          if (d!.serve) {
            expect(isQuorate && me.healthy && !me.drained).toBe(true);
            servers.push(ids[i]!);
          }
        }
        expect(servers.length).toBeLessThanOrEqual(1);
        const eligible = nodes.some((n) => n.healthy && !n.drained);
        expect(servers.length).toBe(isQuorate && eligible ? 1 : 0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('quorum chain', () => {
  const members = [{ id: nodeId('b'), votes: 1 }, { id: nodeId('c'), votes: 1 }, { id: nodeId('d'), votes: 1 }];
  const self = { id: nodeId('a'), votes: 1 };

  it('voting: more than half is quorum, exactly half a tie, less none', () => {
    expect(votingVerdict({ self, members, seen: new Set([nodeId('b'), nodeId('c')]) }).vote).toBe('HAVEQUORUM');
    expect(votingVerdict({ self, members, seen: new Set([nodeId('b')]) }).vote).toBe('QUORUMTIE');
    expect(votingVerdict({ self, members, seen: new Set() }).vote).toBe('NOQUORUM');
    expect(votingVerdict({ self, members: [], seen: new Set() }).vote).toBe('HAVEQUORUM'); // a cluster of one
  });

  it('a tie passes on; a final tie is no quorum; the first decisive module wins', () => {
    const tie = { vote: 'QUORUMTIE', reason: 'half' } as const;
    expect(runQuorumChain([{ name: 'voting', verdict: tie }]).quorate).toBe(false);
    expect(runQuorumChain([{ name: 'voting', verdict: tie }, { name: 'server', verdict: { vote: 'HAVEQUORUM', until: ms(9), reason: 'granted' } }]))
      .toMatchObject({ quorate: true, validUntil: 9, reason: 'server: granted' });
    expect(runQuorumChain([{ name: 'voting', verdict: { vote: 'NOQUORUM', reason: 'x' } }, { name: 'server', verdict: { vote: 'HAVEQUORUM', reason: 'y' } }]).quorate).toBe(false);
    expect(runQuorumChain([]).quorate).toBe(false);
  });
});

describe('decide: handover clearance', () => {
  it('an exclusive service is not taken before its clearance, and is after', () => {
    const svc = service('db', { mode: 'exclusive' });
    const input = (now: number) => base({
      now: ms(now), services: [svc], health: new Map([[svc.name, true]]),
      clearance: new Map([[svc.name, { until: ms(2000), reason: 'b held it and is no longer seen: waiting until it must have withdrawn' }]]),
    });
    expect(decide(input(1999))[0]).toMatchObject({ serve: false, reason: 'b held it and is no longer seen: waiting until it must have withdrawn' });
    expect(decide(input(2000))[0]!.serve).toBe(true);
  });
});

describe('decide: preempt', () => {
  const peerAt = (priority: number): PeerView => ({
    id: nodeId('a'),
    services: new Map([[serviceName('db'), { healthy: true, drained: false, announceable: true, priority, holding: false }]]),
  });
  const input = (preempt: boolean, holding: boolean) => base({
    self: nodeId('b'), services: [service('db', { mode: 'exclusive', priority: 100, preempt })],
    health: new Map([[serviceName('db'), true]]), peers: [peerAt(200)],
    holding: holding ? new Set([serviceName('db')]) : new Set(),
  });

  it('without preempt, this node keeps the service it holds against a recovered higher priority', () => {
    expect(decide(input(false, true))[0]!.serve).toBe(true);
  });

  it('with preempt, or when it does not hold it, the higher priority wins', () => {
    expect(decide(input(true, true))[0]).toMatchObject({ serve: false, reason: expect.stringContaining('a has precedence') });
    expect(decide(input(false, false))[0]!.serve).toBe(false);
  });
});
