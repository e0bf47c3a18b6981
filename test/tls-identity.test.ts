/**
 * Identity over real mutual TLS: a grpc-js server on 127.0.0.1 behind listenMutualTls, real
 * grpc-js clients, certificates made by src/tls/certs.ts with Debian's openssl in a temp dir.
 * The carrier is grpc.health.v1: Check answers SERVING only when the caller's certificate
 * binds exactly the cluster/node the request claims (request.service = "cluster/node").
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { clusterName, nodeId } from '../src/core/ids.js';
import type { HealthClient, HealthHandlers } from '../src/health/generated/grpc/health/v1/Health.js';
import { healthProto } from '../src/health/health-proto.js';
import { ensureCa, issueCertificate, type CaFiles } from '../src/tls/certs.js';
import { channelCredentials, serverCredentials, warnInsecure, type ExpectedServer } from '../src/tls/credentials.js';
import { loadTls, type TlsSetup } from '../src/tls/material.js';
import { listenMutualTls, type MutualTlsListener } from '../src/tls/mutual-tls-listener.js';
import { runOpenssl } from '../src/tls/openssl.js';
import { checkClaim, identifyCall, isRefusal } from '../src/tls/peer-identity.js';
import { RefusalRecorder, TLS_REFUSALS_METRIC, tlsRefusals, type RefusalReason } from '../src/tls/refusals.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!haveOpenssl) console.warn('tls-identity: skipped — the openssl CLI (Debian package "openssl") is not installed');

const CLUSTER = clusterName('payments');

/** Log lines (JSON) captured from a pino logger. */
function capturingLogger() {
  const lines: { msg: string; reason?: string; level: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text) as (typeof lines)[number]);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

interface CallOutcome { status?: string; code?: grpc.status; details?: string }

function check(client: HealthClient, claim: string): Promise<CallOutcome> {
  return new Promise((resolve) => {
    client.Check({ service: claim }, { deadline: Date.now() + 10_000 }, (err, res) => {
      if (err) resolve({ code: err.code, details: err.details });
      else resolve({ status: res?.status });
    });
  });
}

