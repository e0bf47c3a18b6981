/**
 * Lease safety, the node's side (src/cluster/lease.ts), on simulated clocks: examples of the
 * rule, then properties — for any send time, grant length, grant delay, withdrawal time
 * within the margin, and both clocks drifting within their bounds, the node has finished
 * withdrawing before a true clock started at the send counts the lease, and strictly before
 * the server could grant the cluster to anyone else (its grant time + L + the takeover gap).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import {
  DEFAULT_LEASE_SAFETY, NODE_DRIFT_RATE, WITHDRAW_MARGIN, nodeLeaseEnd, renewalDue, sentAfterRelease, shortestUsefulLease,
} from '../src/cluster/lease.js';
import { SERVER_DRIFT_RATE, takeoverGap } from '../src/quorum-server/takeover-gap.js';

describe('lease math: examples', () => {
  it('counts from the send time, minus the drift share and the withdrawal margin', () => {
    // 4 s asked at 10 s on the node's clock: 4000·0.98 − 500 = 3420 ms of service.
    expect(nodeLeaseEnd(ms(10_000), ms(4000))).toBe(10_000 + 3420);
    expect(nodeLeaseEnd(ms(0), ms(1000), { driftRate: 0.01, margin: ms(100) })).toBe(890);
    // Never rounds up: a fraction of a millisecond early is the safe side.
    expect(nodeLeaseEnd(ms(0.5), ms(1001))).toBe(Math.floor(0.5 + 1001 * 0.98 - 500));
  });

  it('a grant shorter than the margin is of no use', () => {
    const shortest = shortestUsefulLease();
    expect(nodeLeaseEnd(ms(0), ms(shortest - 2))).toBeLessThanOrEqual(0);
    expect(nodeLeaseEnd(ms(0), ms(shortest))).toBeGreaterThanOrEqual(0);
  });

  it('renews at a third of the grant, or halfway to the end when the margin eats most of it', () => {
    expect(renewalDue(ms(0), ms(4000), nodeLeaseEnd(ms(0), ms(4000)))).toBeCloseTo(4000 / 3);
    const short = nodeLeaseEnd(ms(0), ms(700)); // 186 ms of service
    expect(renewalDue(ms(0), ms(700), short)).toBe(short / 2);
  });

  it('ignores answers to requests sent before the latest release, in the node send order', () => {
    expect(sentAfterRelease(5, undefined)).toBe(true);
    expect(sentAfterRelease(5, 4)).toBe(true);
    expect(sentAfterRelease(4, 5)).toBe(false);
  });
});

describe('lease math: properties (real time simulated, both clocks drifting within their bounds)', () => {
  /**
   * One lease in real time. The node's clock reads `sent` when the request leaves (real S) and
   * runs at `nodeRate`; the server grants at real G = S + delay on a clock running at
   * `serverRate`. Returns the real instants that matter.
   */
  function simulate(p: {
    realSend: number; nodeReadingAtSend: number; nodeRate: number; serverRate: number;
    delay: number; granted: number; leaseMax: number; withdraw: number;
  }): { nodeDone: number; trueCountEnd: number; serverCountEnd: number; serverNextGrant: number } | undefined {
    const end = nodeLeaseEnd(ms(p.nodeReadingAtSend), ms(p.granted));
    if (end <= p.nodeReadingAtSend) return undefined; // never served on
    const deadline = p.realSend + (end - p.nodeReadingAtSend) / p.nodeRate;
    const realGrant = p.realSend + p.delay;
    return {
      nodeDone: deadline + p.withdraw,
      trueCountEnd: p.realSend + p.granted,
      serverCountEnd: realGrant + p.granted / p.serverRate,
      serverNextGrant: realGrant + (p.granted + takeoverGap(ms(p.leaseMax))) / p.serverRate,
    };
  }

  const scenario = fc.record({
    realSend: fc.double({ min: 0, max: 1e9, noNaN: true }),
    nodeReadingAtSend: fc.double({ min: 0, max: 1e9, noNaN: true }),
    nodeRate: fc.double({ min: 1 - NODE_DRIFT_RATE, max: 1 + NODE_DRIFT_RATE, noNaN: true }),
    serverRate: fc.double({ min: 1 - SERVER_DRIFT_RATE, max: 1 + SERVER_DRIFT_RATE, noNaN: true }),
    delay: fc.double({ min: 0, max: 60_000, noNaN: true }),
    granted: fc.integer({ min: 1, max: 120_000 }),
    extraMax: fc.integer({ min: 0, max: 60_000 }),
    withdrawShare: fc.double({ min: 0, max: 1, noNaN: true }),
  }).map((s) => ({ ...s, leaseMax: s.granted + s.extraMax, withdraw: s.withdrawShare * WITHDRAW_MARGIN }));

  it('the node finishes withdrawing before the server could grant anyone else (grant + L + gap)', () => {
    fc.assert(fc.property(scenario, (s) => {
      const r = simulate(s);
      if (!r) return;
      expect(r.nodeDone).toBeLessThan(r.serverNextGrant);
      // With at least the server's fixed slack to spare (250 ms on its fastest clock).
      expect(r.serverNextGrant - r.nodeDone).toBeGreaterThanOrEqual(250 / (1 + SERVER_DRIFT_RATE) - 1e-6);
    }), { numRuns: 2000 });
  });

  it('on its own, the node is done before a true clock started at the send counts L', () => {
    fc.assert(fc.property(scenario, (s) => {
      const r = simulate(s);
      if (!r) return;
      expect(r.nodeDone).toBeLessThanOrEqual(r.trueCountEnd + 1e-6);
    }), { numRuns: 2000 });
  });

  it('without the takeover gap a fast server clock could end its count first: the gap is needed', () => {
    // The case the server's gap exists for: no delay, the node's clock 2 % slow and its
    // withdrawal as long as the margin, the server's clock 2 % fast, a long lease.
    const r = simulate({
      realSend: 0, nodeReadingAtSend: 0, nodeRate: 1 - NODE_DRIFT_RATE, serverRate: 1 + SERVER_DRIFT_RATE,
      delay: 0, granted: 60_000, leaseMax: 60_000, withdraw: WITHDRAW_MARGIN,
    })!;
    expect(r.serverCountEnd).toBeLessThan(r.nodeDone);
    expect(r.nodeDone).toBeLessThan(r.serverNextGrant);
  });

  it('the default safety is what the argument assumes', () => {
    expect(DEFAULT_LEASE_SAFETY).toEqual({ driftRate: NODE_DRIFT_RATE, margin: WITHDRAW_MARGIN });
    // The node's drift bound is never looser than the server's (takeover-gap.ts).
    expect(NODE_DRIFT_RATE).toBeGreaterThanOrEqual(SERVER_DRIFT_RATE);
  });
});
