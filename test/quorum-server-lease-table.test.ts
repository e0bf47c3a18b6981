/**
 * The quorum server's lease table, pure, on a fake clock: examples of every rule, then
 * properties — never two partitions of a cluster with overlapping server-side intervals (the
 * gap included), the policy order, and a restart without records granting nothing before one
 * maximum lease plus the gap.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ms, type Millis } from '../src/core/duration.js';
import { clusterName, nodeId } from '../src/core/ids.js';
import { membershipDigest, type LeaseAsk } from '../src/quorum-server/lease-ask.js';
import { LeaseTable, type LeaseDecision } from '../src/quorum-server/lease-table.js';
import { takeoverGap } from '../src/quorum-server/takeover-gap.js';

const LEASE_MAX = ms(2000);
const GAP = takeoverGap(LEASE_MAX);
const SETTLE = ms(600);
const DIGEST = membershipDigest(Uint8Array.from([1, 2, 3]));
const OTHER_DIGEST = membershipDigest(Uint8Array.from([9, 9]));
const PAYMENTS = clusterName('payments');
const LEDGER = clusterName('ledger');

function ask(node: string, partition: string[], votes = 1, extra: Partial<LeaseAsk> = {}): LeaseAsk {
  return {
    cluster: PAYMENTS, node: nodeId(node), digest: DIGEST,
    partition: partition.map(nodeId).sort(), votes, totalVotes: 2, lease: ms(1000), settle: SETTLE, ...extra,
  };
}

/** A table that has been up long enough that no restart wait applies. */
function freshTable(opts: { prefer?: string; clusters?: boolean } = {}): LeaseTable {
  return new LeaseTable({
    leaseMax: LEASE_MAX,
    startedAt: ms(0),
    resumed: [],
    ...(opts.clusters === false ? {} : {
      clusters: [{ name: PAYMENTS, ...(opts.prefer ? { prefer: nodeId(opts.prefer) } : {}) }, { name: LEDGER }],
    }),
  });
}

const t = (n: number): Millis => ms(n);

/** Asks every `step` ms from `from` to `to` (inclusive), as a client re-asking each interval does; the last answer. */
function askEvery(table: LeaseTable, request: LeaseAsk, from: number, to: number, step: number): LeaseDecision {
  for (let at = from; at < to; at += step) table.request(request, t(at));
  return table.request(request, t(to));
}

