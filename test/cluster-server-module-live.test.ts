/**
 * The `server` quorum module against the real quorum server (runQuorumServer on 127.0.0.1,
 * insecure credentials, a temp state file) over real gRPC, on the real monotonic clock:
 *   - a split of a two-node cluster: both partitions ask, exactly one gets HAVEQUORUM;
 *   - the holder's module stops renewing: the other gets the lease only after the first's
 *     lease must have ended (asserted from the modules' own `until` and grant instants, one
 *     process, one clock — an ordering, not a timing target);
 *   - the server stopped: the holder keeps HAVEQUORUM only until its lease end, then a tie,
 *     which as the last module of the chain is no quorum.
 * Runs everywhere (no root, no namespace: loopback only).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../src/config/server-types.js';
import { ms, type Millis } from '../src/core/duration.js';
import { clusterName, nodeId, type ClusterName } from '../src/core/ids.js';
import { QuorumServerClient } from '../src/quorum-server/client.js';
import { identityFromRequest } from '../src/quorum-server/identity.js';
import { runQuorumServer, type QuorumServerHandle } from '../src/quorum-server/run.js';
import { takeoverGap } from '../src/quorum-server/takeover-gap.js';
import { WITHDRAW_MARGIN, nodeLeaseEnd } from '../src/cluster/lease.js';
import { runQuorumChain, type ModuleVerdict } from '../src/cluster/quorum-chain.js';
import { ServerQuorumModule } from '../src/cluster/server-module.js';
import type { PartitionView } from '../src/cluster/server-module-view.js';
import { votingVerdict } from '../src/cluster/voting.js';

/** A short lease.max keeps the suite short; the module's margin (500 ms) still leaves ~1 s of service. */
const LEASE_MAX = ms(1500);
const HEARTBEAT = { interval: ms(100), deadAfter: ms(300) };
const DIGEST = Uint8Array.from([0x51, 0x0c]);
/** Liveness guard only: a wait that has not happened by then is a failure, not a measurement. */
const WAIT_LIMIT_MS = 20_000;

