/**
 * The quorum server behind real mutual TLS on 127.0.0.1: src/tls's counting listener and its
 * identify hook, certificates made with Debian's openssl in a temp dir. A node is served only
 * for the cluster and node id its certificate binds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { clusterName, nodeId } from '../src/core/ids.js';
import { QuorumServerClient, type LeaseRequestInput } from '../src/quorum-server/client.js';
import { QuorumServerMetrics } from '../src/quorum-server/metrics.js';
import { runQuorumServer, type QuorumServerHandle } from '../src/quorum-server/run.js';
import { ensureCa, issueCertificate } from '../src/tls/certs.js';
import { channelCredentials } from '../src/tls/credentials.js';
import { loadTls } from '../src/tls/material.js';
import { listenMutualTls } from '../src/tls/mutual-tls-listener.js';
import { ConnectionIdentities } from '../src/tls/connection-identities.js';
import { identifyCaller } from '../src/tls/peer-identity.js';
import { RefusalRecorder } from '../src/tls/refusals.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!haveOpenssl) console.warn('quorum-server-tls: skipped — the openssl CLI (Debian package "openssl") is not installed');

describe.skipIf(!haveOpenssl)('quorum server over mutual TLS (127.0.0.1)', () => {
  let dir: string;
  let server: QuorumServerHandle;
  let identities: ConnectionIdentities;
  const clients: QuorumServerClient[] = [];
  const metrics = new QuorumServerMetrics();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorate-qs-tls-'));
    const { ca } = await ensureCa(dir);
    await issueCertificate(ca, { kind: 'server', addresses: ['127.0.0.1'] }, dir);
    await issueCertificate(ca, { kind: 'node', cluster: clusterName('payments'), node: nodeId('ny-1') }, dir);
    await issueCertificate(ca, { kind: 'node', cluster: clusterName('ledger'), node: nodeId('fra-1') }, dir);
    const stateFile = join(dir, 'state.json');
    writeFileSync(stateFile, JSON.stringify({ format: 'quorate-quorum-server-state', version: 1, writtenAt: Date.now(), leases: [] }));
    const logger = pino({ level: 'silent' });
    const tls = loadTls({ ca: join(dir, 'ca.pem'), cert: join(dir, 'quorum-server.pem'), key: join(dir, 'quorum-server.key'), insecure: false });
    const refusals = new RefusalRecorder(metrics.registry, logger);
    // As `quorate server` runs it: identities read once per connection, looked up per call.
    identities = new ConnectionIdentities();
    server = await runQuorumServer(
      { file: 'test', listen: { host: '127.0.0.1', port: 0 }, lease: { max: ms(2000) }, clusters: [{ name: clusterName('payments') }, { name: clusterName('ledger') }], stateFile },
      { listen: (s) => listenMutualTls(s, { host: '127.0.0.1', port: 0, tls, refusals, identities }), identify: identifyCaller(refusals, identities), logger, metrics },
    );
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function clientAs(name: string): QuorumServerClient {
    const tls = loadTls({ ca: join(dir, 'ca.pem'), cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`), insecure: false });
    const c = new QuorumServerClient(`127.0.0.1:${server.port}`, channelCredentials(tls, { role: 'quorum-server' }));
    clients.push(c);
    return c;
  }

  const lease = (cluster: string, node: string): LeaseRequestInput => ({
    cluster: clusterName(cluster), node: nodeId(node), membershipDigest: Uint8Array.from([1]), partition: [nodeId(node)],
    partitionVotes: 1, totalVotes: 2, lease: ms(1000), settle: ms(300),
  });

  async function refusals(reason: string): Promise<number> {
    const m = await metrics.registry.getSingleMetric('quorate_quorum_server_refusals_total')?.get();
    return m?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
  }

  it('serves a node for the cluster and node id its certificate binds', async () => {
    // Admitted: the answer is the settle window's RETRY, not a refusal.
    expect(await clientAs('ny-1').requestLease(lease('payments', 'ny-1'), ms(10_000))).toMatchObject({ verdict: 'RETRY' });
    // Read once at the handshake, then looked up per call (not parsed again).
    expect(identities.size).toBeGreaterThanOrEqual(1);
  });

  it('refuses a node posing as another node, and a node speaking for another cluster', async () => {
    const ny = clientAs('ny-1');
    expect(await ny.requestLease(lease('payments', 'ld-1'), ms(10_000))).toMatchObject({ verdict: 'REFUSED', reason: expect.stringMatching(/claims node ld-1/) });
    expect(await refusals('identity-mismatch')).toBe(1);
    expect(await clientAs('fra-1').requestLease(lease('payments', 'fra-1'), ms(10_000))).toMatchObject({ verdict: 'REFUSED', reason: expect.stringMatching(/cluster "ledger"/) });
    expect(await refusals('wrong-cluster')).toBe(1);
    expect(await ny.release({ cluster: clusterName('payments'), node: nodeId('ld-1') }, ms(10_000))).toMatchObject({ released: false });
    expect(await refusals('identity-mismatch')).toBe(2);
  });
});