describe('lease table: examples', () => {
  it('settles before the first grant, then grants at most lease.max', () => {
    const table = freshTable();
    const first = table.request(ask('a', ['a'], 1, { lease: ms(60_000) }), t(1000));
    expect(first).toMatchObject({ verdict: 'RETRY', retry: 'settling' });
    expect(table.request(ask('a', ['a'], 1, { lease: ms(60_000) }), t(1000 + SETTLE - 1)).verdict).toBe('RETRY');
    const granted = table.request(ask('a', ['a'], 1, { lease: ms(60_000) }), t(1000 + SETTLE));
    expect(granted).toMatchObject({ verdict: 'GRANTED', granted: LEASE_MAX, renewal: false });
    expect(granted.event).toMatchObject({ kind: 'granted', partition: ['a'] });
  });

  it('two partitions asking in one window: more votes wins, the other is refused', () => {
    const table = freshTable();
    table.request(ask('b', ['b'], 1), t(0));
    table.request(ask('a', ['a'], 2, { settle: ms(800) }), t(100)); // the longer window counts
    expect(table.request(ask('b', ['b'], 1), t(700)).verdict).toBe('RETRY');
    const loser = table.request(ask('b', ['b'], 1), t(800));
    expect(loser).toMatchObject({ verdict: 'REFUSED', refusal: 'lost', holder: { partition: ['a'] } });
    expect(loser.reason).toMatch(/more votes/);
    expect(table.request(ask('a', ['a'], 2), t(850))).toMatchObject({ verdict: 'GRANTED' });
    expect(table.request(ask('b', ['b'], 1), t(900))).toMatchObject({ verdict: 'REFUSED', refusal: 'held-by-other' });
  });

  it('renews the holder at once, and logs a refusal once per change', () => {
    const table = freshTable();
    table.request(ask('a', ['a']), t(0));
    table.request(ask('a', ['a']), t(SETTLE));
    const renewal = table.request(ask('a', ['a']), t(SETTLE + 900));
    expect(renewal).toMatchObject({ verdict: 'GRANTED', renewal: true });
    expect(renewal.event).toBeUndefined();
    const r1 = table.request(ask('b', ['b']), t(SETTLE + 950));
    const r2 = table.request(ask('b', ['b']), t(SETTLE + 990));
    expect(r1.event).toMatchObject({ kind: 'refused', refusal: 'held-by-other' });
    expect(r2.verdict).toBe('REFUSED');
    expect(r2.event).toBeUndefined();
  });

  it('a lapsed holder is replaced after a whole window heard from its end', () => {
    const table = freshTable();
    table.request(ask('a', ['a']), t(0));
    table.request(ask('a', ['a']), t(SETTLE)); // granted until SETTLE + 1000
    const end = SETTLE + 1000;
    expect(table.request(ask('b', ['b']), t(end - 1)).verdict).toBe('REFUSED');
    expect(table.request(ask('b', ['b']), t(end))).toMatchObject({ verdict: 'RETRY' });
    expect(askEvery(table, ask('b', ['b']), end + 100, end + SETTLE - 1, 100)).toMatchObject({ verdict: 'RETRY', retry: 'settling' });
    expect(table.request(ask('b', ['b']), t(end + SETTLE))).toMatchObject({ verdict: 'GRANTED' });
    expect(table.sweep(t(end + SETTLE + 1))).toEqual([]); // b's lease is running; a's expiry was superseded
  });

  it('the takeover gap holds back a takeover when the window is shorter', () => {
    const table = freshTable();
    table.request(ask('a', ['a']), t(0));
    table.request(ask('a', ['a']), t(SETTLE));
    const end = SETTLE + 1000;
    const shortSettle = { settle: ms(100) };
    expect(table.request(ask('b', ['b'], 1, shortSettle), t(end + 20))).toMatchObject({ verdict: 'RETRY', retry: 'previous-lease' });
    expect(askEvery(table, ask('b', ['b'], 1, shortSettle), end + 100, end + GAP - 1, 80)).toMatchObject({ verdict: 'RETRY', retry: 'previous-lease' });
    expect(table.request(ask('b', ['b'], 1, shortSettle), t(end + GAP)).verdict).toBe('GRANTED');
  });

  it('pins the membership digest while a lease is valid, and lets it change after', () => {
    const table = freshTable();
    table.request(ask('a', ['a']), t(0));
    table.request(ask('a', ['a']), t(SETTLE));
    expect(table.request(ask('a', ['a'], 1, { digest: OTHER_DIGEST }), t(SETTLE + 10))).toMatchObject({ verdict: 'REFUSED', refusal: 'digest-mismatch' });
    expect(table.request(ask('b', ['b'], 1, { digest: OTHER_DIGEST }), t(SETTLE + 10))).toMatchObject({ verdict: 'REFUSED', refusal: 'digest-mismatch' });
    const free = SETTLE + 1000 + GAP;
    table.request(ask('b', ['b'], 1, { digest: OTHER_DIGEST }), t(free));
    expect(table.request(ask('b', ['b'], 1, { digest: OTHER_DIGEST }), t(free + SETTLE))).toMatchObject({ verdict: 'GRANTED' });
  });

  it('refuses clusters it does not serve, and serves any when no list is configured', () => {
    expect(freshTable().request(ask('a', ['a'], 1, { cluster: clusterName('other') }), t(0)))
      .toMatchObject({ verdict: 'REFUSED', refusal: 'unknown-cluster' });
    expect(freshTable({ clusters: false }).request(ask('a', ['a'], 1, { cluster: clusterName('other') }), t(0)).verdict).toBe('RETRY');
  });

  it('nodes of one partition share the grant; the lease lasts until the last of them releases', () => {
    const table = freshTable();
    table.request(ask('a1', ['a1', 'a2'], 2), t(0));
    table.request(ask('a1', ['a1', 'a2'], 2), t(SETTLE));
    expect(table.request(ask('a2', ['a2', 'a1'], 2), t(SETTLE + 5))).toMatchObject({ verdict: 'GRANTED', renewal: true });
    expect(table.release({ cluster: PAYMENTS, node: nodeId('a1') }, t(SETTLE + 10))).toMatchObject({ released: true });
    expect(table.request(ask('b', ['b'], 2), t(SETTLE + 20))).toMatchObject({ verdict: 'REFUSED', refusal: 'held-by-other' });
    expect(table.release({ cluster: PAYMENTS, node: nodeId('b') }, t(SETTLE + 30))).toMatchObject({ released: false });
    const last = table.release({ cluster: PAYMENTS, node: nodeId('a2') }, t(SETTLE + 40));
    expect(last).toMatchObject({ released: true, event: { kind: 'released', ended: true } });
    // Released: no gap to wait, only b's window (opened at its next request).
    table.request(ask('b', ['b'], 2), t(SETTLE + 50));
    expect(table.request(ask('b', ['b'], 2), t(SETTLE + 50 + SETTLE))).toMatchObject({ verdict: 'GRANTED' });
  });

  it('a partition gone silent does not hold a window open: a newcomer waits a whole window', () => {
    const table = freshTable();
    table.request(ask('a', ['a']), t(0)); // a asks once, then goes away
    expect(table.request(ask('b', ['b']), t(SETTLE + 100))).toMatchObject({ verdict: 'RETRY', retry: 'settling' });
    expect(table.request(ask('b', ['b']), t(2 * SETTLE + 99)).verdict).toBe('RETRY');
    expect(table.request(ask('b', ['b']), t(2 * SETTLE + 100)).verdict).toBe('GRANTED');
  });

  it('equal votes: the preferred node, and the lowest node id without one', () => {
    for (const [prefer, winner] of [['b', 'b'], [undefined, 'a']] as const) {
      const table = freshTable(prefer ? { prefer } : {});
      table.request(ask('a', ['a']), t(0));
      table.request(ask('b', ['b']), t(1));
      const answers = [table.request(ask('a', ['a']), t(SETTLE + 1)), table.request(ask('b', ['b']), t(SETTLE + 2))];
      expect(answers.filter((d) => d.verdict === 'GRANTED').map((d) => d.holder?.partition)).toEqual([[winner]]);
    }
  });

  it('equal votes: the partition that held it last beats prefer and the lowest id', () => {
    const table = freshTable({ prefer: 'a' });
    table.request(ask('b', ['b']), t(0));
    table.request(ask('b', ['b']), t(SETTLE)); // b holds until SETTLE + 1000, then lapses
    const later = SETTLE + 1000 + GAP + 500;
    table.request(ask('a', ['a']), t(later));
    table.request(ask('b', ['b']), t(later + 1));
    expect(table.request(ask('a', ['a']), t(later + SETTLE + 1))).toMatchObject({ verdict: 'REFUSED', refusal: 'lost' });
    expect(table.request(ask('b', ['b']), t(later + SETTLE + 2))).toMatchObject({ verdict: 'GRANTED' });
  });

  it('a restart without records answers RETRY for one lease.max plus the gap', () => {
    const startedAt = ms(50_000);
    const table = new LeaseTable({ leaseMax: LEASE_MAX, startedAt, clusters: [{ name: PAYMENTS }] });
    expect(table.blockedUntil).toBe(startedAt + LEASE_MAX + GAP);
    expect(table.request(ask('a', ['a']), t(startedAt))).toMatchObject({ verdict: 'RETRY', retry: 'starting' });
    expect(askEvery(table, ask('a', ['a']), startedAt + 100, table.blockedUntil - 1, 100)).toMatchObject({ verdict: 'RETRY', retry: 'starting' });
    expect(table.request(ask('a', ['a']), t(table.blockedUntil)).verdict).toBe('GRANTED');
  });

  it('a restart with records renews the holder at once and refuses the others', () => {
    const table = new LeaseTable({
      leaseMax: LEASE_MAX, startedAt: ms(0), clusters: [{ name: PAYMENTS }],
      resumed: [{ cluster: PAYMENTS, digest: DIGEST, partition: [nodeId('a')], votes: 1, grantedTo: nodeId('a'), ends: [{ node: nodeId('a'), end: ms(700) }] }],
    });
    expect(table.request(ask('b', ['b']), t(10))).toMatchObject({ verdict: 'REFUSED', refusal: 'held-by-other' });
    expect(table.request(ask('a', ['a']), t(20))).toMatchObject({ verdict: 'GRANTED', renewal: true });
    expect(table.activeLeases(t(30))).toBe(1);
  });
});

