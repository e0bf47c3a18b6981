/**
 * The tcp and http(s) probes against real servers on 127.0.0.1.
 */
import { rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { probeHttp, type HttpCheckSpec } from '../src/health/http.js';
import { ProbeTimeout } from '../src/health/probe.js';
import { probeTcp } from '../src/health/tcp.js';
import { makeSelfSignedCert } from './fixtures/self-signed-cert.js';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on: bind one, then let it go. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await close(s);
  return port;
}

const never = new AbortController().signal;

/** Waits (up to a generous bound) until the server side counts no open connection. */
async function untilNoConnections(server: net.Server): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const open = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
    if (open === 0 || Date.now() > deadline) return open;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('tcp probe (real listener)', () => {
  let server: net.Server;
  let port: number;
  let accepted = 0;
  beforeAll(async () => {
    server = net.createServer((socket) => {
      accepted++;
      socket.on('error', () => {});
    });
    port = await listen(server);
  });
  afterAll(() => close(server));

  it('passes when the port accepts, and does not keep the connection', async () => {
    const result = await probeTcp({ kind: 'tcp', host: '127.0.0.1', port }, never);
    expect(result).toEqual({ ok: true, detail: `connected to 127.0.0.1:${port}` });
    expect(await untilNoConnections(server)).toBe(0);
    expect(accepted).toBe(1);
  });

  it('fails with the error it saw when nothing listens', async () => {
    const closed = await freePort();
    const result = await probeTcp({ kind: 'tcp', host: '127.0.0.1', port: closed }, never);
    expect(result).toEqual({ ok: false, detail: `connect ECONNREFUSED 127.0.0.1:${closed}` });
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    controller.abort(new ProbeTimeout(ms(300)));
    const result = await probeTcp({ kind: 'tcp', host: '127.0.0.1', port }, controller.signal);
    expect(result).toEqual({ ok: false, detail: `connect 127.0.0.1:${port}: timeout 300ms` });
  });
});

/** One handler for the plain and the TLS server: path decides the answer. */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '/';
  if (url === '/healthz') return void res.writeHead(200).end('status: ok\n');
  if (url === '/down') return void res.writeHead(503).end('maintenance\n');
  if (url === '/sick') return void res.writeHead(200).end('status: degraded\n');
  if (url === '/header') return void res.writeHead(req.headers['x-check'] === 'quorate' ? 200 : 400).end();
  if (url === '/huge') {
    // 1 MiB of filler, then the word the check looks for: beyond what a probe reads.
    res.writeHead(200);
    res.write(Buffer.alloc(1024 * 1024, 'x'));
    return void res.end('ok');
  }
  if (url === '/hang') return; // never answers
  res.writeHead(404).end();
}

function httpSpec(url: string, extra: Partial<HttpCheckSpec> = {}): HttpCheckSpec {
  return { kind: 'http', url, status: 200, insecureTls: false, headers: {}, ...extra };
}

describe('http probe (real server)', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer(handler);
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return close(server);
  });

  it('passes on the expected status', async () => {
    expect(await probeHttp(httpSpec(`${base}/healthz`), never)).toEqual({ ok: true, detail: 'HTTP 200' });
  });

  it('fails on another status and says which', async () => {
    expect(await probeHttp(httpSpec(`${base}/down`), never)).toEqual({ ok: false, detail: 'HTTP 503 (expected 200)' });
    expect(await probeHttp(httpSpec(`${base}/down`, { status: 503 }), never)).toEqual({ ok: true, detail: 'HTTP 503' });
  });

  it('matches the body when asked to', async () => {
    const bodyMatch = /status: ok/;
    expect(await probeHttp(httpSpec(`${base}/healthz`, { bodyMatch }), never)).toEqual({ ok: true, detail: 'HTTP 200, body matched /status: ok/' });
    expect(await probeHttp(httpSpec(`${base}/sick`, { bodyMatch }), never)).toEqual({ ok: false, detail: 'HTTP 200, body did not match /status: ok/' });
  });

  it('reads at most 64 KiB of body', async () => {
    const result = await probeHttp(httpSpec(`${base}/huge`, { bodyMatch: /ok/ }), never);
    expect(result).toEqual({ ok: false, detail: 'HTTP 200, body did not match /ok/ (first 65536 bytes)' });
  });

  it('sends the configured headers', async () => {
    expect((await probeHttp(httpSpec(`${base}/header`), never)).ok).toBe(false);
    expect(await probeHttp(httpSpec(`${base}/header`, { headers: { 'X-Check': 'quorate' } }), never)).toEqual({ ok: true, detail: 'HTTP 200' });
  });

  it('reports a refused connection', async () => {
    const port = await freePort();
    expect(await probeHttp(httpSpec(`http://127.0.0.1:${port}/`), never)).toEqual({ ok: false, detail: `connect ECONNREFUSED 127.0.0.1:${port}` });
  });

  it('gives up on a server that never answers when aborted, closing the connection', async () => {
    const controller = new AbortController();
    const pending = probeHttp(httpSpec(`${base}/hang`), controller.signal);
    await new Promise((r) => setTimeout(r, 100));
    controller.abort(new ProbeTimeout(ms(100)));
    expect(await pending).toEqual({ ok: false, detail: `GET ${base}/hang: timeout 100ms` });
    expect(await untilNoConnections(server)).toBe(0);
  });
});

const tls = makeSelfSignedCert('health');
if (!tls) console.warn('health-tcp-http: skipping https probe tests: openssl could not make a certificate');

describe.skipIf(!tls)('https probe (real TLS server, self-signed certificate)', () => {
  let server: https.Server;
  let base: string;
  beforeAll(async () => {
    server = https.createServer({ key: tls!.key, cert: tls!.cert }, handler);
    base = `https://127.0.0.1:${await listen(server)}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await close(server);
    rmSync(tls!.dir, { recursive: true, force: true });
  });

  it('refuses an unverifiable certificate by default', async () => {
    const result = await probeHttp(httpSpec(`${base}/healthz`), never);
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/self[- ]signed certificate/);
  });

  it('passes with insecureTls, still judging status and body', async () => {
    expect(await probeHttp(httpSpec(`${base}/healthz`, { insecureTls: true, bodyMatch: /ok/ }), never)).toEqual({ ok: true, detail: 'HTTP 200, body matched /ok/' });
    expect(await probeHttp(httpSpec(`${base}/down`, { insecureTls: true }), never)).toEqual({ ok: false, detail: 'HTTP 503 (expected 200)' });
  });
});
