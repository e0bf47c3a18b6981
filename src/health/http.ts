/**
 * http check: GET the URL over a fresh connection (no agent, so no socket is pooled across
 * probes and every probe really tests connecting), expect a status, optionally match the body.
 */
import http from 'node:http';
import https from 'node:https';
import type { CheckSpec } from '../config/types.js';
import { abortDescription, type ProbeResult } from './probe.js';

export type HttpCheckSpec = Extract<CheckSpec, { kind: 'http' }>;

/** Enough for any health page; a service that streams megabytes must not cost us memory. */
export const MAX_BODY_BYTES = 64 * 1024;

export function probeHttp(spec: HttpCheckSpec, signal: AbortSignal): Promise<ProbeResult> {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    return Promise.resolve({ ok: false, detail: `bad URL ${spec.url}` });
  }
  if (signal.aborted) return Promise.resolve({ ok: false, detail: `GET ${spec.url}: ${abortDescription(signal)}` });
  const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
  if (!client) return Promise.resolve({ ok: false, detail: `unsupported URL scheme ${url.protocol}` });

  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      // The answer is known: close the connection rather than read the rest or keep it.
      request.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish({ ok: false, detail: `GET ${spec.url}: ${abortDescription(signal)}` });

    const request = client.request(url, {
      method: 'GET',
      agent: false,
      headers: { 'user-agent': 'quorate-health-check', connection: 'close', ...spec.headers },
      // Only meaningful for https; an operator opts in for self-signed service certificates.
      rejectUnauthorized: !spec.insecureTls,
    });
    signal.addEventListener('abort', onAbort, { once: true });
    request.once('error', (err) => finish({ ok: false, detail: err.message }));
    request.once('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status !== spec.status) {
        finish({ ok: false, detail: `HTTP ${status} (expected ${spec.status})` });
        return;
      }
      const bodyMatch = spec.bodyMatch;
      if (!bodyMatch) {
        finish({ ok: true, detail: `HTTP ${status}` });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const judge = (truncated: boolean): void => {
        const body = Buffer.concat(chunks, size).subarray(0, MAX_BODY_BYTES).toString('utf8');
        // search() ignores lastIndex, so a /g or /y pattern cannot carry state between probes.
        const matched = body.search(bodyMatch) >= 0;
        const scope = truncated ? ` (first ${MAX_BODY_BYTES} bytes)` : '';
        finish(matched
          ? { ok: true, detail: `HTTP ${status}, body matched ${bodyMatch}` }
          : { ok: false, detail: `HTTP ${status}, body did not match ${bodyMatch}${scope}` });
      };
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_BODY_BYTES) judge(true);
      });
      response.once('end', () => judge(false));
      response.once('error', (err) => finish({ ok: false, detail: `HTTP ${status}, reading body: ${err.message}` }));
      // A no-op once settled; otherwise the server hung up mid-body.
      response.once('close', () => finish({ ok: false, detail: `HTTP ${status}, connection closed before the body ended` }));
    });
    request.end();
  });
}
