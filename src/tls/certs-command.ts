/**
 * `quorate certs`: a CA plus node and quorum-server certificates for labs and tests.
 *
 *   quorate certs --dir certs --cluster payments --node ny-1 --node nj-1
 *   quorate certs --dir certs --server --address 203.0.113.250
 *
 * Running it again changes nothing that is already right (the CA is reused, matching
 * certificates are kept), so a lab script can call it unconditionally.
 */
import { resolve } from 'node:path';
import { clusterName, nodeId } from '../core/ids.js';
import { NAME_RE, SERVER_BINDING_URI, nodeBindingUri } from './binding.js';
import { ensureCa, issueCertificate, type CertSubject } from './certs.js';

export interface CertsCommandOptions {
  dir: string;
  cluster?: string;
  /** Node ids of `cluster` to certify. */
  nodes?: string[];
  /** Make the quorum server's certificate. */
  server?: boolean;
  /** The quorum server's addresses (IP or DNS), with `server`. */
  addresses?: string[];
  /** Validity of the leaf certificates, in days. */
  days?: number;
  /** Reissue leaf certificates even when matching ones exist. */
  renew?: boolean;
  /** Where the lines saying what was done go (default: stdout). */
  print?: (line: string) => void;
}

export interface CertsCommandResult {
  ca: string;
  files: { file: string; action: 'created' | 'kept'; binds: string }[];
}

/** Throws with a message for the user on bad options (the CLI prints it and exits 2). */
export async function runCertsCommand(opts: CertsCommandOptions): Promise<CertsCommandResult> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const nodes = opts.nodes ?? [];
  const addresses = opts.addresses ?? [];
  if (nodes.length > 0 && !opts.cluster) throw new Error('--node needs --cluster NAME (a node certificate binds its cluster)');
  if (opts.cluster && nodes.length === 0) throw new Error('--cluster needs at least one --node ID');
  if (opts.cluster && !NAME_RE.test(opts.cluster)) throw new Error(`--cluster "${opts.cluster}": names are ${NAME_RE.source}`);
  for (const n of nodes) if (!NAME_RE.test(n)) throw new Error(`--node "${n}": node ids are ${NAME_RE.source}`);
  if (addresses.length > 0 && !opts.server) throw new Error('--address belongs to --server');
  if (opts.server && addresses.length === 0) throw new Error('--server needs --address IP_OR_DNS (the address nodes reach it at)');
  if (opts.days !== undefined && !(Number.isInteger(opts.days) && opts.days > 0)) throw new Error('--days must be a positive whole number');

  const dir = resolve(opts.dir);
  const { ca, action } = await ensureCa(dir);
  print(`${action === 'created' ? 'created' : 'kept   '} ${ca.certFile} (CA; its key ${ca.keyFile} signs every certificate: keep it off the nodes)`);
  const result: CertsCommandResult = { ca: ca.certFile, files: [] };

  const subjects: { subject: CertSubject; binds: string }[] = nodes.map((n) => {
    const subject: CertSubject = { kind: 'node', cluster: clusterName(opts.cluster!), node: nodeId(n) };
    return { subject, binds: nodeBindingUri(subject.cluster, subject.node) };
  });
  if (opts.server) subjects.push({ subject: { kind: 'server', addresses }, binds: SERVER_BINDING_URI });

  for (const { subject, binds } of subjects) {
    const issued = await issueCertificate(ca, subject, dir, {
      ...(opts.days !== undefined ? { days: opts.days } : {}),
      ...(opts.renew ? { renew: true } : {}),
    });
    print(`${issued.action === 'created' ? 'created' : 'kept   '} ${issued.certFile} + ${issued.keyFile} (binds ${binds})`);
    result.files.push({ file: issued.certFile, action: issued.action, binds });
  }
  return result;
}