// ---------------------------------------------------------------- properties

const POOL = ['a', 'b', 'c', 'd', 'e'] as const;

/** Partitions of one cluster: several views, which may overlap (views need not be transitive). */
const partitionArb = fc.subarray([...POOL], { minLength: 1 });

type Action =
  | { kind: 'ask'; cluster: 0 | 1; partition: string[]; asker: number; votes: number; lease: number; settle: number; digest: 0 | 1; dt: number }
  | { kind: 'release'; cluster: 0 | 1; node: string; dt: number }
  | { kind: 'restart'; withRecords: boolean; dt: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 12, arbitrary: fc.record({
    kind: fc.constant('ask' as const), cluster: fc.constantFrom(0 as const, 1 as const), partition: partitionArb,
    asker: fc.nat(), votes: fc.integer({ min: 1, max: 3 }), lease: fc.integer({ min: 1, max: 4000 }),
    settle: fc.integer({ min: 1, max: 1500 }), digest: fc.constantFrom(0 as const, 0 as const, 1 as const), dt: fc.integer({ min: 0, max: 700 }),
  }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), cluster: fc.constantFrom(0 as const, 1 as const), node: fc.constantFrom(...POOL), dt: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), withRecords: fc.boolean(), dt: fc.integer({ min: 0, max: 3000 }) }) },
);

