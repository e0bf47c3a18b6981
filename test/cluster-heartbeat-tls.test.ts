/**
 * Membership over real mutual TLS on 127.0.0.1, with certificates from src/tls/certs.ts
 * (Debian's openssl) in a temp dir: nodes of one CA see each other; a node posing as another
 * id is refused by the callee (its certificate binds another node), and a host at a peer's
 * address that cannot prove it is that peer is refused by the caller.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../src/config/types.js';
import { ms } from '../src/core/duration.js';
import { clusterName, nodeId, serviceName } from '../src/core/ids.js';
import type { MembershipChange } from '../src/cluster/membership.js';
import { Membership } from '../src/cluster/membership-runtime.js';
import { ensureCa, issueCertificate } from '../src/tls/certs.js';
import { loadTls } from '../src/tls/material.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!haveOpenssl) console.warn('cluster-heartbeat-tls: skipped — the openssl CLI (Debian package "openssl") is not installed');

const INTERVAL = ms(100);
const DEAD_AFTER = ms(500);
const OUTCOME_BOUND_MS = 10_000;
const cluster = clusterName('payments');

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + OUTCOME_BOUND_MS;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`not within ${OUTCOME_BOUND_MS} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0) ?? 0;
}

describe.skipIf(!haveOpenssl)('membership over mutual TLS (127.0.0.1)', () => {
  let dir: string;
  const running: Membership[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorate-membership-tls-'));
    const { ca } = await ensureCa(dir);
    for (const node of ['ny-1', 'nj-1', 'ch-1']) await issueCertificate(ca, { kind: 'node', cluster, node: nodeId(node) }, dir);
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((m) => m.stop()));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A node that says it is `id`, holding the certificate of `certOf`, listening on `port`. */
  async function node(id: string, certOf: string, port: number, peers: { id: string; port: number }[]) {
    const registry = new Registry();
    const tls = loadTls({ ca: join(dir, 'ca.pem'), cert: join(dir, `${certOf}.pem`), key: join(dir, `${certOf}.key`), insecure: false });
    const config: ClusterConfig = {
      name: cluster,
      listen: { host: '127.0.0.1', port },
      heartbeat: { interval: INTERVAL, deadAfter: DEAD_AFTER },
      peers: peers.map((p) => ({ id: nodeId(p.id), address: { host: '127.0.0.1', port: p.port }, votes: 1 })),
      quorum: [{ kind: 'voting' }],
    };
    const m = new Membership({
      cluster: config, node: { id: nodeId(id), votes: 1 }, tls, registry, logger: pino({ level: 'silent' }),
      localState: () => ({ quorum: { quorate: false, reason: 'test' }, withdrawBound: ms(0), services: new Map([[serviceName('web'), { healthy: true, drained: false, announceable: true, priority: 1, holding: false, released: false }]]) }),
    });
    const changes: MembershipChange[] = [];
    m.on('change', (c) => changes.push(c));
    running.push(m);
    await m.start();
    return { m, registry, changes };
  }

  it('nodes of one CA see each other; a node posing as another id is refused and never counted', async () => {
    const [pa, pb, pm] = await freePorts(3);
    const a = await node('ny-1', 'ny-1', pa!, [{ id: 'nj-1', port: pb! }]);
    const b = await node('nj-1', 'nj-1', pb!, [{ id: 'ny-1', port: pa! }]);
    await until('ny-1 and nj-1 see each other over mutual TLS', () => a.m.seen().has(nodeId('nj-1')) && b.m.seen().has(nodeId('ny-1')));

    // ch-1's certificate, claiming to be nj-1 (same members, so the same digest): ny-1 refuses it.
    const mallory = await node('nj-1', 'ch-1', pm!, [{ id: 'ny-1', port: pa! }]);
    expect(mallory.m.digest).toBe(a.m.digest);
    await until('ny-1 refused the impostor, and the impostor was told so', () =>
      mallory.changes.some((c) => c.kind === 'not-counted' && c.problem.kind === 'refused'));
    await until('counted as wrong-node', async () => (await metric(a.registry, 'quorate_tls_refusals_total', { reason: 'wrong-node' })) > 0);
    expect(await metric(a.registry, 'quorate_heartbeat_requests_refused_total', { reason: 'identity' })).toBeGreaterThan(0);
    expect(mallory.m.seen().size).toBe(0);
    // The real nj-1 is still seen all along.
    expect(a.changes.filter((c) => c.kind === 'lost')).toEqual([]);
    expect(a.m.seen().has(nodeId('nj-1'))).toBe(true);
  });

  it('a host at a peer\'s address that cannot prove it is that peer is refused by the caller', async () => {
    const [pa, pm] = await freePorts(2);
    // ny-1 expects nj-1 at pm; what answers there holds ch-1's certificate (of the same CA).
    const a = await node('ny-1', 'ny-1', pa!, [{ id: 'nj-1', port: pm! }]);
    await node('ch-1', 'ch-1', pm!, [{ id: 'ny-1', port: pa! }]);
    await until('ny-1 refused the server at nj-1\'s address', () =>
      a.changes.some((c) => c.kind === 'not-counted' && c.problem.kind === 'unreachable'));
    const refusal = a.changes.find((c) => c.kind === 'not-counted');
    expect(refusal?.kind === 'not-counted' && refusal.problem.detail).toMatch(/does not bind urn:quorate:node:payments:nj-1/);
    await until('the refusal is counted as server-binding', async () =>
      (await metric(a.registry, 'quorate_tls_refusals_total', { reason: 'server-binding' })) > 0);
    expect(a.m.seen().size).toBe(0);
  });

  it('plain TCP on the TLS port is refused and counted, and heartbeats go on', async () => {
    const [pa, pb] = await freePorts(2);
    const a = await node('ny-1', 'ny-1', pa!, [{ id: 'nj-1', port: pb! }]);
    const b = await node('nj-1', 'nj-1', pb!, [{ id: 'ny-1', port: pa! }]);
    await until('both see each other', () => a.m.seen().size === 1 && b.m.seen().size === 1);
    await new Promise<void>((resolve) => {
      const s = connect(pa!, '127.0.0.1', () => s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n garbage'));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      setTimeout(() => { s.destroy(); resolve(); }, 2000);
    });
    await until('the plain TCP connection is counted as not-tls', async () =>
      (await metric(a.registry, 'quorate_tls_refusals_total', { reason: 'not-tls' })) > 0);
    const before = a.m.lastSeenSend(nodeId('nj-1'))!;
    await until('fresh round trips both ways', () =>
      (a.m.lastSeenSend(nodeId('nj-1')) ?? 0) > before && (b.m.lastSeenSend(nodeId('ny-1')) ?? 0) > before);
    expect(a.changes.filter((c) => c.kind === 'lost')).toEqual([]);
  });
});
