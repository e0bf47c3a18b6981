/**
 * HealthMonitor on the real clock with real probes: a service behind a real HTTP server goes
 * healthy after `rise` passes and unhealthy after `fall` failures; stop() leaves no exec child
 * behind.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckConfig, ServiceConfig } from '../src/config/types.js';
import { ms } from '../src/core/duration.js';
import { serviceName } from '../src/core/ids.js';
import { HealthMonitor, type ServiceHealthChange } from '../src/health/monitor.js';

const WEB = serviceName('web');
const dir = mkdtempSync(join(tmpdir(), 'quorate-health-live-'));
const grandchildren: number[] = [];

function service(checks: CheckConfig[]): ServiceConfig {
  return {
    name: WEB, prefixes: [], mode: 'anycast', priority: 100, preempt: true, via: ['bgp'], checks,
    bgp: { origin: 'igp', communities: [], largeCommunities: [], asPathPrepend: 0 },
  };
}

/** Resolves with the next change, or rejects after a generous bound. */
function nextChange(queue: ServiceHealthChange[], waiters: ((c: ServiceHealthChange) => void)[]): Promise<ServiceHealthChange> {
  const queued = queue.shift();
  if (queued) return Promise.resolve(queued);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no health change within 10 s')), 10_000);
    waiters.push((c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
}

function changeFeed() {
  const queue: ServiceHealthChange[] = [];
  const waiters: ((c: ServiceHealthChange) => void)[] = [];
  return {
    onChange: (c: ServiceHealthChange) => {
      const waiter = waiters.shift();
      if (waiter) waiter(c);
      else queue.push(c);
    },
    next: () => nextChange(queue, waiters),
  };
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

describe('HealthMonitor with real probes', () => {
  let server: http.Server;
  let status = 200;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((_req, res) => res.writeHead(status).end());
    port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    for (const pid of grandchildren) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows a real HTTP service up and down, with the cause an operator needs', async () => {
    const feed = changeFeed();
    const url = `http://127.0.0.1:${port}/healthz`;
    const monitor = new HealthMonitor([service([
      { kind: 'http', url, status: 200, insecureTls: false, headers: {}, interval: ms(50), timeout: ms(500), rise: 2, fall: 2 },
    ])], { onChange: feed.onChange });
    monitor.start();
    try {
      const up = await feed.next();
      expect(up).toMatchObject({ service: WEB, healthy: true, check: `http ${url}` });
      expect(up.cause).toBe(`http ${url}: HTTP 200, 2 passes in a row (rise 2)`);
      expect(monitor.isHealthy(WEB)).toBe(true);

      status = 503;
      const down = await feed.next();
      expect(down.healthy).toBe(false);
      expect(down.cause).toBe(`http ${url}: HTTP 503 (expected 200), 2 failures in a row (fall 2)`);
      expect(down.outcome.endedAt).toBeGreaterThanOrEqual(down.outcome.startedAt);
      const [snap] = monitor.snapshot();
      expect(snap).toMatchObject({ service: WEB, healthy: false });
      expect(snap!.checks[0]).toMatchObject({ up: false, rise: 2, fall: 2, lastOutcome: { ok: false, detail: 'HTTP 503 (expected 200)' } });
    } finally {
      status = 200;
      await monitor.stop();
    }
  });

  it('a hung exec check fails at its timeout with its kill reported; stop() leaves no process behind', async () => {
    const feed = changeFeed();
    const pidFile = join(dir, 'hung.pid');
    const monitor = new HealthMonitor([service([
      // Healthy first (rise 1), then the script hangs with a sleeping grandchild.
      { kind: 'exec', command: ['sh', '-c', `if [ -e ${pidFile} ]; then sleep 300 & echo $! >> ${pidFile}; wait; fi; touch ${pidFile}`], env: {},
        interval: ms(100), timeout: ms(300), rise: 1, fall: 1 },
    ])], { onChange: feed.onChange });
    monitor.start();
    try {
      expect((await feed.next()).healthy).toBe(true);
      const down = await feed.next();
      expect(down.healthy).toBe(false);
      expect(down.outcome.detail).toMatch(/^killed after timeout 300ms \(process group \d+\)$/);
    } finally {
      await monitor.stop();
    }
    const pids = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number) : [];
    grandchildren.push(...pids);
    expect(pids.length).toBeGreaterThan(0);
    // Every grandchild the runs started is gone once stop() has resolved (allow the kernel a moment).
    const deadline = Date.now() + 5000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(pids.filter(alive)).toEqual([]);
  });
});
