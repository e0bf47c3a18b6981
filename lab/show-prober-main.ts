/**
 * The show's client prober, run inside the client namespace for the whole show: every
 * `--interval` ms it sends one HTTP GET to each `--target NAME=ADDRESS:PORT`, each on a new
 * connection (no keep-alive: a kept connection would stay pinned to one site and hide a route
 * change), and prints one JSON line per finished probe (lab/show-probe-wire.ts). A probe is
 * sent on schedule even while earlier ones hang (a dropped route answers nothing), so the
 * send times cover the outage evenly. One long-running process instead of a curl per probe:
 * spawning curl 80 times a second would cost more CPU than the lab itself.
 *
 *   node dist/lab/show-prober-main.js --target web=203.0.113.10:80 --target db=203.0.113.20:80
 */
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import type { ProbeResult } from './show-probe-wire.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string', multiple: true },
    interval: { type: 'string', default: '25' },
    timeout: { type: 'string', default: '1000' },
  },
});
const interval = Number(values.interval);
const timeout = Number(values.timeout);
const targets = (values.target ?? []).map((spec) => {
  const m = /^([a-z0-9-]+)=([0-9.]+):(\d+)$/.exec(spec);
  if (!m) {
    process.stderr.write(`show-prober: --target must be NAME=ADDRESS:PORT, got "${spec}"\n`);
    process.exit(2);
  }
  return { name: m[1]!, host: m[2]!, port: Number(m[3]) };
});
if (targets.length === 0 || !(interval > 0) || !(timeout > 0)) {
  process.stderr.write('show-prober: needs at least one --target and a positive --interval and --timeout (ms)\n');
  process.exit(2);
}

function emit(result: ProbeResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function probe(target: (typeof targets)[number]): void {
  const sentAt = Date.now();
  let done = false;
  const finish = (result: Omit<ProbeResult, 'svc' | 'sentAt'>): void => {
    if (done) return;
    done = true;
    emit({ svc: target.name, sentAt, ...result });
  };
  const req = request({ host: target.host, port: target.port, path: '/', agent: false, headers: { connection: 'close' }, timeout }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => finish(res.statusCode === 200 ? { ok: true, body: body.trim() } : { ok: false, error: `HTTP ${res.statusCode}` }));
    res.on('error', (err) => finish({ ok: false, error: err.message }));
  });
  req.on('timeout', () => req.destroy(new Error(`no answer within ${timeout} ms`)));
  req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: err.code ?? err.message }));
  req.end();
}

const timer = setInterval(() => {
  for (const t of targets) probe(t);
}, interval);
const stop = (): void => {
  clearInterval(timer);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
