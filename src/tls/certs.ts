/**
 * A small CA for labs and tests, made with Debian's openssl CLI (the README's identity section shows the
 * same steps for a real PKI). Keys are P-256, written 0600 by us (never through the umask);
 * certificates carry the bindings of binding.ts. Everything is idempotent: an existing CA is
 * reused, and an existing certificate that already binds what is asked (signed by this CA,
 * not expired) is kept.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterName, NodeId } from '../core/ids.js';
import { NAME_RE, SERVER_BINDING_URI, describeBinding, nodeBindingUri, parseBindings } from './binding.js';
import { runOpenssl } from './openssl.js';

export interface CaFiles { readonly certFile: string; readonly keyFile: string }
export interface IssuedFiles { readonly certFile: string; readonly keyFile: string; readonly action: 'created' | 'kept' }

export type CertSubject =
  | { readonly kind: 'node'; readonly cluster: ClusterName; readonly node: NodeId }
  /** `addresses`: the IPs and DNS names the server listens on / is known by (SANs for standard tools). */
  | { readonly kind: 'server'; readonly addresses: readonly string[] };

export interface IssueOptions {
  /** Validity from now. A negative number makes a certificate that has already expired (tests). */
  days?: number;
  /** File base name in the directory (default: the node id, or `quorum-server`). */
  name?: string;
  /** Reissue even when a matching certificate exists (e.g. to renew before it expires). */
  renew?: boolean;
}

export const DEFAULT_CA_DAYS = 3650;
export const DEFAULT_LEAF_DAYS = 825;

/** The CA in `dir` (ca.pem, ca.key): reused when present, created otherwise. */
export async function ensureCa(dir: string, opts: { days?: number; commonName?: string } = {}): Promise<{ ca: CaFiles; action: 'created' | 'kept' }> {
  mkdirSync(dir, { recursive: true });
  const ca: CaFiles = { certFile: join(dir, 'ca.pem'), keyFile: join(dir, 'ca.key') };
  const haveCert = existsSync(ca.certFile);
  const haveKey = existsSync(ca.keyFile);
  if (haveCert && haveKey) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(readFileSync(ca.certFile));
    } catch (err) {
      throw new Error(`${ca.certFile} exists but is not a readable certificate (${(err as Error).message})`);
    }
    if (!cert.ca) throw new Error(`${ca.certFile} exists but is not a CA certificate`);
    return { ca, action: 'kept' };
  }
  if (haveCert !== haveKey) {
    // Never pair a new key with an old certificate (or the reverse): that CA could sign nothing valid.
    throw new Error(`${haveCert ? ca.certFile : ca.keyFile} exists without ${haveCert ? ca.keyFile : ca.certFile}: restore it or remove both`);
  }
  await withScratch(async (scratch) => {
    const key = await newKey();
    const config = join(scratch, 'ca.cnf');
    writeFileSync(config, caConfig(opts.commonName ?? 'quorate CA'));
    writePrivate(`${ca.keyFile}.new`, key);
    await runOpenssl(['req', '-x509', '-new', '-config', config, '-extensions', 'ca_ext', '-key', `${ca.keyFile}.new`,
      '-days', String(opts.days ?? DEFAULT_CA_DAYS), '-set_serial', serial(), '-out', `${ca.certFile}.new`]);
    renameSync(`${ca.keyFile}.new`, ca.keyFile);
    renameSync(`${ca.certFile}.new`, ca.certFile);
  });
  return { ca, action: 'created' };
}

