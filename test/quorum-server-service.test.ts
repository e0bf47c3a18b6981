/**
 * The quorum server over real gRPC on 127.0.0.1 (insecure credentials; TLS is tested with
 * src/tls): several clusters, a split where both partitions ask at once, restarts with and
 * without the state file, a release, and garbage that is refused and counted while the server
 * keeps serving.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../src/config/server-types.js';
import { ms } from '../src/core/duration.js';
import { clusterName, nodeId } from '../src/core/ids.js';
import { QuorumServerClient, type LeaseOutcome, type LeaseRequestInput } from '../src/quorum-server/client.js';
import { identityFromRequest, type IdentifyCaller } from '../src/quorum-server/identity.js';
import { quorumProto } from '../src/quorum-server/quorum-proto.js';
import { runQuorumServer, type QuorumServerHandle } from '../src/quorum-server/run.js';
import { takeoverGap } from '../src/quorum-server/takeover-gap.js';
import { startQuorumServer } from '../src/quorum-server/command.js';
import type { QuorumServerStatusReport } from '../src/quorum-server/status.js';
import { createServer, type AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { quorateBin } from '../lab/agent-lab.js';

const LEASE_MAX = ms(2000);
const SETTLE = ms(300);
/** Clients re-ask this often (a heartbeat interval); shorter than the settle window. */
const ASK_EVERY_MS = 100;
const DIGEST = Uint8Array.from([0xab, 0xcd]);

const dir = mkdtempSync(join(tmpdir(), 'quorate-qs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const running: QuorumServerHandle[] = [];
const clients: QuorumServerClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

/** Log lines as objects, to check what operators would read. */
function capturedLogger(): { logger: pino.Logger; lines: { level: number; msg: string; [k: string]: unknown }[] } {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line)); } });
  return { logger, lines };
}

/** In tests, a call may carry `x-test-node`: it stands for the node a TLS certificate would bind. */
const identifyByHeader: IdentifyCaller = (call) => {
  const node = call.metadata.get('x-test-node')[0];
  return typeof node === 'string' ? { cluster: call.request.cluster, node } : identityFromRequest(call);
};

function config(stateFile: string): ServerConfig {
  return {
    file: 'test', listen: { host: '127.0.0.1', port: 0 }, lease: { max: LEASE_MAX },
    clusters: [{ name: clusterName('payments'), prefer: nodeId('ny-1') }, { name: clusterName('ledger') }],
    stateFile,
  };
}

/** A state file with no leases: a server that has run before and holds nothing (no restart wait). */
function emptyStateFile(name: string): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ format: 'quorate-quorum-server-state', version: 1, writtenAt: Date.now(), leases: [] }));
  return file;
}

async function start(stateFile: string, logger = capturedLogger().logger): Promise<QuorumServerHandle> {
  const handle = await runQuorumServer(config(stateFile), { credentials: grpc.ServerCredentials.createInsecure(), identify: identifyByHeader, logger });
  running.push(handle);
  return handle;
}

function client(handle: QuorumServerHandle): QuorumServerClient {
  const c = new QuorumServerClient(handle.address, grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}

function lease(cluster: string, node: string, partition: string[], extra: Partial<LeaseRequestInput> = {}): LeaseRequestInput {
  return {
    cluster: clusterName(cluster), node: nodeId(node), membershipDigest: DIGEST, partition: partition.map(nodeId),
    partitionVotes: partition.length, totalVotes: 2, lease: ms(1500), settle: SETTLE, ...extra,
  };
}

const sleep = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n));

/** Asks every interval, as an agent does, until the answer is not RETRY (at most `tries` times). */
async function askUntilDecided(c: QuorumServerClient, input: LeaseRequestInput, tries = 40): Promise<{ outcome: LeaseOutcome; retries: LeaseOutcome[] }> {
  const retries: LeaseOutcome[] = [];
  for (let i = 0; i < tries; i++) {
    const outcome = await c.requestLease(input, ms(2000));
    if (outcome.verdict !== 'RETRY') return { outcome, retries };
    retries.push(outcome);
    await sleep(ASK_EVERY_MS);
  }
  throw new Error(`still RETRY after ${tries} requests: ${retries.at(-1)?.reason}`);
}

async function metric(handle: QuorumServerHandle, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await handle.metrics.registry.getSingleMetric(name)?.get();
  const value = m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return value?.value ?? 0;
}

