/**
 * The `server` quorum module on a fake clock against a fake quorum server client (a unit test
 * of one module; the real server is in cluster-server-module-live.test.ts): when it asks,
 * what it says for each answer, renewals, expiry, partition changes, releases, out-of-order
 * answers, the log lines, and that stop() leaves no timer.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ms, type Millis } from '../src/core/duration.js';
import { clusterName, nodeId } from '../src/core/ids.js';
import { ManualClock } from '../src/health/manual-clock.js';
import type { LeaseOutcome, LeaseRequestInput, ReleaseOutcome } from '../src/quorum-server/client.js';
import { nodeLeaseEnd } from '../src/cluster/lease.js';
import { runQuorumChain } from '../src/cluster/quorum-chain.js';
import { ServerQuorumModule, type LeaseClient } from '../src/cluster/server-module.js';
import type { ModuleClock } from '../src/cluster/server-module-clock.js';
import { partitionStanding, partitionViewOf, type PartitionView } from '../src/cluster/server-module-view.js';
import { votingVerdict } from '../src/cluster/voting.js';

const INTERVAL = ms(200);
const DEAD_AFTER = ms(1000);
const SETTLE = INTERVAL + DEAD_AFTER;
const LEASE = ms(4000);
const DIGEST = Uint8Array.from([0xab, 0xcd]);

type Answer =
  | { verdict: 'GRANTED'; granted: number; holder?: string[] }
  | { verdict: 'REFUSED'; holder: string[]; reason?: string }
  | { verdict: 'RETRY'; retryAfter: number }
  | { verdict: 'UNREACHABLE' };

/** Answers at once with `answer`, or holds the request until the test settles it. */
class FakeQuorumServer implements LeaseClient {
  readonly requests: { input: LeaseRequestInput; sentAt: Millis; timeout: Millis }[] = [];
  readonly releases: Millis[] = [];
  answer: Answer | 'hold' = { verdict: 'RETRY', retryAfter: 5000 };
  private held: { sentAt: Millis; requestId: string; input: LeaseRequestInput; resolve: (o: LeaseOutcome) => void }[] = [];

  constructor(private readonly clock: ModuleClock) {}

  requestLease(input: LeaseRequestInput, timeout: Millis): Promise<LeaseOutcome> {
    const sentAt = this.clock.now();
    const requestId = `r${this.requests.length}`;
    this.requests.push({ input, sentAt, timeout });
    if (this.answer === 'hold') return new Promise((resolve) => this.held.push({ sentAt, requestId, input, resolve }));
    return Promise.resolve(outcome(this.answer, sentAt, requestId, input));
  }

  /** Answers the oldest held request. */
  settle(answer: Answer): void {
    const h = this.held.shift();
    if (!h) throw new Error('no request is held');
    h.resolve(outcome(answer, h.sentAt, h.requestId, h.input));
  }

  release(): Promise<ReleaseOutcome> {
    this.releases.push(this.clock.now());
    return Promise.resolve({ released: true, reason: 'released' });
  }
}

function outcome(a: Answer, sentAt: Millis, requestId: string, input: LeaseRequestInput): LeaseOutcome {
  switch (a.verdict) {
    case 'GRANTED':
      return { verdict: 'GRANTED', granted: ms(a.granted), sentAt, requestId, holderPartition: (a.holder ?? input.partition).map(nodeId), reason: 'test grant' };
    case 'REFUSED':
      return { verdict: 'REFUSED', sentAt, requestId, holderPartition: a.holder.map(nodeId), reason: a.reason ?? `partition [${a.holder}] holds the lease` };
    case 'RETRY':
      return { verdict: 'RETRY', sentAt, requestId, retryAfter: ms(a.retryAfter), holderPartition: [], reason: 'settling' };
    case 'UNREACHABLE':
      return { verdict: 'UNREACHABLE', sentAt, requestId, reason: 'UNAVAILABLE: connection refused' };
  }
}

interface LogLine { level: number; msg: string }
const INFO = 30;
const WARN = 40;
const DEBUG = 20;