const dir = mkdtempSync(join(tmpdir(), 'quorate-server-module-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const servers: QuorumServerHandle[] = [];
const clients: QuorumServerClient[] = [];
const modules: ServerQuorumModule[] = [];
afterEach(async () => {
  for (const m of modules.splice(0)) m.stop();
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const quiet = pino({ level: 'silent' });
const now = (): Millis => ms(performance.now());

/** A server that has run before and holds nothing: no restart wait before its first grant. */
async function startServer(name: string): Promise<QuorumServerHandle> {
  const stateFile = join(dir, `${name}.json`);
  writeFileSync(stateFile, JSON.stringify({ format: 'quorate-quorum-server-state', version: 1, writtenAt: Date.now(), leases: [] }));
  const config: ServerConfig = { file: 'test', listen: { host: '127.0.0.1', port: 0 }, lease: { max: LEASE_MAX }, stateFile };
  const handle = await runQuorumServer(config, { credentials: grpc.ServerCredentials.createInsecure(), identify: identityFromRequest, logger: quiet });
  servers.push(handle);
  return handle;
}

/** What a module said, each time it told the agent something may have changed. */
interface Transition { at: Millis; verdict: ModuleVerdict }

interface Node {
  id: string;
  module: ServerQuorumModule;
  transitions: Transition[];
  lines: { level: number; msg: string }[];
  vote(): ModuleVerdict['vote'];
}

function startNode(server: QuorumServerHandle, cluster: ClusterName, id: string): Node {
  const client = new QuorumServerClient(server.address, grpc.credentials.createInsecure());
  clients.push(client);
  const lines: Node['lines'] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as { level: number; msg: string }); } });
  const transitions: Transition[] = [];
  const module: ServerQuorumModule = new ServerQuorumModule({
    cluster, self: nodeId(id), client, lease: LEASE_MAX, heartbeat: HEARTBEAT, logger,
    onChange: () => { const at = now(); transitions.push({ at, verdict: module.verdict(at) }); },
  });
  modules.push(module);
  // Two members of one vote each, this one seeing only itself: the tie of a cut link.
  const alone: PartitionView = { members: [{ id: nodeId(id), votes: 1 }], totalVotes: 2, membershipDigest: DIGEST };
  module.update(alone);
  return { id, module, transitions, lines, vote: () => module.verdict(now()).vote };
}

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const deadline = performance.now() + WAIT_LIMIT_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`not reached within ${WAIT_LIMIT_MS} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('server quorum module against the real quorum server (127.0.0.1)', () => {
  it('a split: exactly one partition gets HAVEQUORUM; the other only after the holder\'s lease must have ended', async () => {
    const server = await startServer('split');
    const payments = clusterName('payments');
    const ny = startNode(server, payments, 'ny-1');
    const ld = startNode(server, payments, 'ld-1');

    await waitFor('both partitions decided', () => ny.vote() !== 'QUORUMTIE' && ld.vote() !== 'QUORUMTIE');
    const holder = [ny, ld].filter((n) => n.vote() === 'HAVEQUORUM');
    expect(holder).toHaveLength(1);
    const [first, second] = ny.vote() === 'HAVEQUORUM' ? [ny, ld] : [ld, ny];
    // Equal votes, no previous holder, no preference: the lowest node id wins (the policy).
    expect(first.id).toBe('ld-1');
    expect(second.module.verdict(now())).toEqual({ vote: 'NOQUORUM', reason: 'refused by the quorum server: partition [ld-1] holds or won the lease' });

    // The holder keeps it through renewals; the other side stays refused meanwhile.
    await waitFor('two renewals', () => (first.module.status().lease?.renewals ?? 0) >= 2);
    expect(first.vote()).toBe('HAVEQUORUM');
    expect(second.vote()).toBe('NOQUORUM');
    expect(second.transitions.some((t) => t.verdict.vote === 'HAVEQUORUM')).toBe(false);

    // The holder's agent dies: its module stops renewing.
    first.module.stop();
    const firstLease = first.module.status().lease!;
    const firstUntil = firstLease.end;
    expect(firstUntil).toBe(nodeLeaseEnd(firstLease.sentAt, firstLease.granted));

    await waitFor('the other partition is granted', () => second.vote() === 'HAVEQUORUM');
    const secondLease = second.module.status().lease!;
    // Safety, from the modules' own instants (one process, one monotonic clock): the new holder
    // learned of its grant only after the old holder's end — by at least the old holder's
    // withdrawal margin plus the server's takeover gap, since the server counted the old lease
    // from its grant (after the old request was sent) and added the gap.
    expect(secondLease.receivedAt).toBeGreaterThan(firstUntil);
    expect(secondLease.receivedAt - firstUntil).toBeGreaterThanOrEqual(WITHDRAW_MARGIN + takeoverGap(LEASE_MAX));
    // No instant at which both said HAVEQUORUM: every HAVEQUORUM of the first ran to its end at
    // most, and the second's first HAVEQUORUM came after it.
    for (const t of first.transitions) if (t.verdict.vote === 'HAVEQUORUM') expect(t.verdict.until).toBeLessThanOrEqual(firstUntil);
    const secondFirstHave = second.transitions.find((t) => t.verdict.vote === 'HAVEQUORUM')!;
    expect(secondFirstHave.at).toBeGreaterThan(firstUntil);

    // What operators read: one grant line per holder, one refusal line, renewals only at debug.
    const count = (n: Node, level: number, re: RegExp): number => n.lines.filter((l) => l.level === level && re.test(l.msg)).length;
    expect(count(first, 30, /quorum lease granted/)).toBe(1);
    expect(count(first, 20, /quorum lease renewed/)).toBeGreaterThanOrEqual(2);
    expect(count(second, 30, /quorum lease refused/)).toBe(1);
    expect(count(second, 30, /quorum lease granted/)).toBe(1);
  });

  it('the server stopped: the holder keeps HAVEQUORUM only until its lease end, then a tie (no quorum as the last module)', async () => {
    const server = await startServer('stopped');
    const ny = startNode(server, clusterName('ledger'), 'ny-1');
    await waitFor('granted', () => ny.vote() === 'HAVEQUORUM');
    await waitFor('a renewal', () => (ny.module.status().lease?.renewals ?? 0) >= 1);

    const granted = ny.transitions.findIndex((t) => t.verdict.vote === 'HAVEQUORUM');
    const afterGrant = (): Transition[] => ny.transitions.slice(granted);
    await server.stop();
    servers.splice(servers.indexOf(server), 1);
    const stoppedAt = now();
    // The module tells the agent (onChange) when the lease ends; wait for that, not for the clock.
    await waitFor('the agent is told the lease ended', () => afterGrant().some((t) => t.verdict.vote !== 'HAVEQUORUM'));

    const status = ny.module.status();
    expect(status.phase).toBe('expired');
    expect(status.lastAnswer?.verdict).toBe('UNREACHABLE');
    const lease = status.lease!;
    // The end is the one the last grant gave, counted from that request's send, which the
    // stopped server answered before it stopped.
    expect(lease.receivedAt).toBeLessThan(stoppedAt);
    expect(lease.end).toBe(nodeLeaseEnd(lease.sentAt, lease.granted));
    expect(ny.module.verdict(ms(lease.end - 1))).toMatchObject({ vote: 'HAVEQUORUM', until: lease.end });
    const after = ny.module.verdict(lease.end);
    expect(after).toMatchObject({ vote: 'QUORUMTIE', reason: 'the lease ended without a renewal' });
    // It said HAVEQUORUM up to the end and not after; the agent was told at the end.
    for (const t of ny.transitions) if (t.verdict.vote === 'HAVEQUORUM') expect(t.verdict.until).toBeLessThanOrEqual(lease.end);
    const told = afterGrant().find((t) => t.verdict.vote !== 'HAVEQUORUM')!;
    expect(told.verdict.vote).toBe('QUORUMTIE');
    expect(told.at).toBeGreaterThanOrEqual(lease.end);
    expect(ny.lines.filter((l) => l.level === 40 && /expired without renewal/.test(l.msg))).toHaveLength(1);

    const chain = runQuorumChain([
      { name: 'voting', verdict: votingVerdict({ self: { id: nodeId('ny-1'), votes: 1 }, members: [{ id: nodeId('ld-1'), votes: 1 }], seen: new Set() }) },
      { name: 'server', verdict: ny.module.verdict(now()) },
    ]);
    expect(chain).toMatchObject({ quorate: false, reason: expect.stringMatching(/^server: .*a tie from the last module is no quorum/) });
  });
});
