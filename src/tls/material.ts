/**
 * The CA, certificate and key of one process, read once at start. Every problem is reported
 * naming the file, because "bad certificate" without a path costs an operator an hour.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TlsConfig } from '../config/types.js';
import { describeBinding, parseBindings, type Binding } from './binding.js';

export class TlsFileError extends Error {
  constructor(readonly file: string, readonly role: 'ca' | 'cert' | 'key', problem: string) {
    super(`tls.${role} ${file}: ${problem}`);
    this.name = 'TlsFileError';
  }
}

export interface TlsMaterial {
  readonly ca: Buffer;
  /** The leaf first, then any intermediates, as read. */
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly files: { readonly ca: string; readonly cert: string; readonly key: string };
  /** What our own certificate binds (for the start line, and to check it against the config). */
  readonly bindings: readonly Binding[];
  readonly notAfter: Date;
}

/** Either mutual TLS with this material, or the lab-only insecure mode (see warnInsecure). */
export type TlsSetup = { readonly insecure: true } | { readonly insecure: false; readonly material: TlsMaterial };

/** Reads and checks the three files of a TlsConfig (or nothing, when insecure). Throws TlsFileError. */
export function loadTls(config: TlsConfig): TlsSetup {
  if (config.insecure) return { insecure: true };
  const missing = (['ca', 'cert', 'key'] as const).filter((k) => !config[k]);
  if (missing.length > 0) {
    throw new Error(`tls: ${missing.map((k) => `tls.${k}`).join(', ')} missing (mutual TLS needs ca, cert and key; or tls.insecure: true for a lab)`);
  }
  return { insecure: false, material: loadTlsMaterial({ ca: config.ca!, cert: config.cert!, key: config.key! }) };
}

export function loadTlsMaterial(files: { ca: string; cert: string; key: string }): TlsMaterial {
  const ca = readPem(files.ca, 'ca', /-----BEGIN CERTIFICATE-----/);
  const cert = readPem(files.cert, 'cert', /-----BEGIN CERTIFICATE-----/);
  const key = readPem(files.key, 'key', /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/);

  const caCert = parseCertificate(ca, files.ca, 'ca');
  if (!caCert.ca) throw new TlsFileError(files.ca, 'ca', `"${caCert.subject}" is not a CA certificate (basicConstraints CA:TRUE missing)`);
  const leaf = parseCertificate(cert, files.cert, 'cert');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new TlsFileError(files.key, 'key', `not a usable private key (${(err as Error).message}); an encrypted key is not supported`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsFileError(files.key, 'key', `does not belong to the certificate ${files.cert}`);
  }
  // Checked here so a wrong CA file shows at start, not as refused connections later.
  if (!leaf.checkIssued(caCert) || !leaf.verify(caCert.publicKey)) {
    throw new TlsFileError(files.cert, 'cert', `is not signed by the CA in ${files.ca} (issuer "${leaf.issuer}")`);
  }
  const { bindings, malformed } = parseBindings(leaf.subjectAltName);
  if (malformed.length > 0) throw new TlsFileError(files.cert, 'cert', `malformed quorate binding ${malformed.join(', ')}`);
  return { ca, cert, key, files: { ...files }, bindings, notAfter: new Date(leaf.validTo) };
}

function readPem(file: string, role: 'ca' | 'cert' | 'key', marker: RegExp): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TlsFileError(file, role, `cannot read (${code ?? (err as Error).message})`);
  }
  if (!marker.test(data.toString('latin1'))) {
    throw new TlsFileError(file, role, role === 'key' ? 'not a PEM private key' : 'not a PEM certificate');
  }
  return data;
}

function parseCertificate(pem: Buffer, file: string, role: 'ca' | 'cert'): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new TlsFileError(file, role, `not a readable certificate (${(err as Error).message})`);
  }
}

/**
 * Checked at start: our own certificate must bind what the config says we are, or every peer
 * would refuse us later with a less obvious message. undefined when it does (or when insecure).
 */
export function ownBindingProblem(tls: TlsSetup, expected: Binding): string | undefined {
  if (tls.insecure) return undefined;
  const { bindings, files } = tls.material;
  const want = describeBinding(expected);
  const have = bindings.map(describeBinding);
  if (have.length === 1 && have[0] === want) return undefined;
  return `tls.cert ${files.cert} binds ${have.join(', ') || 'no quorate identity'}, but this process is ${want} (issue it with: quorate certs ${
    expected.kind === 'node' ? `--cluster ${expected.cluster} --node ${expected.node}` : '--server --address ADDRESS'})`;
}