/** A node or server certificate signed by `ca`, into `dir` as NAME.pem and NAME.key. */
export async function issueCertificate(ca: CaFiles, subject: CertSubject, dir: string, opts: IssueOptions = {}): Promise<IssuedFiles> {
  const name = opts.name ?? (subject.kind === 'node' ? subject.node : 'quorum-server');
  if (!NAME_RE.test(name)) throw new Error(`"${name}" is not a usable file name for a certificate`);
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  const sans = subjectAltNames(subject);
  mkdirSync(dir, { recursive: true });

  if (!opts.renew && existsSync(certFile) && existsSync(keyFile)) {
    const problem = existingProblem(certFile, ca, subject);
    if (problem === undefined) return { certFile, keyFile, action: 'kept' };
    throw new Error(`${certFile} exists but ${problem}; remove it or renew it (--renew)`);
  }

  await withScratch(async (scratch) => {
    const config = join(scratch, 'leaf.cnf');
    const csr = join(scratch, 'leaf.csr');
    writeFileSync(config, leafConfig(subject.kind === 'node' ? subject.node : 'quorum-server', sans, subject.kind));
    writePrivate(`${keyFile}.new`, await newKey());
    await runOpenssl(['req', '-new', '-config', config, '-key', `${keyFile}.new`, '-out', csr]);
    await runOpenssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', serial(),
      '-days', String(opts.days ?? DEFAULT_LEAF_DAYS), '-extfile', config, '-extensions', 'leaf_ext', '-out', `${certFile}.new`]);
    renameSync(`${keyFile}.new`, keyFile);
    renameSync(`${certFile}.new`, certFile);
  });
  return { certFile, keyFile, action: 'created' };
}

/** The subjectAltName value: the binding URI first, then (server) the addresses as IP/DNS. */
export function subjectAltNames(subject: CertSubject): string[] {
  if (subject.kind === 'node') return [`URI:${nodeBindingUri(subject.cluster, subject.node)}`];
  if (subject.addresses.length === 0) throw new Error('a server certificate needs at least one address (IP or DNS name) it is reached at');
  return [`URI:${SERVER_BINDING_URI}`, ...subject.addresses.map((a) => {
    if (isIP(a)) return `IP:${a}`;
    if (/^[A-Za-z0-9*]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(a)) return `DNS:${a}`;
    throw new Error(`"${a}" is neither an IP address nor a DNS name`);
  })];
}

/** Why an existing certificate cannot be kept for `subject`, or undefined when it can. */
function existingProblem(certFile: string, ca: CaFiles, subject: CertSubject): string | undefined {
  const cert = new X509Certificate(readFileSync(certFile));
  const caCert = new X509Certificate(readFileSync(ca.certFile));
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return `is not signed by ${ca.certFile}`;
  if (new Date(cert.validTo).getTime() <= Date.now()) return `expired on ${cert.validTo}`;
  const have = parseBindings(cert.subjectAltName).bindings.map(describeBinding);
  const want = subject.kind === 'node' ? nodeBindingUri(subject.cluster, subject.node) : SERVER_BINDING_URI;
  if (have.length !== 1 || have[0] !== want) return `binds ${have.join(', ') || 'nothing'}, not ${want}`;
  if (subject.kind === 'server') {
    const sans = cert.subjectAltName ?? '';
    const missing = subject.addresses.filter((a) => !sans.includes(isIP(a) ? `IP Address:${a}` : `DNS:${a}`));
    if (missing.length > 0) return `does not list ${missing.join(', ')}`;
  }
  return undefined;
}

function caConfig(commonName: string): string {
  return [
    '[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${commonName}`,
    '[ca_ext]',
    'basicConstraints = critical, CA:TRUE, pathlen:0',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    '',
  ].join('\n');
}

function leafConfig(commonName: string, sans: readonly string[], kind: CertSubject['kind']): string {
  return [
    '[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${commonName}`,
    '[leaf_ext]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    // Nodes both call (quorum requests, heartbeats) and serve (heartbeats); the quorum server only serves.
    `extendedKeyUsage = ${kind === 'node' ? 'serverAuth, clientAuth' : 'serverAuth'}`,
    `subjectAltName = ${sans.join(', ')}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    '',
  ].join('\n');
}

async function newKey(): Promise<Buffer> {
  return runOpenssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
}

/** Created 0600 from the first byte; chmod as well in case the file was left over. */
function writePrivate(file: string, data: Buffer): void {
  writeFileSync(file, data, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** 127 random bits: unique serials without a serial file; the top bit clear keeps it positive. */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

async function withScratch<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'quorate-certs-'));
  try {
    return await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