describe('quorum server over gRPC (127.0.0.1, insecure)', () => {
  it('a split: both partitions ask at once, exactly one is granted after the settle window; clusters are independent', async () => {
    const { logger, lines } = capturedLogger();
    const server = await start(emptyStateFile('split.json'), logger);
    const ny = client(server);
    const ld = client(server);
    const ledger = client(server);

    const [nyResult, ldResult, ledgerResult] = await Promise.all([
      askUntilDecided(ny, lease('payments', 'ny-1', ['ny-1'])),
      askUntilDecided(ld, lease('payments', 'ld-1', ['ld-1'])),
      askUntilDecided(ledger, lease('ledger', 'fra-1', ['fra-1'])),
    ]);
    // Nobody is granted on first come: each first answer is RETRY (the settle window).
    for (const r of [nyResult, ldResult, ledgerResult]) expect(r.retries.length).toBeGreaterThan(0);
    // Equal votes, no holder before: the configured preference (ny-1) wins.
    expect(nyResult.outcome).toMatchObject({ verdict: 'GRANTED', granted: 1500, holderPartition: ['ny-1'] });
    expect(ldResult.outcome).toMatchObject({ verdict: 'REFUSED', holderPartition: ['ny-1'] });
    expect(ledgerResult.outcome).toMatchObject({ verdict: 'GRANTED', holderPartition: ['fra-1'] });

    // A longer lease is capped; the loser stays refused while the lease runs.
    expect(await ny.requestLease(lease('payments', 'ny-1', ['ny-1'], { lease: ms(60_000) }), ms(2000))).toMatchObject({ verdict: 'GRANTED', granted: LEASE_MAX });
    expect(await ld.requestLease(lease('payments', 'ld-1', ['ld-1']), ms(2000))).toMatchObject({ verdict: 'REFUSED' });
    expect(await ny.requestLease(lease('unserved', 'x-1', ['x-1']), ms(2000))).toMatchObject({ verdict: 'REFUSED', reason: expect.stringMatching(/not served/) });

    // The grants are on disk before they were answered.
    const state = JSON.parse(readFileSync(join(dir, 'split.json'), 'utf8')) as { leases: { cluster: string; partition: string[] }[] };
    expect(state.leases.map((l) => `${l.cluster}:${l.partition}`).sort()).toEqual(['ledger:fra-1', 'payments:ny-1']);
    expect(await metric(server, 'quorate_quorum_server_grants_total', { kind: 'new' })).toBe(2);
    expect(await metric(server, 'quorate_quorum_server_grants_total', { kind: 'renewal' })).toBe(1);
    expect(await metric(server, 'quorate_quorum_server_refusals_total', { reason: 'unknown-cluster' })).toBe(1);
    // One line per state change: a grant each, not one per renewal.
    expect(lines.filter((l) => /granted to partition/.test(l.msg))).toHaveLength(2);
  });

  it('a restart with the state file resumes the lease at once; a release hands it over without waiting the lease out', async () => {
    const stateFile = emptyStateFile('resume.json');
    const first = await start(stateFile);
    const ny = client(first);
    await Promise.all([
      askUntilDecided(ny, lease('payments', 'ny-1', ['ny-1'])),
      askUntilDecided(client(first), lease('payments', 'ld-1', ['ld-1'])),
    ]);
    expect(await ny.requestLease(lease('payments', 'ny-1', ['ny-1']), ms(2000))).toMatchObject({ verdict: 'GRANTED' });
    await first.stop();

    const second = await start(stateFile);
    const ny2 = client(second);
    const ld2 = client(second);
    // The holder renews on its first request: no settle window, no restart wait.
    expect(await ny2.requestLease(lease('payments', 'ny-1', ['ny-1']), ms(2000))).toMatchObject({ verdict: 'GRANTED' });
    expect(await ld2.requestLease(lease('payments', 'ld-1', ['ld-1']), ms(2000))).toMatchObject({ verdict: 'REFUSED', holderPartition: ['ny-1'] });

    // The holder has stopped serving and says so: the other side is granted after its window only.
    expect(await ld2.release({ cluster: clusterName('payments'), node: nodeId('ld-1') }, ms(2000))).toMatchObject({ released: false });
    expect(await ny2.release({ cluster: clusterName('payments'), node: nodeId('ny-1') }, ms(2000))).toMatchObject({ released: true });
    const { outcome } = await askUntilDecided(ld2, lease('payments', 'ld-1', ['ld-1']));
    expect(outcome).toMatchObject({ verdict: 'GRANTED', holderPartition: ['ld-1'] });
  });

  it('renewals the state file already covers are answered without a write; recorded ends are never earlier than the real ones', async () => {
    const stateFile = emptyStateFile('covered.json');
    const server = await start(stateFile);
    const ny = client(server);
    await Promise.all([askUntilDecided(ny, lease('payments', 'ny-1', ['ny-1'])), askUntilDecided(client(server), lease('payments', 'ld-1', ['ld-1']))]);
    const writes = await metric(server, 'quorate_quorum_server_state_writes_total', { result: 'ok' });
    for (let i = 0; i < 3; i++) {
      expect(await ny.requestLease(lease('payments', 'ny-1', ['ny-1']), ms(2000))).toMatchObject({ verdict: 'GRANTED', granted: 1500 });
    }
    const renewedAt = Date.now();
    expect(await metric(server, 'quorate_quorum_server_state_writes_total', { result: 'ok' })).toBe(writes);
    expect(await metric(server, 'quorate_quorum_server_state_writes_total', { result: 'covered' })).toBe(3);
    // The file still promises at least the renewed lease's end (a restart waits longer, never less).
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { leases: { ends: { node: string; endWall: number }[] }[] };
    const end = state.leases[0]!.ends.find((e) => e.node === 'ny-1')!.endWall;
    expect(end).toBeGreaterThanOrEqual(renewedAt + 1500);
  });

  it('keeps the state file ahead of renewals in the background, and never records an end earlier than a granted one', async () => {
    const stateFile = emptyStateFile('ahead.json');
    const server = await start(stateFile);
    const ny = client(server);
    await Promise.all([askUntilDecided(ny, lease('payments', 'ny-1', ['ny-1'])), askUntilDecided(client(server), lease('payments', 'ld-1', ['ld-1']))]);
    // Renew for well over one lease.max: without background writes the file would run out.
    const until = performance.now() + 2.5 * LEASE_MAX;
    let lastGrantEnd = 0;
    while (performance.now() < until) {
      const sent = Date.now();
      expect(await ny.requestLease(lease('payments', 'ny-1', ['ny-1']), ms(2000))).toMatchObject({ verdict: 'GRANTED' });
      lastGrantEnd = sent + 1500;
      const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { leases: { ends: { node: string; endWall: number }[] }[] };
      // Answered only once on disk: the file covers every granted end, at every moment.
      expect(state.leases[0]!.ends.find((e) => e.node === 'ny-1')!.endWall).toBeGreaterThanOrEqual(lastGrantEnd);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await metric(server, 'quorate_quorum_server_state_writes_total', { result: 'ahead' })).toBeGreaterThan(0);
  });

  it('a restart without the state file answers RETRY for one lease.max plus the gap before its first grant', async () => {
    const stateFile = join(dir, 'absent.json');
    const { logger, lines } = capturedLogger();
    const startedBefore = performance.now();
    const server = await start(stateFile, logger);
    const c = client(server);
    const { outcome, retries } = await askUntilDecided(c, lease('payments', 'ld-1', ['ld-1']), 60);
    const grantedAfter = performance.now() - startedBefore;
    expect(outcome.verdict).toBe('GRANTED');
    expect(retries[0]?.reason).toMatch(/restarted without its records/);
    // A safety bound, not a timing target: the grant can only come later than this.
    expect(grantedAfter).toBeGreaterThanOrEqual(LEASE_MAX + takeoverGap(LEASE_MAX));
    expect(lines.some((l) => /no usable state file/.test(l.msg))).toBe(true);
    expect(await metric(server, 'quorate_quorum_server_retries_total', { reason: 'starting' })).toBeGreaterThan(0);
  });

  it('garbage is refused and counted, and the server keeps serving', async () => {
    const { logger, lines } = capturedLogger();
    const server = await start(emptyStateFile('garbage.json'), logger);
    const c = client(server);
    const raw = new (quorumProto().QuorumServer)(server.address, grpc.credentials.createInsecure());
    const sendRaw = (message: object): Promise<{ verdict: string; reason: string }> => new Promise((resolve, reject) => {
      raw.RequestLease(message, (err, answer) => (err || !answer ? reject(err) : resolve(answer)));
    });
    try {
      const rawBad: [object, RegExp][] = [
        [{}, /protocol_version is missing/],
        [{ protocol_version: 1 }, /cluster/],
      ];
      const typedBad: [LeaseRequestInput, RegExp][] = [
        [lease('payments', 'ny-1', ['ny-1'], { lease: ms(0) }), /lease_ms 0/],
        [lease('payments', 'ny-1', ['ny-1'], { lease: ms(4_000_000_000) }), /lease_ms/],
        [lease('payments', 'ny-1', ['ny-1'], { settle: ms(0) }), /settle_ms 0/],
        [lease('payments', 'ny-1', ['ny-1'], { settle: ms(3_600_000) }), /settle_ms/],
        [lease('payments', 'ny-1', ['ld-1']), /does not include the requesting node/],
        [lease('payments', 'ny-1', ['ny-1'], { partitionVotes: 3, totalVotes: 2 }), /exceeds total_votes/],
        [lease('payments', 'ny-1', ['ny-1'], { membershipDigest: new Uint8Array(0) }), /membership_digest is missing/],
        [lease('payments', 'ny 1', ['ny 1']), /not a node id/],
      ];
      for (const [message, reason] of rawBad) expect(await sendRaw(message), String(reason)).toMatchObject({ verdict: 'REFUSED', reason: expect.stringMatching(reason) });
      for (const [message, reason] of typedBad) {
        expect(await c.requestLease(message, ms(2000)), String(reason)).toMatchObject({ verdict: 'REFUSED', reason: expect.stringMatching(reason) });
      }
      const bad = [...rawBad, ...typedBad];
      expect(await metric(server, 'quorate_quorum_server_refusals_total', { reason: 'bad-request' })).toBe(bad.length);

      // Bytes that do not decode: gRPC rejects them before any handler; they are counted.
      const undecodable = await new Promise<grpc.ServiceError | null>((resolve) => {
        raw.makeUnaryRequest('/quorate.v1.QuorumServer/RequestLease', (b: Buffer) => b, (b: Buffer) => b,
          Buffer.from([0x0f, 0xff, 0xff]), (err) => resolve(err));
      });
      expect(undecodable?.code).toBe(grpc.status.INTERNAL);
      expect(await metric(server, 'quorate_quorum_server_refusals_total', { reason: 'undecodable' })).toBe(1);

      // A node posing as another: refused, counted and logged.
      const posing = await new Promise<{ verdict: string; reason: string }>((resolve, reject) => {
        const metadata = new grpc.Metadata();
        metadata.set('x-test-node', 'ld-1');
        raw.RequestLease({
          protocol_version: 1, cluster: 'payments', node: 'ny-1', membership_digest: Buffer.from(DIGEST), partition: ['ny-1'],
          partition_votes: 1, total_votes: 2, lease_ms: 1000, settle_ms: 300, request_id: 'r-1',
        }, metadata, (err, answer) => (err || !answer ? reject(err) : resolve(answer)));
      });
      expect(posing).toMatchObject({ verdict: 'REFUSED', reason: expect.stringMatching(/claims node ny-1/) });
      expect(await metric(server, 'quorate_quorum_server_refusals_total', { reason: 'identity-mismatch' })).toBe(1);
      expect(lines.some((l) => l.reason === 'identity-mismatch' && /refused/.test(l.msg))).toBe(true);

      // Still serving: a valid request goes through the settle window to a grant.
      const { outcome } = await askUntilDecided(c, lease('payments', 'ny-1', ['ny-1']));
      expect(outcome.verdict).toBe('GRANTED');
    } finally {
      raw.close();
    }
  });
});

