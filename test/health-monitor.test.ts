/**
 * HealthMonitor with a manual clock and scripted probers: rise/fall hysteresis, the initial
 * DOWN state, scheduling (no overlap, no drift), timeouts of hung probes, stop().
 * (The probes themselves are tested against real servers in health-probes.test.ts.)
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CheckConfig, ServiceConfig } from '../src/config/types.js';
import { ms } from '../src/core/duration.js';
import { serviceName } from '../src/core/ids.js';
import { HealthMonitor, type ServiceHealthChange } from '../src/health/monitor.js';
import { ManualClock } from '../src/health/manual-clock.js';
import type { Prober, ProbeResult } from '../src/health/probe.js';

const WEB = serviceName('web');

function tcpCheck(port: number, timing: Partial<{ interval: number; timeout: number; rise: number; fall: number }> = {}): CheckConfig {
  return {
    kind: 'tcp', host: '127.0.0.1', port,
    interval: ms(timing.interval ?? 1000), timeout: ms(timing.timeout ?? 500), rise: timing.rise ?? 2, fall: timing.fall ?? 2,
  };
}

function service(name: string, checks: CheckConfig[]): ServiceConfig {
  return {
    name: serviceName(name), prefixes: [], mode: 'anycast', priority: 100, preempt: true, via: ['bgp'], checks,
    bgp: { origin: 'igp', communities: [], largeCommunities: [], asPathPrepend: 0 },
  };
}

/**
 * A prober whose answers the test sets: `answer` is what the next probes return after
 * `latency` ms of the manual clock; `hang` makes probes never answer (and ignore the signal).
 */
class ScriptedProber implements Prober {
  answer: ProbeResult = { ok: true, detail: 'fine' };
  latency = 10;
  hang = false;
  started: number[] = [];
  running = 0;
  maxRunning = 0;
  aborted = 0;
  closed = false;
  constructor(private readonly clock: ManualClock) {}

  probe(signal: AbortSignal): Promise<ProbeResult> {
    this.started.push(this.clock.now());
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    signal.addEventListener('abort', () => this.aborted++);
    if (this.hang) return new Promise(() => {});
    const answer = this.answer;
    // A well-behaved probe: answers after `latency`, or at once when aborted.
    return new Promise((resolve) => {
      let done = false;
      const finish = (result: ProbeResult): void => {
        if (done) return;
        done = true;
        cancel();
        this.running--;
        resolve(result);
      };
      const cancel = this.clock.schedule(this.latency, () => finish(answer));
      signal.addEventListener('abort', () => finish({ ok: false, detail: 'aborted' }));
    });
  }

  close(): void {
    this.closed = true;
  }
}

function setup(services: ServiceConfig[]) {
  const clock = new ManualClock();
  const probers = new Map<number, ScriptedProber>();
  const changes: ServiceHealthChange[] = [];
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const monitor = new HealthMonitor(services, {
    clock,
    logger: pino({ level: 'info' }, sink),
    onChange: (c) => changes.push(c),
    proberFor: (check) => {
      const prober = new ScriptedProber(clock);
      if (check.kind === 'tcp') probers.set(check.port, prober);
      return prober;
    },
  });
  const prober = (port: number): ScriptedProber => probers.get(port)!;
  return { clock, monitor, prober, changes, lines };
}