describe('lease table: properties', () => {
  it('never two partitions of one cluster with overlapping server-side intervals (gap included), across restarts', () => {
    fc.assert(fc.property(fc.array(actionArb, { minLength: 1, maxLength: 120 }), (actions) => {
      const clusters = [PAYMENTS, LEDGER];
      let now = 10_000;
      let table = new LeaseTable({ leaseMax: LEASE_MAX, startedAt: ms(now), resumed: [], clusters: clusters.map((name) => ({ name })) });
      // The model: every grant ever made, per cluster, per partition, per node: its server-side end.
      const model = clusters.map(() => new Map<string, Map<string, number>>());
      for (const a of actions) {
        now += a.dt;
        if (a.kind === 'restart') {
          // A restart keeps real time running: the old leases are still out there.
          table = new LeaseTable({
            leaseMax: LEASE_MAX, startedAt: ms(now), clusters: clusters.map((name) => ({ name })),
            ...(a.withRecords ? { resumed: table.records() } : {}),
          });
          continue;
        }
        if (a.kind === 'release') {
          const d = table.release({ cluster: clusters[a.cluster]!, node: nodeId(a.node) }, ms(now));
          if (d.event?.kind === 'released') model[a.cluster]!.get(d.event.partition.join(','))?.delete(a.node);
          continue;
        }
        const asker = a.partition[a.asker % a.partition.length]!;
        const request: LeaseAsk = {
          cluster: clusters[a.cluster]!, node: nodeId(asker), digest: a.digest ? OTHER_DIGEST : DIGEST,
          partition: a.partition.map(nodeId).sort(), votes: a.votes, totalVotes: 6, lease: ms(a.lease), settle: ms(a.settle),
        };
        const d = table.request(request, ms(now));
        if (d.verdict !== 'GRANTED') continue;
        expect(d.granted).toBeLessThanOrEqual(Math.min(a.lease, LEASE_MAX));
        const key = [...a.partition].sort().join(',');
        for (const [other, ends] of model[a.cluster]!) {
          if (other === key) continue;
          for (const end of ends.values()) expect(end + GAP, `grant to [${key}] at ${now} overlaps [${other}]`).toBeLessThanOrEqual(now);
        }
        const mine = model[a.cluster]!.get(key) ?? new Map<string, number>();
        mine.set(asker, Math.max(mine.get(asker) ?? -Infinity, now + d.granted));
        model[a.cluster]!.set(key, mine);
      }
    }), { numRuns: 400 });
  });

  it('the policy order decides among partitions heard in one window, whatever the arrival order', () => {
    const scenario = fc.record({
      order: fc.shuffledSubarray([...POOL], { minLength: POOL.length, maxLength: POOL.length }),
      cuts: fc.integer({ min: 2, max: 3 }),
      votes: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 3, maxLength: 3 }),
      lastHolder: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      prefer: fc.option(fc.constantFrom(...POOL), { nil: undefined }),
      arrivals: fc.array(fc.integer({ min: 0, max: SETTLE / 2 - 1 }), { minLength: 3, maxLength: 3 }),
      finalOrder: fc.shuffledSubarray([0, 1, 2], { minLength: 3, maxLength: 3 }),
    });
    fc.assert(fc.property(scenario, (s) => {
      // Disjoint partitions cut from the shuffled pool.
      const size = Math.ceil(s.order.length / s.cuts);
      const parts = Array.from({ length: s.cuts }, (_, i) => s.order.slice(i * size, (i + 1) * size).sort()).filter((p) => p.length > 0);
      const table = freshTable(s.prefer ? { prefer: s.prefer } : {});
      let now = 0;
      const holderIndex = s.lastHolder !== undefined && s.lastHolder < parts.length ? s.lastHolder : undefined;
      if (holderIndex !== undefined) {
        const p = parts[holderIndex]!;
        table.request(ask(p[0]!, p, s.votes[holderIndex]!), t(now));
        expect(table.request(ask(p[0]!, p, s.votes[holderIndex]!), t(now + SETTLE)).verdict).toBe('GRANTED');
        now += SETTLE + 1000 + GAP; // it lapses
      }
      // Each partition asks once at its arrival (in time order), and again before the window
      // ends, as a client re-asking every interval does.
      const heard = parts.map((_, i) => i).sort((x, y) => s.arrivals[x]! - s.arrivals[y]!);
      for (const i of heard) table.request(ask(parts[i]![0]!, parts[i]!, s.votes[i]!), t(now + s.arrivals[i]!));
      for (const i of heard) expect(table.request(ask(parts[i]![0]!, parts[i]!, s.votes[i]!), t(now + SETTLE - 1)).verdict).toBe('RETRY');
      now += SETTLE + s.arrivals[heard[0]!]!;
      const granted = s.finalOrder.filter((i) => i < parts.length).filter((i) => table.request(ask(parts[i]![0]!, parts[i]!, s.votes[i]!), t(now)).verdict === 'GRANTED');

      // The expected winner, from the rules as written in DESIGN.md.
      const rank = (i: number): (number | string)[] => [
        -s.votes[i]!, i === holderIndex ? 0 : 1, s.prefer && parts[i]!.includes(s.prefer) ? 0 : 1, parts[i]![0]!,
      ];
      const expected = parts.map((_, i) => i).sort((x, y) => {
        const a = rank(x), b = rank(y);
        for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! < b[k]! ? -1 : 1;
        return 0;
      })[0];
      expect(granted).toEqual([expected]);
    }), { numRuns: 300 });
  });

  it('a restart without records never grants before one lease.max plus the gap, and answers RETRY meanwhile', () => {
    const asks = fc.array(fc.record({ partition: partitionArb, dt: fc.integer({ min: 0, max: 400 }), votes: fc.integer({ min: 1, max: 3 }) }), { maxLength: 40 });
    fc.assert(fc.property(fc.integer({ min: 0, max: 1_000_000 }), asks, (startedAt, list) => {
      const table = new LeaseTable({ leaseMax: LEASE_MAX, startedAt: ms(startedAt), clusters: [{ name: PAYMENTS }] });
      let now = startedAt;
      for (const a of list) {
        now += a.dt;
        const d: LeaseDecision = table.request(ask(a.partition[0]!, a.partition, a.votes), ms(now));
        if (now < startedAt + LEASE_MAX + GAP) expect(d.verdict).toBe('RETRY');
      }
    }), { numRuns: 300 });
  });
});
