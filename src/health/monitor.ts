/**
 * HealthMonitor: runs every check of every service on its own schedule, applies rise/fall
 * hysteresis per check, and reports a service's health change the moment the deciding probe
 * result arrives.
 *
 * Scheduling of one check: a run starts, its probe gets `timeout` to answer, and the next run
 * starts `interval` after this one started — or right after it ended, if it took longer. So a
 * check never overlaps itself and never drifts. A probe that has not answered at `timeout`
 * fails right then (its AbortSignal fires so it can clean up; its late answer is ignored). If
 * it ignores the signal and is still pending when the next run is due, that run fails at once
 * instead of starting a second probe next to it.
 */
import type { Logger } from 'pino';
import type { CheckConfig, ServiceConfig } from '../config/types.js';
import type { ServiceName } from '../core/ids.js';
import { systemClock, type Clock } from './clock.js';
import { applyResult, INITIAL_HYSTERESIS, type HysteresisState } from './hysteresis.js';
import { checkLabel } from './label.js';
import { ProbeTimeout, type Prober, type ProbeResult } from './probe.js';
import { createProber } from './prober.js';

export interface CheckOutcome {
  ok: boolean;
  detail: string;
  /** Epoch ms, sub-ms precision (the clock's now()). */
  startedAt: number;
  endedAt: number;
}

export interface ServiceHealthChange {
  service: ServiceName;
  healthy: boolean;
  /** Label of the check whose result decided, e.g. "http http://127.0.0.1:8080/healthz". */
  check: string;
  /** The deciding probe's outcome; `outcome.endedAt` is when the change became known. */
  outcome: CheckOutcome;
  /** For operators: "http http://…: HTTP 503 (expected 200), 2 failures in a row (fall 2)". */
  cause: string;
}

export interface CheckOutcomeEvent {
  service: ServiceName;
  /** The check's label. */
  check: string;
  kind: CheckConfig['kind'];
  outcome: CheckOutcome;
}

export interface CheckSnapshot {
  label: string;
  kind: CheckConfig['kind'];
  up: boolean;
  consecutivePasses: number;
  consecutiveFails: number;
  rise: number;
  fall: number;
  /** A probe is running right now. */
  running: boolean;
  lastOutcome?: CheckOutcome;
  /** The last few outcomes, oldest first (the status API shows them with their latency). */
  recent: CheckOutcome[];
}

export interface ServiceHealthSnapshot {
  service: ServiceName;
  healthy: boolean;
  checks: CheckSnapshot[];
}

export interface HealthMonitorOptions {
  /** Called synchronously, inside the callback that received the deciding result. */
  onChange: (change: ServiceHealthChange) => void;
  /** Every probe outcome (for metrics); called before any change it causes. */
  onOutcome?: (event: CheckOutcomeEvent) => void;
  logger?: Logger;
  clock?: Clock;
  /** Makes each check's prober; tests inject fakes here. */
  proberFor?: (check: CheckConfig) => Prober;
}

/** The least time stop() grants an aborted probe to clean up (an exec probe reaps its group). */
const STOP_GRACE_MIN_MS = 100;

/** Outcomes kept per check for the status API: enough to see a flap, small enough to print. */
const RECENT_OUTCOMES = 10;

interface CheckRunner {
  readonly service: ServiceState;
  readonly config: CheckConfig;
  readonly label: string;
  readonly prober: Prober;
  state: HysteresisState;
  lastOutcome: CheckOutcome | undefined;
  recent: CheckOutcome[];
  /** The current probe's promise, until it settles — even after it timed out. */
  inFlight: Promise<void> | undefined;
  /** Aborts the current probe (timeout or stop). */
  controller: AbortController | undefined;
  cancelTimer: (() => void) | undefined;
}

interface ServiceState {
  readonly name: ServiceName;
  readonly checks: CheckRunner[];
  healthy: boolean;
}

export class HealthMonitor {
  private readonly services = new Map<ServiceName, ServiceState>();
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private started = false;
  private stopped = false;

  constructor(services: ServiceConfig[], private readonly opts: HealthMonitorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger?.child({ component: 'health' });
    const proberFor = opts.proberFor ?? createProber;
    for (const config of services) {
      const checks: CheckRunner[] = [];
      // A service without checks has nothing that could fail: it is healthy from the start.
      const service: ServiceState = { name: config.name, checks, healthy: config.checks.length === 0 };
      for (const check of config.checks) {
        checks.push({
          service,
          config: check,
          label: checkLabel(check),
          prober: proberFor(check),
          state: INITIAL_HYSTERESIS,
          lastOutcome: undefined,
          recent: [],
          inFlight: undefined,
          controller: undefined,
          cancelTimer: undefined,
        });
      }
      this.services.set(config.name, service);
    }
  }

  /** Starts the first run of every check now. */
  start(): void {
    if (this.started) return;
    if (this.stopped) throw new Error('HealthMonitor cannot be restarted after stop()');
    this.started = true;
    for (const service of this.services.values()) for (const check of service.checks) this.run(check);
  }