describe('HealthMonitor (manual clock)', () => {
  it('starts DOWN and turns healthy only after `rise` passes; first run is immediate', async () => {
    const { clock, monitor, prober, changes } = setup([service('web', [tcpCheck(1, { rise: 3 })])]);
    monitor.start();
    expect(prober(1).started).toEqual([clock.now()]);
    expect(monitor.isHealthy(WEB)).toBe(false);

    await clock.advance(1100); // second pass
    expect(monitor.isHealthy(WEB)).toBe(false);
    expect(monitor.snapshot()[0]!.checks[0]).toMatchObject({ up: false, consecutivePasses: 2, consecutiveFails: 0 });

    await clock.advance(1000); // third pass: rise 3
    expect(monitor.isHealthy(WEB)).toBe(true);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ service: WEB, healthy: true, check: 'tcp 127.0.0.1:1' });
    expect(changes[0]!.cause).toBe('tcp 127.0.0.1:1: fine, 3 passes in a row (rise 3)');
    await monitor.stop();
  });

  it('falls after `fall` consecutive failures, not after fewer; a pass in between resets the count', async () => {
    const { clock, monitor, prober, changes } = setup([service('web', [tcpCheck(1, { rise: 1, fall: 3 })])]);
    monitor.start();
    await clock.advance(20);
    expect(monitor.isHealthy(WEB)).toBe(true);

    const p = prober(1);
    p.answer = { ok: false, detail: 'connect ECONNREFUSED 127.0.0.1:1' };
    await clock.advance(2000); // two failures
    expect(monitor.isHealthy(WEB)).toBe(true);
    p.answer = { ok: true, detail: 'fine' };
    await clock.advance(1000); // a pass resets
    p.answer = { ok: false, detail: 'connect ECONNREFUSED 127.0.0.1:1' };
    await clock.advance(2000);
    expect(monitor.isHealthy(WEB)).toBe(true);
    await clock.advance(1000); // third in a row
    expect(monitor.isHealthy(WEB)).toBe(false);
    expect(changes.map((c) => c.healthy)).toEqual([true, false]);
    expect(changes[1]!.cause).toBe('tcp 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1, 3 failures in a row (fall 3)');
    await monitor.stop();
  });

  it('calls onChange synchronously when the deciding result arrives, with that outcome', async () => {
    const clock = new ManualClock();
    const seen: { at: number; endedAt: number; healthyInside: boolean }[] = [];
    const m: HealthMonitor = new HealthMonitor([service('web', [tcpCheck(1, { rise: 1 })])], {
      clock,
      // Synchronous: still inside the call, the clock has not moved and the monitor already agrees.
      onChange: (c) => seen.push({ at: clock.now(), endedAt: c.outcome.endedAt, healthyInside: m.isHealthy(WEB) }),
      proberFor: () => new ScriptedProber(clock),
    });
    m.start();
    await clock.advance(50);
    expect(seen).toEqual([{ at: clock.now() - 40, endedAt: clock.now() - 40, healthyInside: true }]);
    await m.stop();
  });

  it('never overlaps a check with itself: a slow probe delays the next run to its end', async () => {
    const { clock, monitor, prober } = setup([service('web', [tcpCheck(1, { interval: 100, timeout: 1000 })])]);
    const p = prober(1);
    p.latency = 250; // longer than the interval, shorter than the timeout
    const t0 = clock.now();
    monitor.start();
    await clock.advance(1000);
    expect(p.maxRunning).toBe(1);
    // Each run starts right when the previous one ended.
    expect(p.started.map((t) => t - t0)).toEqual([0, 250, 500, 750, 1000]);
    await monitor.stop();
  });

  it('keeps the interval measured from the start of each run (no drift from probe latency)', async () => {
    const { clock, monitor, prober } = setup([service('web', [tcpCheck(1, { interval: 100, timeout: 50 })])]);
    prober(1).latency = 30;
    const t0 = clock.now();
    monitor.start();
    await clock.advance(450);
    expect(prober(1).started.map((t) => t - t0)).toEqual([0, 100, 200, 300, 400]);
    await monitor.stop();
  });

  it('fails a hung probe at its timeout (aborting it) and does not start a second one beside it', async () => {
    const { clock, monitor, prober, changes } = setup([service('web', [tcpCheck(1, { interval: 100, timeout: 40, rise: 1, fall: 2 })])]);
    const p = prober(1);
    const t0 = clock.now();
    monitor.start();
    await clock.advance(20);
    expect(monitor.isHealthy(WEB)).toBe(true);

    p.hang = true; // from the run at t0+100 on, probes never answer and ignore their signal
    await clock.advance(120); // t0+140: the run at +100 timed out at +140
    const check = monitor.snapshot()[0]!.checks[0]!;
    expect(check.lastOutcome).toMatchObject({ ok: false, detail: 'no answer within timeout 40ms', startedAt: t0 + 100, endedAt: t0 + 140 });
    expect(p.aborted).toBe(1);

    await clock.advance(100); // t0+240: the next run is due while the hung probe is still pending
    expect(p.started).toHaveLength(2); // no second probe was started
    expect(monitor.isHealthy(WEB)).toBe(false);
    expect(changes.at(-1)!.cause).toBe('tcp 127.0.0.1:1: previous probe still running after its timeout, 2 failures in a row (fall 2)');
    expect(changes.at(-1)!.outcome.endedAt).toBe(t0 + 200);
    await monitor.stop();
  });

  it('uses what a probe did on timeout as the detail (the exec probe reports its kill)', async () => {
    const clock = new ManualClock();
    const m = new HealthMonitor([service('web', [tcpCheck(1, { timeout: 40 })])], {
      clock,
      onChange: () => {},
      proberFor: () => ({
        probe: (signal) => new Promise<ProbeResult>((resolve) => {
          signal.addEventListener('abort', () => {
            const reason: unknown = signal.reason;
            if (reason && typeof reason === 'object' && 'action' in reason) (reason as { action?: string }).action = 'killed after timeout 40ms';
            setImmediate(() => resolve({ ok: false, detail: 'late' }));
          });
        }),
        close: () => {},
      }),
    });
    m.start();
    await clock.advance(50);
    expect(m.snapshot()[0]!.checks[0]!.lastOutcome?.detail).toBe('killed after timeout 40ms');
    await m.stop();
  });

  it('a service is healthy only while all its checks are up; the deciding check is named', async () => {
    const { clock, monitor, prober, changes } = setup([service('web', [tcpCheck(1, { rise: 1, fall: 1 }), tcpCheck(2, { rise: 1, fall: 1, interval: 500 })])]);
    prober(2); // both exist
    monitor.start();
    await clock.advance(20);
    expect(monitor.isHealthy(WEB)).toBe(true);
    prober(2).answer = { ok: false, detail: 'down' };
    await clock.advance(500);
    expect(monitor.isHealthy(WEB)).toBe(false);
    expect(changes.at(-1)).toMatchObject({ healthy: false, check: 'tcp 127.0.0.1:2' });
    prober(1).answer = { ok: false, detail: 'down too' };
    await clock.advance(1000); // check 1 falls too: no second change for the service
    expect(changes.filter((c) => !c.healthy)).toHaveLength(1);
    await monitor.stop();
  });

  it('logs each state change once at info with its cause; repeated outcomes are not logged', async () => {
    const { clock, monitor, prober, lines } = setup([service('web', [tcpCheck(1, { rise: 1, fall: 1 })])]);
    monitor.start();
    await clock.advance(5000); // six identical passes
    prober(1).answer = { ok: false, detail: 'HTTP 503 (expected 200)' };
    await clock.advance(5000); // five identical failures
    const info = lines.filter((l) => l.level === 30);
    expect(info.map((l) => l.msg)).toEqual(['check up', 'service healthy', 'check down', 'service unhealthy']);
    expect(info[3]).toMatchObject({ service: 'web', healthy: false, cause: 'tcp 127.0.0.1:1: HTTP 503 (expected 200), 1 failure in a row (fall 1)' });
    await monitor.stop();
  });

  it('stop() cancels every timer, aborts running probes, closes probers, and reports nothing after', async () => {
    const { clock, monitor, prober, changes } = setup([service('web', [tcpCheck(1, { rise: 1 }), tcpCheck(2, { rise: 1 })])]);
    prober(2).latency = 300;
    monitor.start();
    await clock.advance(20);
    await monitor.stop();
    expect(prober(2).aborted).toBe(1);
    expect(prober(1).closed && prober(2).closed).toBe(true);
    const before = changes.length;
    await clock.advance(10_000);
    expect(changes.length).toBe(before);
    // Only the scripted probe's own answer timer may remain; the monitor left none.
    expect(prober(1).started).toHaveLength(1);
    expect(prober(2).started).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('a service without checks is healthy; an unknown service is not', () => {
    const { monitor } = setup([service('web', [])]);
    expect(monitor.isHealthy(WEB)).toBe(true);
    expect(monitor.isHealthy(serviceName('nope'))).toBe(false);
  });
});