/** `timersEarlyBy`: timers fire this much before they are due (as the event loop's ms clock can). */
function setup(opts: { timersEarlyBy?: number } = {}) {
  const manual = new ManualClock(0);
  const early = opts.timersEarlyBy ?? 0;
  const clock: ModuleClock = { now: () => ms(manual.now()), schedule: (delay, fn) => manual.schedule(Math.max(0, delay - early), fn) };
  const server = new FakeQuorumServer(clock);
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as LogLine); } });
  let changes = 0;
  const module = new ServerQuorumModule({
    cluster: clusterName('payments'), self: nodeId('ny-1'), client: server, lease: LEASE,
    heartbeat: { interval: INTERVAL, deadAfter: DEAD_AFTER }, logger, clock, onChange: () => { changes++; },
  });
  return {
    manual, clock, server, lines, module,
    changes: () => changes,
    now: () => clock.now(),
    advance: (n: number) => manual.advance(n),
    logged: (level: number, re: RegExp) => lines.filter((l) => l.level === level && re.test(l.msg)).length,
  };
}

function view(members: [string, number][], total: number, digest = DIGEST): PartitionView {
  return { members: members.map(([id, votes]) => ({ id: nodeId(id), votes })), totalVotes: total, membershipDigest: digest };
}

/** Two nodes, one vote each, this one alone: the tie. */
const ALONE = view([['ny-1', 1]], 2);
const BOTH = view([['ny-1', 1], ['ld-1', 1]], 2);

describe('partition view', () => {
  it('is built from what the voting module sees, and knows a tie', () => {
    const self = { id: nodeId('ny-1'), votes: 1 };
    const peers = [{ id: nodeId('ld-1'), votes: 1 }, { id: nodeId('fra-1'), votes: 2 }];
    const v = partitionViewOf(self, peers, new Set([nodeId('fra-1')]), DIGEST);
    expect(v).toEqual({ members: [self, { id: 'fra-1', votes: 2 }], totalVotes: 4, membershipDigest: DIGEST });
    expect(partitionStanding(v)).toBe('majority');
    expect(partitionStanding(partitionViewOf(self, peers, new Set([nodeId('ld-1')]), DIGEST))).toBe('tie');
    expect(partitionStanding(partitionViewOf(self, peers, new Set(), DIGEST))).toBe('minority');
  });
});