  /** Cancels every timer, aborts running probes and waits until they have cleaned up (an exec probe's process group is dead). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const pending: Promise<void>[] = [];
    for (const service of this.services.values()) {
      for (const check of service.checks) {
        check.cancelTimer?.();
        check.cancelTimer = undefined;
        check.controller?.abort(new Error('monitor stopped'));
        if (check.inFlight) pending.push(this.awaitWindDown(check, check.inFlight));
      }
    }
    await Promise.all(pending);
    for (const service of this.services.values()) for (const check of service.checks) check.prober.close();
  }

  /**
   * Waits for an aborted probe to finish cleaning up, but not forever: one that ignores its
   * signal is given up on (and named in the log). Real time, not the injected clock: this is
   * about the process winding down, not about the schedule.
   */
  private awaitWindDown(check: CheckRunner, inFlight: Promise<void>): Promise<void> {
    const graceMs = Math.max(STOP_GRACE_MIN_MS, check.config.timeout);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.logger?.warn({ service: check.service.name, check: check.label, graceMs }, 'probe ignored its abort; abandoned at stop');
        resolve();
      }, graceMs);
      void inFlight.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** False for a service the monitor does not know. */
  isHealthy(service: ServiceName): boolean {
    return this.services.get(service)?.healthy ?? false;
  }

  snapshot(): ServiceHealthSnapshot[] {
    return [...this.services.values()].map((service) => ({
      service: service.name,
      healthy: service.healthy,
      checks: service.checks.map((check) => ({
        label: check.label,
        kind: check.config.kind,
        up: check.state.up,
        consecutivePasses: check.state.passes,
        consecutiveFails: check.state.fails,
        rise: check.config.rise,
        fall: check.config.fall,
        running: check.controller !== undefined,
        ...(check.lastOutcome ? { lastOutcome: { ...check.lastOutcome } } : {}),
        recent: check.recent.map((o) => ({ ...o })),
      })),
    }));
  }

  private run(check: CheckRunner): void {
    check.cancelTimer = undefined;
    if (this.stopped) return;
    const startedAt = this.clock.now();
    if (check.inFlight) {
      // The previous probe timed out and ignored its signal; starting another beside it
      // would pile them up. This run fails without probing.
      this.conclude(check, { ok: false, detail: 'previous probe still running after its timeout', startedAt, endedAt: startedAt });
      return;
    }

    const controller = new AbortController();
    check.controller = controller;
    let decided = false;
    const decide = (result: ProbeResult): void => {
      if (decided) return;
      decided = true;
      cancelTimeout();
      check.controller = undefined;
      this.conclude(check, { ok: result.ok, detail: result.detail, startedAt, endedAt: this.clock.now() });
    };
    const cancelTimeout = this.clock.schedule(check.config.timeout, () => {
      if (decided) return;
      const reason = new ProbeTimeout(check.config.timeout);
      // Listeners run synchronously here: the probe kills what it started and may say so.
      controller.abort(reason);
      decide({ ok: false, detail: reason.action ?? `no answer within ${reason.message}` });
    });

    let probe: Promise<ProbeResult>;
    try {
      probe = check.prober.probe(controller.signal);
    } catch (err) {
      probe = Promise.reject(err);
    }
    const settled = probe.then(
      (result) => result,
      (err: unknown): ProbeResult => ({ ok: false, detail: `probe failed: ${err instanceof Error ? err.message : String(err)}` }),
    );
    check.inFlight = settled.then((result) => {
      check.inFlight = undefined;
      // After stop(), a probe's answer to "monitor stopped" is no news.
      if (!this.stopped) decide(result);
    });
  }

  /** Records one run's outcome, applies hysteresis, reports changes, schedules the next run. */
  private conclude(check: CheckRunner, outcome: CheckOutcome): void {
    if (this.stopped) return;
    const previous = check.lastOutcome;
    check.lastOutcome = outcome;
    check.recent.push(outcome);
    if (check.recent.length > RECENT_OUTCOMES) check.recent.shift();
    try {
      this.opts.onOutcome?.({ service: check.service.name, check: check.label, kind: check.config.kind, outcome });
    } catch (err) {
      // Metrics must not break the schedule.
      this.logger?.error({ err, service: check.service.name, check: check.label }, 'outcome listener threw');
    }

    const before = check.state;
    const after = applyResult(before, outcome.ok, check.config);
    check.state = after;
    if (after.up !== before.up) {
      this.checkChanged(check, outcome);
    } else if (!previous || previous.ok !== outcome.ok || previous.detail !== outcome.detail) {
      // Only news is logged: a steady stream of identical outcomes stays quiet.
      this.logger?.debug(
        { service: check.service.name, check: check.label, ok: outcome.ok, detail: outcome.detail, passes: after.passes, fails: after.fails },
        'check outcome changed',
      );
    }

    // The next run: `interval` after this one started, or now if it took longer.
    const delay = Math.max(0, outcome.startedAt + check.config.interval - this.clock.now());
    check.cancelTimer = this.clock.schedule(delay, () => this.run(check));
  }

  private checkChanged(check: CheckRunner, outcome: CheckOutcome): void {
    const service = check.service;
    const cause = causeOf(check, outcome);
    this.logger?.info({ service: service.name, check: check.label, up: check.state.up, cause }, `check ${check.state.up ? 'up' : 'down'}`);

    const healthy = service.checks.every((c) => c.state.up);
    if (healthy === service.healthy) return;
    service.healthy = healthy;
    this.logger?.info({ service: service.name, healthy, cause }, `service ${healthy ? 'healthy' : 'unhealthy'}`);
    try {
      this.opts.onChange({ service: service.name, healthy, check: check.label, outcome, cause });
    } catch (err) {
      // A failing listener must not stop the checks that keep the agent honest.
      this.logger?.error({ err, service: service.name }, 'health change listener threw');
    }
  }
}

function causeOf(check: CheckRunner, outcome: CheckOutcome): string {
  const { passes, fails } = check.state;
  const streak = check.state.up
    ? `${passes} ${passes === 1 ? 'pass' : 'passes'} in a row (rise ${check.config.rise})`
    : `${fails} ${fails === 1 ? 'failure' : 'failures'} in a row (fall ${check.config.fall})`;
  return `${check.label}: ${outcome.detail}, ${streak}`;
}