describe('the quorum server\'s status API', () => {
  it('GET /status lists each cluster\'s lease and what is left of it; /metrics counts grants; nothing changes state', async () => {
    const statusPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const handle = await startQuorumServer({
      ...config(emptyStateFile('status.json')), tls: { insecure: true }, status: { listen: { host: '127.0.0.1', port: statusPort } },
    }, capturedLogger().logger);
    running.push(handle);
    const { outcome } = await askUntilDecided(client(handle), lease('payments', 'ny-1', ['ny-1']));
    expect(outcome.verdict).toBe('GRANTED');

    const base = `http://127.0.0.1:${statusPort}`;
    const status = await (await fetch(`${base}/status`)).json() as QuorumServerStatusReport;
    expect(status.leaseMaxMs).toBe(LEASE_MAX);
    expect(status.clusters).toHaveLength(1);
    expect(status.clusters[0]).toMatchObject({ cluster: 'payments', partition: ['ny-1'], grantedTo: 'ny-1' });
    const left = status.clusters[0]!.leases.find((l) => l.node === 'ny-1')!.remainingMs;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(LEASE_MAX);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^quorate_quorum_server_grants_total\{kind="new"\} 1$/m);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/drain/payments`, { method: 'POST' })).status).toBe(404);

    // `quorate status -c server.yaml` reads the same through the file's status.listen.
    const yaml = join(dir, 'status-server.yaml');
    writeFileSync(yaml, `listen: 127.0.0.1:7481\ntls: { insecure: true }\nstatus: { listen: 127.0.0.1:${statusPort} }\nstate-file: ${join(dir, 'unused.json')}\n`);
    // Not spawnSync: this process serves the status API the command asks.
    const printed = await promisify(execFile)(process.execPath, [quorateBin(), 'status', '-c', yaml], { encoding: 'utf8' });
    expect(printed.stdout).toMatch(new RegExp(`^quorum server 127\\.0\\.0\\.1:${statusPort}, lease\\.max 2s, at `, 'm'));
    expect(printed.stdout).toMatch(/^CLUSTER +PARTITION +VOTES +GRANTED TO +LEASE LEFT$/m);
    expect(printed.stdout).toMatch(/^payments +ny-1 +1 +ny-1 +ny-1 \d\.\ds$/m);
  });
});