describe.skipIf(!haveOpenssl)('mutual TLS identity (real grpc-js server and clients on 127.0.0.1)', () => {
  let dir: string;
  let ca: CaFiles;
  let otherCa: CaFiles;
  let serverSetup: TlsSetup;
  let server: grpc.Server;
  let listener: MutualTlsListener;
  const registry = new Registry();
  const serverLog = capturingLogger();
  const clientLog = capturingLogger();
  const clients: grpc.Client[] = [];

  const pem = (file: string) => readFileSync(file);
  const node = (name: string) => ({ ca: join(dir, 'ca.pem'), cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`), insecure: false });

  async function refusals(reason: RefusalReason): Promise<number> {
    const metric = await tlsRefusals(registry).get();
    return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
  }

  /** Waits (generously) until the server has counted one more refusal of `reason` than `before`. */
  async function refusedOnce(reason: RefusalReason, before: number): Promise<void> {
    const until = Date.now() + 10_000;
    while ((await refusals(reason)) <= before && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(await refusals(reason)).toBeGreaterThan(before);
    expect(serverLog.lines.some((l) => l.reason === reason && l.msg.includes(reason))).toBe(true);
  }

  function client(credentials: grpc.ChannelCredentials): HealthClient {
    const c = new (healthProto().Health)(`127.0.0.1:${listener.port}`, credentials);
    clients.push(c);
    return c;
  }

  /** The way a node connects to the quorum server: its own files, through loadTls. */
  function nodeClient(name: string, expect: ExpectedServer = { role: 'quorum-server' }): HealthClient {
    return client(channelCredentials(loadTls(node(name)), expect, new RefusalRecorder(registry, clientLog.logger)));
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorate-tls-identity-'));
    ({ ca } = await ensureCa(dir));
    ({ ca: otherCa } = await ensureCa(join(dir, 'other-ca'), { commonName: 'another CA' }));
    const issue = (subject: Parameters<typeof issueCertificate>[1], opts: Parameters<typeof issueCertificate>[3] = {}, by = ca, into = dir) =>
      issueCertificate(by, subject, into, opts);
    await issue({ kind: 'server', addresses: ['127.0.0.1'] });
    await issue({ kind: 'node', cluster: CLUSTER, node: nodeId('ny-1') });
    await issue({ kind: 'node', cluster: CLUSTER, node: nodeId('nj-1') });
    await issue({ kind: 'node', cluster: clusterName('ledger'), node: nodeId('ny-1') }, { name: 'ledger-ny-1' });
    await issue({ kind: 'node', cluster: CLUSTER, node: nodeId('ny-1') }, { name: 'expired-ny-1', days: -1 });
    await issue({ kind: 'node', cluster: CLUSTER, node: nodeId('ny-1') }, {}, otherCa, join(dir, 'other-ca'));

    serverSetup = loadTls({ ca: join(dir, 'ca.pem'), cert: join(dir, 'quorum-server.pem'), key: join(dir, 'quorum-server.key'), insecure: false });
    const recorder = new RefusalRecorder(registry, serverLog.logger);
    server = new grpc.Server();
    const handlers: HealthHandlers = {
      Check(call, callback) {
        const identity = identifyCall(call);
        const [cluster = '', claimedNode = ''] = call.request.service.split('/');
        const refusal = isRefusal(identity) ? identity : checkClaim(identity, { cluster, node: claimedNode });
        if (refusal) {
          recorder.refuse(refusal.reason, refusal.refused, call.getPeer());
          callback({ code: grpc.status.PERMISSION_DENIED, details: refusal.refused });
        } else {
          callback(null, { status: 'SERVING' });
        }
      },
      Watch(call) {
        call.end();
      },
    };
    server.addService(healthProto().Health.service, handlers);
    listener = await listenMutualTls(server, { host: '127.0.0.1', port: 0, tls: serverSetup, refusals: recorder });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await listener?.close();
    server?.forceShutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a node of the right cluster speaking for itself', async () => {
    expect(await check(nodeClient('ny-1'), 'payments/ny-1')).toEqual({ status: 'SERVING' });
    expect(await check(nodeClient('nj-1'), 'payments/nj-1')).toEqual({ status: 'SERVING' });
  });

  it('refuses a node posing as another node id of its cluster', async () => {
    const before = await refusals('wrong-node');
    const outcome = await check(nodeClient('ny-1'), 'payments/nj-1');
    expect(outcome.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(outcome.details).toBe('node ny-1 of cluster payments claimed to be node nj-1');
    await refusedOnce('wrong-node', before);
  });

  it('refuses a node of another cluster (same CA) speaking for this one', async () => {
    const before = await refusals('wrong-cluster');
    const outcome = await check(nodeClient('ledger-ny-1'), 'payments/ny-1');
    expect(outcome.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(outcome.details).toBe('node ny-1 of cluster ledger spoke for cluster payments');
    await refusedOnce('wrong-cluster', before);
    // …while it may speak for its own cluster.
    expect(await check(nodeClient('ledger-ny-1'), 'ledger/ny-1')).toEqual({ status: 'SERVING' });
  });

  it('refuses the quorum server\'s certificate used as a client (made for serverAuth only) at the handshake', async () => {
    const before = await refusals('bad-certificate');
    const creds = grpc.credentials.createSsl(pem(join(dir, 'ca.pem')), pem(join(dir, 'quorum-server.key')), pem(join(dir, 'quorum-server.pem')));
    const outcome = await check(client(creds), 'payments/ny-1');
    expect(outcome.code).toBe(grpc.status.UNAVAILABLE);
    await refusedOnce('bad-certificate', before);
    expect(serverLog.lines.some((l) => l.reason === 'bad-certificate' && l.msg.includes('INVALID_PURPOSE'))).toBe(true);
  });

  it('refuses a certificate of our CA that binds two nodes (exactly one is required)', async () => {
    // Not something `quorate certs` makes: issued by hand, as a careless PKI might.
    const extfile = join(dir, 'two-nodes.cnf');
    writeFileSync(extfile, '[ext]\nextendedKeyUsage = clientAuth\nsubjectAltName = URI:urn:quorate:node:payments:ny-1, URI:urn:quorate:node:payments:nj-1\n');
    await runOpenssl(['req', '-new', '-key', join(dir, 'ny-1.key'), '-subj', '/CN=two-nodes', '-out', join(dir, 'two-nodes.csr')]);
    await runOpenssl(['x509', '-req', '-in', join(dir, 'two-nodes.csr'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'),
      '-set_serial', '0x2a', '-days', '1', '-extfile', extfile, '-extensions', 'ext', '-out', join(dir, 'two-nodes.pem')]);
    const before = await refusals('no-binding');
    const creds = grpc.credentials.createSsl(pem(join(dir, 'ca.pem')), pem(join(dir, 'ny-1.key')), pem(join(dir, 'two-nodes.pem')));
    const outcome = await check(client(creds), 'payments/ny-1');
    expect(outcome.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(outcome.details).toBe('certificate "two-nodes" binds more than one identity (urn:quorate:node:payments:ny-1, urn:quorate:node:payments:nj-1)');
    await refusedOnce('no-binding', before);
  });

  it('refuses, at the handshake, a certificate of another CA', async () => {
    const before = await refusals('unknown-ca');
    const otherDir = join(dir, 'other-ca');
    const creds = grpc.credentials.createSsl(pem(join(dir, 'ca.pem')), pem(join(otherDir, 'ny-1.key')), pem(join(otherDir, 'ny-1.pem')));
    const outcome = await check(client(creds), 'payments/ny-1');
    expect(outcome.code).toBe(grpc.status.UNAVAILABLE);
    await refusedOnce('unknown-ca', before);
  });

  it('refuses, at the handshake, an expired certificate of our CA', async () => {
    const before = await refusals('expired');
    const creds = grpc.credentials.createSsl(pem(join(dir, 'ca.pem')), pem(join(dir, 'expired-ny-1.key')), pem(join(dir, 'expired-ny-1.pem')));
    const outcome = await check(client(creds), 'payments/ny-1');
    expect(outcome.code).toBe(grpc.status.UNAVAILABLE);
    await refusedOnce('expired', before);
    expect(serverLog.lines.some((l) => l.reason === 'expired' && l.msg.includes('CERT_HAS_EXPIRED'))).toBe(true);
  });

  it('refuses a client that presents no certificate', async () => {
    const before = await refusals('no-certificate');
    const outcome = await check(client(grpc.credentials.createSsl(pem(join(dir, 'ca.pem')))), 'payments/ny-1');
    expect(outcome.code).toBe(grpc.status.UNAVAILABLE);
    await refusedOnce('no-certificate', before);
  });

  it('refuses plain TCP (an insecure gRPC client) on the TLS port', async () => {
    const before = await refusals('not-tls');
    const outcome = await check(client(grpc.credentials.createInsecure()), 'payments/ny-1');
    expect(outcome.code).toBe(grpc.status.UNAVAILABLE);
    await refusedOnce('not-tls', before);
  });

  it('survives garbage bytes on the port, and the next good call still works', async () => {
    const before = await refusals('not-tls');
    await new Promise<void>((resolve, reject) => {
      const socket = connect(listener.port, '127.0.0.1', () => {
        socket.write(Buffer.from('\x00\xff garbage, not a TLS record \r\n\r\n'.repeat(40), 'latin1'));
      });
      socket.on('error', () => resolve()); // a reset from the server is one acceptable ending
      socket.on('close', () => resolve());
      socket.setTimeout(10_000, () => reject(new Error('the server kept a garbage connection open')));
      socket.resume();
    });
    await refusedOnce('not-tls', before);
    expect(await check(nodeClient('ny-1'), 'payments/ny-1')).toEqual({ status: 'SERVING' });
  });

  it('drops, and counts, a connection that never starts its handshake', async () => {
    const quiet = new grpc.Server();
    const own = await listenMutualTls(quiet, {
      host: '127.0.0.1', port: 0, tls: serverSetup, refusals: new RefusalRecorder(registry, serverLog.logger), handshakeTimeout: ms(300),
    });
    try {
      const before = await refusals('handshake-timeout');
      await new Promise<void>((resolve, reject) => {
        const socket = connect(own.port, '127.0.0.1');
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.setTimeout(10_000, () => reject(new Error('the server kept a silent connection open')));
      });
      await refusedOnce('handshake-timeout', before);
    } finally {
      await own.close();
      quiet.forceShutdown();
    }
  });

  it('exposes the refusals as a Prometheus counter by reason', async () => {
    const text = await registry.metrics();
    for (const reason of ['wrong-node', 'wrong-cluster', 'bad-certificate', 'no-binding', 'unknown-ca', 'expired', 'no-certificate', 'not-tls']) {
      expect(text).toMatch(new RegExp(`^${TLS_REFUSALS_METRIC}\\{reason="${reason}"\\} [1-9]`, 'm'));
    }
  });

  describe('the client verifies the server', () => {
    let impostor: grpc.Server;
    let impostorPort: number;

    beforeAll(async () => {
      // A server presenting a node's certificate: valid, from our CA, but not the quorum server.
      impostor = new grpc.Server();
      impostor.addService(healthProto().Health.service, {
        Check: (_call: unknown, cb: grpc.sendUnaryData<{ status: 'SERVING' }>) => cb(null, { status: 'SERVING' }),
        Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
      });
      impostorPort = await new Promise<number>((resolve, reject) =>
        impostor.bindAsync('127.0.0.1:0', serverCredentials(loadTls(node('nj-1'))), (err, port) => (err ? reject(err) : resolve(port))));
    });
    afterAll(() => {
      impostor?.forceShutdown();
    });

    function impostorClient(expect: ExpectedServer): HealthClient {
      const c = new (healthProto().Health)(`127.0.0.1:${impostorPort}`,
        channelCredentials(loadTls(node('ny-1')), expect, new RefusalRecorder(registry, clientLog.logger)));
      clients.push(c);
      return c;
    }

    it('refuses a server whose certificate lacks the quorum-server binding, saying why', async () => {
      const before = await refusals('server-binding');
      const outcome = await check(impostorClient({ role: 'quorum-server' }), 'payments/ny-1');
      expect(outcome.code).toBe(grpc.status.UNAVAILABLE);
      expect(outcome.details).toContain('does not bind urn:quorate:server (it has urn:quorate:node:payments:nj-1)');
      expect(await refusals('server-binding')).toBeGreaterThan(before);
      expect(clientLog.lines.some((l) => l.reason === 'server-binding')).toBe(true);
    });

    it('accepts the same server when it is the peer node the client meant to reach', async () => {
      const outcome = await check(impostorClient({ role: 'node', cluster: CLUSTER, node: nodeId('nj-1') }), 'payments/ny-1');
      expect(outcome).toEqual({ status: 'SERVING' });
    });

    it('refuses a peer node that is not the one it meant to reach', async () => {
      const outcome = await check(impostorClient({ role: 'node', cluster: CLUSTER, node: nodeId('bos-1') }), 'payments/ny-1');
      expect(outcome.code).toBe(grpc.status.UNAVAILABLE);
      expect(outcome.details).toContain('does not bind urn:quorate:node:payments:bos-1');
    });
  });
});

describe('insecure mode (labs)', () => {
  it('serves plain gRPC through the same listener, and warnInsecure says so', async () => {
    const { logger, lines } = capturingLogger();
    const setup = loadTls({ insecure: true });
    warnInsecure(logger, 'quorum server');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(40);
    expect(lines[0]!.msg).toMatch(/^quorum server: tls.insecure is set .*labs and tests only/);

    const server = new grpc.Server();
    server.addService(healthProto().Health.service, {
      Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<{ status: string }>) =>
        cb(null, { status: isRefusal(identifyCall(call)) ? 'NOT_SERVING' : 'SERVING' }),
      Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
    });
    const listener = await listenMutualTls(server, { host: '127.0.0.1', port: 0, tls: setup, refusals: new RefusalRecorder(new Registry(), logger) });
    const c = new (healthProto().Health)(`127.0.0.1:${listener.port}`, channelCredentials(setup, { role: 'quorum-server' }));
    try {
      // Without TLS there is no identity: a handler that requires one refuses every call.
      expect(await check(c, 'payments/ny-1')).toEqual({ status: 'NOT_SERVING' });
    } finally {
      c.close();
      await listener.close();
      server.forceShutdown();
    }
  });
});