describe('server quorum module (fake clock, fake client)', () => {
  it('outside a tie it asks nothing and passes on (a tie), with no timer left', async () => {
    const t = setup();
    t.module.update(BOTH);
    expect(t.module.verdict(t.now())).toMatchObject({ vote: 'QUORUMTIE', reason: expect.stringMatching(/not a tie \(2 of 2 votes\)/) });
    t.module.update(view([['ny-1', 1]], 3));
    expect(t.module.verdict(t.now())).toMatchObject({ vote: 'QUORUMTIE', reason: expect.stringMatching(/1 of 3/) });
    await t.advance(5000);
    expect(t.server.requests).toHaveLength(0);
    expect(t.manual.pending).toBe(0);
  });

  it('in a tie it asks at once, says tie while undecided, and re-asks every interval (inside the settle window)', async () => {
    const t = setup();
    t.module.update(ALONE);
    expect(t.server.requests).toHaveLength(1);
    expect(t.server.requests[0]!.input).toMatchObject({
      cluster: 'payments', node: 'ny-1', partition: ['ny-1'], partitionVotes: 1, totalVotes: 2, lease: LEASE, settle: SETTLE,
    });
    expect(t.server.requests[0]!.timeout).toBe(INTERVAL);
    await t.advance(0);
    expect(t.module.verdict(t.now())).toMatchObject({ vote: 'QUORUMTIE', reason: expect.stringMatching(/not decided/) });
    await t.advance(3000);
    const sends = t.server.requests.map((r) => r.sentAt);
    expect(sends.length).toBeGreaterThanOrEqual(3000 / INTERVAL);
    for (let i = 1; i < sends.length; i++) {
      expect(sends[i]! - sends[i - 1]!).toBeLessThanOrEqual(INTERVAL);
      expect(sends[i]! - sends[i - 1]!).toBeLessThan(SETTLE);
    }
    // One line for "asking", one for "not decided", not one per request.
    expect(t.logged(INFO, /not decided/)).toBe(1);
  });

  it('a grant: HAVEQUORUM until sentAt + L·(1−ρ) − m; renewed at a third of the lease, logged once', async () => {
    const t = setup();
    t.server.answer = { verdict: 'GRANTED', granted: LEASE };
    t.module.update(ALONE);
    await t.advance(0);
    const first = t.server.requests[0]!;
    expect(t.module.verdict(t.now())).toEqual({ vote: 'HAVEQUORUM', until: nodeLeaseEnd(first.sentAt, LEASE), reason: expect.any(String) });
    expect(nodeLeaseEnd(first.sentAt, LEASE)).toBe(first.sentAt + 3420);

    await t.advance(LEASE / 3 - 1);
    expect(t.server.requests).toHaveLength(1);
    await t.advance(1);
    expect(t.server.requests).toHaveLength(2);
    const renewed = t.module.verdict(t.now());
    expect(renewed).toMatchObject({ vote: 'HAVEQUORUM', until: nodeLeaseEnd(t.server.requests[1]!.sentAt, LEASE) });
    await t.advance(10 * LEASE);
    expect(t.module.verdict(t.now()).vote).toBe('HAVEQUORUM');
    expect(t.logged(INFO, /quorum lease granted/)).toBe(1);
    expect(t.logged(DEBUG, /quorum lease renewed/)).toBeGreaterThanOrEqual(20);
    expect(t.module.status(t.now())).toMatchObject({ phase: 'holding', partition: ['ny-1'], lease: { granted: LEASE }, settle: SETTLE });
  });

  it('the server gone: the lease counts until its end, then a tie (no quorum as the last module); retried every interval', async () => {
    const t = setup();
    t.server.answer = { verdict: 'GRANTED', granted: LEASE };
    t.module.update(ALONE);
    await t.advance(0);
    t.server.answer = { verdict: 'UNREACHABLE' };
    const end = nodeLeaseEnd(t.server.requests[0]!.sentAt, LEASE);
    const changesBefore = t.changes();

    await t.advance(end - t.now() - 1);
    expect(t.module.verdict(t.now())).toMatchObject({ vote: 'HAVEQUORUM', until: end });
    expect(t.logged(WARN, /renewal failed/)).toBe(1);
    await t.advance(1);
    const verdict = t.module.verdict(t.now());
    expect(verdict).toMatchObject({ vote: 'QUORUMTIE', reason: expect.stringMatching(/ended without a renewal/) });
    expect(t.changes()).toBeGreaterThan(changesBefore); // the agent learns at the end, not at its next heartbeat
    expect(t.logged(WARN, /expired without renewal/)).toBe(1);
    const chain = runQuorumChain([
      { name: 'voting', verdict: votingVerdict({ self: { id: nodeId('ny-1'), votes: 1 }, members: [{ id: nodeId('ld-1'), votes: 1 }], seen: new Set() }) },
      { name: 'server', verdict },
    ]);
    expect(chain.quorate).toBe(false);

    // Retries were one interval apart from the first failed renewal on.
    const failed = t.server.requests.slice(1).map((r) => r.sentAt);
    for (let i = 1; i < failed.length; i++) expect(failed[i]! - failed[i - 1]!).toBeCloseTo(INTERVAL);

    // The server comes back: granted again (a fresh lease, logged as a grant).
    t.server.answer = { verdict: 'GRANTED', granted: LEASE };
    await t.advance(INTERVAL);
    expect(t.module.verdict(t.now()).vote).toBe('HAVEQUORUM');
    expect(t.logged(INFO, /quorum lease granted/)).toBe(2);
  });

  it('an expiry timer that fires a little early still tells the agent, at the end and not before', async () => {
    const t = setup({ timersEarlyBy: 0.5 });
    t.server.answer = { verdict: 'GRANTED', granted: LEASE };
    t.module.update(ALONE);
    await t.advance(0);
    t.server.answer = { verdict: 'UNREACHABLE' };
    const end = nodeLeaseEnd(t.server.requests[0]!.sentAt, LEASE);
    await t.advance(end - 0.25);
    expect(t.logged(WARN, /expired/)).toBe(0);
    const changes = t.changes();
    await t.advance(1);
    expect(t.logged(WARN, /expired without renewal/)).toBe(1);
    expect(t.changes()).toBe(changes + 1);
  });

  it('refused: NOQUORUM with the holder; a refusal while holding drops the lease at once', async () => {
    const t = setup();
    t.server.answer = { verdict: 'REFUSED', holder: ['ld-1'] };
    t.module.update(ALONE);
    await t.advance(1000);
    expect(t.module.verdict(t.now())).toEqual({ vote: 'NOQUORUM', reason: 'refused by the quorum server: partition [ld-1] holds or won the lease' });
    expect(t.logged(INFO, /quorum lease refused/)).toBe(1);

    t.server.answer = { verdict: 'GRANTED', granted: LEASE };
    await t.advance(INTERVAL);
    expect(t.module.verdict(t.now()).vote).toBe('HAVEQUORUM');
    t.server.answer = { verdict: 'REFUSED', holder: ['ld-1'], reason: 'membership digest differs' };
    await t.advance(LEASE / 3);
    expect(t.module.verdict(t.now()).vote).toBe('NOQUORUM');
    expect(t.logged(WARN, /quorum lease lost: refused by the quorum server: membership digest differs/)).toBe(1);
  });

  it('RETRY while holding (a restarted server) keeps the lease until its end', async () => {
    const t = setup();
    t.server.answer = { verdict: 'GRANTED', granted: LEASE };
    t.module.update(ALONE);
    await t.advance(0);
    const end = nodeLeaseEnd(t.server.requests[0]!.sentAt, LEASE);
    t.server.answer = { verdict: 'RETRY', retryAfter: 12_000 };
    await t.advance(end - 1);
    expect(t.module.verdict(t.now())).toMatchObject({ vote: 'HAVEQUORUM', until: end });
    await t.advance(1);
    expect(t.module.verdict(t.now()).vote).toBe('QUORUMTIE');
  });

  it('a new partition: the old lease no longer counts, it asks again at once, and a late answer for the old one is ignored', async () => {
    const t = setup();
    t.server.answer = { verdict: 'GRANTED', granted: LEASE };
    const ab = view([['ny-1', 1], ['ld-1', 1]], 4);
    const ac = view([['ny-1', 1], ['fra-1', 1]], 4);
    t.module.update(ab);
    await t.advance(0);
    expect(t.module.verdict(t.now()).vote).toBe('HAVEQUORUM');

    t.server.answer = 'hold';
    t.module.update(ac);
    expect(t.module.verdict(t.now()).vote).toBe('QUORUMTIE');
    expect(t.logged(WARN, /lease lost: the partition changed/)).toBe(1);
    expect(t.server.requests.at(-1)!.input.partition).toEqual(['fra-1', 'ny-1']);

    // A request for [ld-1, ny-1] still in flight when the view changes again: its grant is not for us.
    t.module.update(ab);
    await t.advance(0);
    t.server.settle({ verdict: 'GRANTED', granted: LEASE, holder: ['fra-1', 'ny-1'] }); // answers the [fra-1, ny-1] request
    await t.advance(0);
    expect(t.module.verdict(t.now()).vote).toBe('QUORUMTIE');
    // It asked again for the current partition as soon as the stale answer came back.
    expect(t.server.requests.at(-1)!.input.partition).toEqual(['ld-1', 'ny-1']);
    t.server.settle({ verdict: 'GRANTED', granted: LEASE });
    await t.advance(0);
    expect(t.module.verdict(t.now()).vote).toBe('HAVEQUORUM');

    // The same partition again (as every heartbeat reports it) changes nothing.
    const asked = t.server.requests.length;
    t.module.update(view([['ld-1', 1], ['ny-1', 1]], 4));
    expect(t.server.requests).toHaveLength(asked);
    expect(t.module.verdict(t.now()).vote).toBe('HAVEQUORUM');
    // Another digest is another membership: ask again.
    t.module.update(view([['ld-1', 1], ['ny-1', 1]], 4, Uint8Array.from([1])));
    expect(t.module.verdict(t.now()).vote).toBe('QUORUMTIE');
  });

  it('regaining a majority releases the lease; a grant answering a request sent before the release is ignored', async () => {
    const t = setup();
    t.server.answer = 'hold';
    t.module.update(ALONE);
    await t.advance(50);
    t.module.update(BOTH);
    await t.advance(0);
    expect(t.server.releases).toEqual([50]);
    expect(t.module.verdict(t.now())).toMatchObject({ vote: 'QUORUMTIE', reason: expect.stringMatching(/not a tie \(2 of 2 votes\)/) });
    t.server.settle({ verdict: 'GRANTED', granted: LEASE });
    await t.advance(0);
    t.module.update(ALONE); // back to a tie: the stale grant must not count
    expect(t.module.verdict(t.now()).vote).toBe('QUORUMTIE');
    t.server.settle({ verdict: 'GRANTED', granted: LEASE });
    await t.advance(0);
    expect(t.module.verdict(t.now()).vote).toBe('HAVEQUORUM');
  });

  it('release() during a tie: the lease stops counting at once, and an in-flight grant sent before it is ignored', async () => {
    const t = setup();
    t.server.answer = { verdict: 'GRANTED', granted: LEASE };
    t.module.update(ALONE);
    await t.advance(0);
    t.server.answer = 'hold';
    await t.advance(LEASE / 3); // the renewal is in flight
    const changes = t.changes();
    await t.module.release();
    expect(t.module.verdict(t.now()).vote).toBe('QUORUMTIE');
    expect(t.changes()).toBe(changes + 1);
    expect(t.server.releases).toHaveLength(1);
    expect(t.logged(INFO, /quorum lease released/)).toBe(1);
    t.server.settle({ verdict: 'GRANTED', granted: LEASE });
    await t.advance(0);
    expect(t.module.verdict(t.now()).vote).toBe('QUORUMTIE');
    // It asked again at once; that request was sent after the release and counts.
    t.server.settle({ verdict: 'GRANTED', granted: LEASE });
    await t.advance(0);
    expect(t.module.verdict(t.now()).vote).toBe('HAVEQUORUM');
  });

  it('a grant too short to outlast the margin is not used', async () => {
    const t = setup();
    t.server.answer = { verdict: 'GRANTED', granted: 400 };
    t.module.update(ALONE);
    await t.advance(1000);
    expect(t.module.verdict(t.now())).toMatchObject({ vote: 'QUORUMTIE', reason: expect.stringMatching(/shorter than the safety margin/) });
    expect(t.logged(WARN, /too short/)).toBe(1);
  });

  it('stop() leaves no timer and ignores what comes back later; the lease still ends when it ends', async () => {
    const t = setup();
    t.server.answer = { verdict: 'GRANTED', granted: LEASE };
    t.module.update(ALONE);
    await t.advance(0);
    const end = nodeLeaseEnd(t.server.requests[0]!.sentAt, LEASE);
    t.server.answer = 'hold';
    await t.advance(LEASE / 3);
    expect(t.manual.pending).toBeGreaterThan(0); // the expiry
    t.module.stop();
    expect(t.manual.pending).toBe(0);
    const changes = t.changes();
    t.server.settle({ verdict: 'GRANTED', granted: LEASE });
    await t.advance(0);
    expect(t.manual.pending).toBe(0);
    expect(t.changes()).toBe(changes);
    expect(t.module.verdict(t.now())).toMatchObject({ vote: 'HAVEQUORUM', until: end });
    expect(t.module.verdict(ms(end)).vote).toBe('QUORUMTIE');
    t.module.update(view([['ny-1', 1], ['ld-1', 1]], 4));
    expect(t.server.requests.length).toBe(2);
  });
});
