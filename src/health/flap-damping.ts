/**
 * Flap damping: a service whose health changed more than `changes` times within the last
 * `within` is held down (treated as unhealthy, so withdrawn) until `holdDown` has passed since
 * its last change; a change while held down extends the hold. Rise/fall filter single bad
 * probes; this filters a service that passes and fails in turns (every transition moves
 * traffic, and an exclusive service would bounce between nodes).
 *
 * Pure: time comes in as an argument (monotonic milliseconds), nothing here reads a clock or
 * sets a timer. The agent asks `nextRelease()` and re-decides then.
 */
import type { FlapDampingConfig, ServiceConfig } from '../config/types.js';
import { ms, type Millis } from '../core/duration.js';
import type { ServiceName } from '../core/ids.js';

/** What a change that starts a hold-down reports (for the log line, the metric and notify). */
export interface HoldDownStart {
  /** Changes counted within the window, this one included (more than `config.changes`). */
  changes: number;
  within: Millis;
  holdDown: Millis;
  until: Millis;
}

/** One service's damper. */
export class FlapDamper {
  /** Times of the changes still inside the window, oldest first. */
  private changeTimes: Millis[] = [];
  private lastHealthy: boolean | undefined;
  private holdUntil: Millis | undefined;

  constructor(private config: FlapDampingConfig) {}

  /** A reload: the new limits apply from the next change on; what was counted stays. */
  reconfigure(config: FlapDampingConfig): void {
    this.config = config;
  }

  /**
   * Feeds a health report. A report equal to the last one is not a change. Returns the start of
   * a hold-down when this change begins one (not when it merely extends one).
   */
  record(at: Millis, healthy: boolean): HoldDownStart | undefined {
    if (this.lastHealthy === healthy) return undefined;
    this.lastHealthy = healthy;
    // A hold that has run out is over: the service starts counting afresh, so one change after
    // a release does not put it straight back (the old flaps were already paid for).
    if (this.holdUntil !== undefined && at >= this.holdUntil) {
      this.holdUntil = undefined;
      this.changeTimes = [];
    }
    const wasHeld = this.holdUntil !== undefined;
    this.changeTimes.push(at);
    this.changeTimes = this.changeTimes.filter((t) => t > at - this.config.within);
    if (wasHeld) {
      this.holdUntil = ms(at + this.config.holdDown);
      return undefined;
    }
    if (this.changeTimes.length <= this.config.changes) return undefined;
    this.holdUntil = ms(at + this.config.holdDown);
    return { changes: this.changeTimes.length, within: this.config.within, holdDown: this.config.holdDown, until: this.holdUntil };
  }

  /** The end of the hold-down in force at `at`, or undefined when not held down. */
  heldUntil(at: Millis): Millis | undefined {
    return this.holdUntil !== undefined && at < this.holdUntil ? this.holdUntil : undefined;
  }
}

/**
 * The dampers of every service that has `flap-damping` configured, and which hold-downs have
 * been reported as released (each once).
 */
export class FlapDamping {
  private readonly dampers = new Map<ServiceName, FlapDamper>();
  /** Hold-downs started and not yet reported as released. */
  private readonly held = new Set<ServiceName>();

  /** Matches the services of a (re)loaded config; a service without damping is never held. */
  configure(services: readonly ServiceConfig[]): void {
    const wanted = new Map(services.flatMap((s) => (s.flapDamping ? [[s.name, s.flapDamping] as const] : [])));
    for (const name of this.dampers.keys()) {
      // Still in `held` if it was: the next released() reports it, so the agent says so.
      if (!wanted.has(name)) this.dampers.delete(name);
    }
    for (const [name, config] of wanted) {
      const damper = this.dampers.get(name);
      if (damper) damper.reconfigure(config);
      else this.dampers.set(name, new FlapDamper(config));
    }
  }

  record(service: ServiceName, at: Millis, healthy: boolean): HoldDownStart | undefined {
    const start = this.dampers.get(service)?.record(at, healthy);
    if (start) this.held.add(service);
    return start;
  }

  heldUntil(service: ServiceName, at: Millis): Millis | undefined {
    return this.dampers.get(service)?.heldUntil(at);
  }

  /** Services whose hold-down ended by `at` (or whose damping was removed), each reported once. */
  released(at: Millis): ServiceName[] {
    const out: ServiceName[] = [];
    for (const name of this.held) {
      if (this.dampers.get(name)?.heldUntil(at) !== undefined) continue;
      this.held.delete(name);
      out.push(name);
    }
    return out;
  }

  /** The earliest end of a hold-down in force at `at`: when the agent must decide again. */
  nextRelease(at: Millis): Millis | undefined {
    let next: Millis | undefined;
    for (const damper of this.dampers.values()) {
      const until = damper.heldUntil(at);
      if (until !== undefined && (next === undefined || until < next)) next = until;
    }
    return next;
  }
}
