/**
 * Certificates for benchmark quorum-e2e: one CA, the quorum server's (bound to 127.0.0.1) and
 * one per cluster node, made with the certs module (openssl). 1,000 certificates are three
 * openssl runs each, so they are kept in a cache directory under the OS temp dir and reused
 * by later runs (issueCertificate keeps a certificate that still binds what is asked and is
 * signed by this CA); missing ones are made a few at a time in parallel.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterName, nodeId } from '../src/core/ids.js';
import { ensureCa, issueCertificate } from '../src/tls/certs.js';

export const E2E_CERT_CACHE = join(tmpdir(), 'quorate-bench-quorum-e2e-certs');
/** openssl is single-threaded; a few at once keep both cores busy without starving the machine. */
const PARALLEL = 4;

export interface E2eCerts {
  dir: string;
  /** Certificates that had to be made in this run (0 when the cache held them all). */
  created: number;
  tookMs: number;
}

/** Ensures the CA, the server certificate and `<cluster>.pem/.key` for every cluster (node `n1`). */
export async function ensureE2eCerts(clusters: readonly string[], progress: (m: string) => void): Promise<E2eCerts> {
  const started = performance.now();
  const dir = E2E_CERT_CACHE;
  const { ca } = await ensureCa(dir, { commonName: 'quorate bench CA' });
  let created = 0;
  const server = await issueCertificate(ca, { kind: 'server', addresses: ['127.0.0.1'] }, dir);
  if (server.action === 'created') created++;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < clusters.length) {
      const cluster = clusters[next++]!;
      const issued = await issueCertificate(ca, { kind: 'node', cluster: clusterName(cluster), node: nodeId('n1') }, dir, { name: cluster });
      if (issued.action === 'created' && ++created % 100 === 0) progress(`quorum-e2e: ${created} certificates made`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return { dir, created, tookMs: performance.now() - started };
}
