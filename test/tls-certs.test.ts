/**
 * `quorate certs` (runCertsCommand) with Debian's openssl, the files it writes, and how
 * loadTls reports unusable TLS files; plus the parsing of bindings (unit level).
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterName, nodeId } from '../src/core/ids.js';
import { parseBindings } from '../src/tls/binding.js';
import { runCertsCommand } from '../src/tls/certs-command.js';
import { serverBindingProblem } from '../src/tls/credentials.js';
import { loadTls, ownBindingProblem } from '../src/tls/material.js';
import { identifyCaller, identifyCertificate } from '../src/tls/peer-identity.js';
import { RefusalRecorder, tlsRefusals } from '../src/tls/refusals.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!haveOpenssl) console.warn('tls-certs: openssl tests skipped — the openssl CLI (Debian package "openssl") is not installed');

describe.skipIf(!haveOpenssl)('quorate certs (openssl)', () => {
  let dir: string;
  const printed: string[] = [];
  const print = (line: string) => printed.push(line);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'quorate-tls-certs-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('makes a CA, node certificates binding cluster and node, and a server certificate, keys 0600', async () => {
    const result = await runCertsCommand({ dir, cluster: 'payments', nodes: ['ny-1', 'nj-1'], server: true, addresses: ['203.0.113.250', 'quorum.example.net'], print });
    expect(result.files.map((f) => [f.file, f.action, f.binds])).toEqual([
      [join(dir, 'ny-1.pem'), 'created', 'urn:quorate:node:payments:ny-1'],
      [join(dir, 'nj-1.pem'), 'created', 'urn:quorate:node:payments:nj-1'],
      [join(dir, 'quorum-server.pem'), 'created', 'urn:quorate:server'],
    ]);
    for (const key of ['ca.key', 'ny-1.key', 'nj-1.key', 'quorum-server.key']) {
      expect((statSync(join(dir, key)).mode & 0o777).toString(8)).toBe('600');
    }
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.pem')));
    expect(ca.ca).toBe(true);
    const ny = new X509Certificate(readFileSync(join(dir, 'ny-1.pem')));
    expect(ny.subjectAltName).toBe('URI:urn:quorate:node:payments:ny-1');
    expect(ny.subject).toBe('CN=ny-1');
    expect(ny.checkIssued(ca) && ny.verify(ca.publicKey)).toBe(true);
    const server = new X509Certificate(readFileSync(join(dir, 'quorum-server.pem')));
    expect(server.subjectAltName).toBe('URI:urn:quorate:server, IP Address:203.0.113.250, DNS:quorum.example.net');
    // openssl itself agrees the chain is good (what a real PKI's tools would check).
    const verify = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'ny-1.pem'), join(dir, 'quorum-server.pem')], { encoding: 'utf8' });
    expect(verify.stdout).toContain(`${join(dir, 'ny-1.pem')}: OK`);
    expect(verify.stdout).toContain(`${join(dir, 'quorum-server.pem')}: OK`);
    // And what loadTls reads back is the node's own binding.
    const setup = loadTls({ ca: join(dir, 'ca.pem'), cert: join(dir, 'ny-1.pem'), key: join(dir, 'ny-1.key'), insecure: false });
    expect(setup.insecure ? [] : setup.material.bindings).toEqual([{ kind: 'node', cluster: 'payments', node: 'ny-1' }]);
  });

  it('is idempotent: the CA is reused and matching certificates are kept byte for byte', async () => {
    const before = ['ca.pem', 'ca.key', 'ny-1.pem', 'ny-1.key'].map((f) => readFileSync(join(dir, f)));
    printed.length = 0;
    const result = await runCertsCommand({ dir, cluster: 'payments', nodes: ['ny-1', 'bos-1'], print });
    expect(result.files.map((f) => f.action)).toEqual(['kept', 'created']);
    expect(['ca.pem', 'ca.key', 'ny-1.pem', 'ny-1.key'].map((f) => readFileSync(join(dir, f)))).toEqual(before);
    expect(printed[0]).toMatch(/^kept +.*ca\.pem/);
    const bos = new X509Certificate(readFileSync(join(dir, 'bos-1.pem')));
    expect(bos.checkIssued(new X509Certificate(before[0]!))).toBe(true);
  });

  it('refuses to overwrite a certificate that binds something else, and renews on request', async () => {
    await expect(runCertsCommand({ dir, cluster: 'ledger', nodes: ['ny-1'], print }))
      .rejects.toThrow(`${join(dir, 'ny-1.pem')} exists but binds urn:quorate:node:payments:ny-1, not urn:quorate:node:ledger:ny-1`);
    const old = readFileSync(join(dir, 'nj-1.pem'));
    const renewed = await runCertsCommand({ dir, cluster: 'payments', nodes: ['nj-1'], renew: true, print });
    expect(renewed.files[0]!.action).toBe('created');
    expect(readFileSync(join(dir, 'nj-1.pem')).equals(old)).toBe(false);
  });

  it('tells a process whose own certificate binds another identity, at start', () => {
    const setup = loadTls({ ca: join(dir, 'ca.pem'), cert: join(dir, 'ny-1.pem'), key: join(dir, 'ny-1.key'), insecure: false });
    expect(ownBindingProblem(setup, { kind: 'node', cluster: clusterName('payments'), node: nodeId('ny-1') })).toBeUndefined();
    expect(ownBindingProblem(setup, { kind: 'node', cluster: clusterName('payments'), node: nodeId('nj-1') })).toBe(
      `tls.cert ${join(dir, 'ny-1.pem')} binds urn:quorate:node:payments:ny-1, but this process is urn:quorate:node:payments:nj-1 (issue it with: quorate certs --cluster payments --node nj-1)`);
    expect(ownBindingProblem(setup, { kind: 'server' })).toMatch(/but this process is urn:quorate:server/);
    expect(ownBindingProblem(loadTls({ insecure: true }), { kind: 'server' })).toBeUndefined();
  });

  it('rejects incomplete or invalid options with a message for the user', async () => {
    await expect(runCertsCommand({ dir, nodes: ['ny-1'], print })).rejects.toThrow('--node needs --cluster NAME');
    await expect(runCertsCommand({ dir, server: true, print })).rejects.toThrow('--server needs --address');
    await expect(runCertsCommand({ dir, cluster: 'pay:ments', nodes: ['ny-1'], print })).rejects.toThrow('--cluster "pay:ments"');
    await expect(runCertsCommand({ dir, server: true, addresses: ['not an address'], print })).rejects.toThrow('neither an IP address nor a DNS name');
  });

  describe('loadTls names the file that is wrong', () => {
    const files = () => ({ ca: join(dir, 'ca.pem'), cert: join(dir, 'ny-1.pem'), key: join(dir, 'ny-1.key'), insecure: false });

    it('an unreadable file', () => {
      expect(() => loadTls({ ...files(), cert: join(dir, 'missing.pem') })).toThrow(`tls.cert ${join(dir, 'missing.pem')}: cannot read (ENOENT)`);
      const locked = join(dir, 'locked.key');
      copyFileSync(join(dir, 'ny-1.key'), locked);
      chmodSync(locked, 0o000);
      // root reads anything: only assert the refusal where permissions apply.
      if (process.getuid?.() !== 0) expect(() => loadTls({ ...files(), key: locked })).toThrow(`tls.key ${locked}: cannot read (EACCES)`);
    });

    it('a file that is not PEM', () => {
      const junk = join(dir, 'junk.pem');
      writeFileSync(junk, 'hello\n');
      expect(() => loadTls({ ...files(), ca: junk })).toThrow(`tls.ca ${junk}: not a PEM certificate`);
      expect(() => loadTls({ ...files(), key: junk })).toThrow(`tls.key ${junk}: not a PEM private key`);
    });

    it('a key of another certificate, a node certificate given as the CA, a certificate of another CA', async () => {
      expect(() => loadTls({ ...files(), key: join(dir, 'nj-1.key') })).toThrow(`tls.key ${join(dir, 'nj-1.key')}: does not belong to the certificate ${join(dir, 'ny-1.pem')}`);
      expect(() => loadTls({ ...files(), ca: join(dir, 'nj-1.pem') })).toThrow(`tls.ca ${join(dir, 'nj-1.pem')}: "CN=nj-1" is not a CA certificate`);
      const other = join(dir, 'other');
      await runCertsCommand({ dir: other, cluster: 'payments', nodes: ['ny-1'], print });
      expect(() => loadTls({ ...files(), ca: join(other, 'ca.pem') })).toThrow(`tls.cert ${join(dir, 'ny-1.pem')}: is not signed by the CA in ${join(other, 'ca.pem')}`);
    });

    it('missing files without insecure', () => {
      expect(() => loadTls({ ca: join(dir, 'ca.pem'), insecure: false })).toThrow('tls.cert, tls.key missing');
    });
  });
});

describe('bindings (unit)', () => {
  it('parses node and server URIs among other SANs, and reports malformed quorate URIs', () => {
    expect(parseBindings('DNS:a.example, URI:urn:quorate:node:payments:ny-1, IP Address:192.0.2.1')).toEqual({
      bindings: [{ kind: 'node', cluster: 'payments', node: 'ny-1' }], malformed: [],
    });
    expect(parseBindings('URI:urn:quorate:server')).toEqual({ bindings: [{ kind: 'server' }], malformed: [] });
    expect(parseBindings('URI:urn:quorate:node:payments:ny-1:extra, URI:urn:quorate:node:payments')).toEqual({
      bindings: [], malformed: ['urn:quorate:node:payments:ny-1:extra', 'urn:quorate:node:payments'],
    });
    expect(parseBindings('URI:https://example.com/, URI:urn:other:x')).toEqual({ bindings: [], malformed: [] });
    expect(parseBindings(undefined)).toEqual({ bindings: [], malformed: [] });
  });

  it('does not let a quoted SAN with a comma smuggle a second binding', () => {
    // Node quotes a SAN value containing ", "; split naively this would read as a binding.
    const san = '"URI:x, URI:urn:quorate:node:payments:ny-1"';
    expect(parseBindings(san)).toEqual({ bindings: [], malformed: [] });
  });

  it('identifies exactly one node binding, refusing none, several, or a malformed one', () => {
    const cert = (subjectaltname: string) => ({ subjectaltname, subject: { CN: 'x' } as never });
    expect(identifyCertificate(cert('URI:urn:quorate:node:payments:ny-1'))).toEqual({ cluster: 'payments', node: 'ny-1' });
    expect(identifyCertificate(cert('DNS:x.example'))).toMatchObject({ reason: 'no-binding', refused: 'certificate "x" binds no node' });
    expect(identifyCertificate(cert('URI:urn:quorate:node:payments:ny-1, URI:urn:quorate:server'))).toMatchObject({ reason: 'no-binding' });
    expect(identifyCertificate(cert('URI:urn:quorate:node:pay ments:ny-1'))).toMatchObject({ reason: 'no-binding' });
  });

  it('identifyCaller gives the identity, or undefined after counting and logging the refusal', async () => {
    const registry = new Registry();
    const lines: string[] = [];
    const recorder = new RefusalRecorder(registry, pino({ level: 'info' }, { write: (l: string) => lines.push(l) }));
    const identify = identifyCaller(recorder);
    const call = (subjectaltname?: string) => ({
      getAuthContext: () => (subjectaltname === undefined ? {} : { sslPeerCertificate: { subjectaltname, subject: { CN: 'c' } } as PeerCertificate }),
      getPeer: () => '192.0.2.7:4711',
    });
    expect(identify(call('URI:urn:quorate:node:payments:ny-1'))).toEqual({ cluster: 'payments', node: 'ny-1' });
    expect(identify(call())).toBeUndefined();
    expect(identify(call('URI:urn:quorate:server'))).toBeUndefined();
    const values = (await tlsRefusals(registry).get()).values;
    expect(values.map((v) => [v.labels.reason, v.value])).toEqual([['no-certificate', 1], ['no-binding', 1]]);
    expect(lines.map((l) => (JSON.parse(l) as { peer: string }).peer)).toEqual(['192.0.2.7:4711', '192.0.2.7:4711']);
  });

  it('checks a server certificate against whom the client meant to reach', () => {
    const cert = (subjectaltname: string) => ({ subjectaltname, subject: { CN: 'qs' } as never });
    expect(serverBindingProblem(cert('URI:urn:quorate:server, IP Address:192.0.2.1'), { role: 'quorum-server' })).toBeUndefined();
    expect(serverBindingProblem(cert('IP Address:192.0.2.1'), { role: 'quorum-server' }))
      .toBe('server certificate "qs" does not bind urn:quorate:server (it has no quorate binding)');
    expect(serverBindingProblem(cert('URI:urn:quorate:server, URI:urn:quorate:node:payments:ny-1'), { role: 'quorum-server' })).toMatch(/does not bind/);
  });
});
