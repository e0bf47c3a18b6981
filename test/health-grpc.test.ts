/**
 * The grpc probe against a real grpc-js server implementing grpc.health.v1, plaintext and TLS.
 */
import { rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckConfig } from '../src/config/types.js';
import { ms } from '../src/core/duration.js';
import type { HealthHandlers } from '../src/health/generated/grpc/health/v1/Health.js';
import { GrpcHealthProber, probeGrpc } from '../src/health/grpc.js';
import { healthProto } from '../src/health/health-proto.js';
import { makeSelfSignedCert } from './fixtures/self-signed-cert.js';

type GrpcCheck = Extract<CheckConfig, { kind: 'grpc' }>;
type Status = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN';

/** A real Health server: `statuses` maps service names ('' = the server) to what Check answers. */
async function startHealthServer(statuses: Map<string, Status>, credentials = grpc.ServerCredentials.createInsecure(), port = 0) {
  const server = new grpc.Server();
  const handlers: HealthHandlers = {
    Check(call, callback) {
      const status = statuses.get(call.request.service);
      if (status === undefined) callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      else callback(null, { status });
    },
    Watch(call) {
      call.end();
    },
  };
  server.addService(healthProto().Health.service, handlers);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))));
  return { server, port: bound };
}

function check(port: number, extra: Partial<GrpcCheck> = {}): GrpcCheck {
  return { kind: 'grpc', host: '127.0.0.1', port, service: '', tls: false, interval: ms(100), timeout: ms(1000), rise: 1, fall: 1, ...extra };
}

const never = new AbortController().signal;

describe('grpc probe (real grpc-js Health server)', () => {
  const statuses = new Map<string, Status>([['', 'SERVING'], ['db', 'NOT_SERVING']]);
  let server: grpc.Server;
  let port: number;
  beforeAll(async () => {
    ({ server, port } = await startHealthServer(statuses));
  });
  afterAll(() => {
    server.forceShutdown();
  });

  it('SERVING is healthy', async () => {
    expect(await probeGrpc(check(port), never)).toEqual({ ok: true, detail: 'SERVING' });
  });

  it('NOT_SERVING and unknown services fail, saying what the server answered', async () => {
    expect(await probeGrpc(check(port, { service: 'db' }), never)).toEqual({ ok: false, detail: 'NOT_SERVING' });
    expect(await probeGrpc(check(port, { service: 'nope' }), never)).toEqual({ ok: false, detail: 'NOT_FOUND: unknown service nope' });
  });

  it('one prober keeps its channel across probes and follows the status', async () => {
    const prober = new GrpcHealthProber(check(port, { service: 'db' }));
    try {
      expect((await prober.probe(never)).detail).toBe('NOT_SERVING');
      statuses.set('db', 'SERVING');
      expect(await prober.probe(never)).toEqual({ ok: true, detail: 'SERVING' });
    } finally {
      statuses.set('db', 'NOT_SERVING');
      prober.close();
    }
  });

  it('fails when nothing listens, and recovers on the same channel when the server comes back', async () => {
    const own = await startHealthServer(new Map([['', 'SERVING']]));
    const prober = new GrpcHealthProber(check(own.port));
    try {
      expect(await prober.probe(never)).toEqual({ ok: true, detail: 'SERVING' });
      own.server.forceShutdown();
      const down = await prober.probe(never);
      expect(down.ok).toBe(false);
      expect(down.detail).toMatch(/^UNAVAILABLE: /);

      const again = await startHealthServer(new Map([['', 'SERVING']]), undefined, own.port);
      try {
        // The channel reconnects with a short backoff (about the interval): poll, bounded.
        const deadline = Date.now() + 10_000;
        let result = await prober.probe(never);
        while (!result.ok && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          result = await prober.probe(never);
        }
        expect(result).toEqual({ ok: true, detail: 'SERVING' });
      } finally {
        again.server.forceShutdown();
      }
    } finally {
      prober.close();
    }
  });

  it('cancels the call when its signal aborts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('monitor stopped'));
    expect(await probeGrpc(check(port), controller.signal)).toEqual({ ok: false, detail: 'monitor stopped' });
  });
});

const tls = makeSelfSignedCert('health-grpc');
if (!tls) console.warn('health-grpc: skipping TLS grpc probe tests: openssl could not make a certificate');

describe.skipIf(!tls)('grpc probe over TLS (real grpc-js server)', () => {
  let server: grpc.Server;
  let port: number;
  beforeAll(async () => {
    const credentials = grpc.ServerCredentials.createSsl(null, [{ private_key: tls!.key, cert_chain: tls!.cert }]);
    ({ server, port } = await startHealthServer(new Map([['', 'SERVING']]), credentials));
  });
  afterAll(() => {
    server.forceShutdown();
    rmSync(tls!.dir, { recursive: true, force: true });
  });

  it('passes when the server certificate verifies against the given roots', async () => {
    expect(await probeGrpc(check(port, { tls: true }), never, { rootCerts: tls!.cert })).toEqual({ ok: true, detail: 'SERVING' });
  });

  it('fails against an unknown certificate (system roots)', async () => {
    const result = await probeGrpc(check(port, { tls: true, timeout: ms(2000) }), never);
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^UNAVAILABLE: /);
  });

  it('fails when TLS is expected but the server speaks plaintext', async () => {
    const plain = await startHealthServer(new Map([['', 'SERVING']]));
    try {
      const result = await probeGrpc(check(plain.port, { tls: true, timeout: ms(2000) }), never);
      expect(result.ok).toBe(false);
    } finally {
      plain.server.forceShutdown();
    }
  });
});
