/**
 * The client's view of a moving service address: starts lab/arp-prober-main.ts in the
 * client namespace (one UDP probe per target every 10 ms, the neighbour cache followed) and
 * turns its stream into answers to the questions the ARP tests and the benchmark ask:
 * who answered, how long nobody did, did two nodes answer close together, which MAC does
 * the client's neighbour entry hold.
 *
 * All times are epoch ms on the lab clock (lab/arp-clock.ts), the same clock the whoami
 * service and the GARP watcher stamp with, so they can be compared with agent log lines.
 */
import { createInterface } from 'node:readline';
import { ms, type Millis } from '../src/core/duration.js';
import { compiledLabScript } from './arp-compiled-script.js';
import { epochMillis, epochNow, type EpochMillis } from './arp-clock.js';
import type { Lab, Namespace } from './netns.js';
import type { LabProcess } from './process.js';
import { findOutages, twoNodeWindows, type Outage, type ProbeSample, type TwoNodeWindow } from './arp-probe-analysis.js';
import { parseProberLine, type NeighbourEvent, type ProberEvent } from './arp-prober-wire.js';
import { waitOnListeners } from './listener-wait.js';

export type { Outage, ProbeSample, TwoNodeWindow } from './arp-probe-analysis.js';

export interface ProberOptions {
  /** Service addresses to probe (bare IPv4 and/or IPv6). */
  targets: readonly string[];
  /** The whoami port. */
  port: number;
  /** Default 10 ms. */
  interval?: Millis;
  /** MAC → node name (lab/arp-client.ts `macsOf`), to name the holder of a neighbour entry. */
  nodesByMac?: ReadonlyMap<string, string>;
  /** Default 10 s. */
  startTimeout?: Millis;
}

/** One reading of the client's neighbour entry for a target. */
export interface NeighbourReading {
  at: EpochMillis;
  target: string;
  lladdr: string | undefined;
  /** The node owning `lladdr`, when the prober was given `nodesByMac`. */
  node: string | undefined;
  state: string[];
  deleted: boolean;
}

/** Which answers or readings a question is about. */
export interface ProbeFilter {
  target?: string;
  /** Only events at or after (lab clock). */
  since?: EpochMillis;
  /** Only events before (lab clock). */
  until?: EpochMillis;
}

export class ArpProber {
  private readonly replies: ProbeSample[] = [];
  private readonly neighbourLog: NeighbourReading[] = [];
  private readonly lastSent = new Map<string, number>();
  private readonly sendErrors: { at: EpochMillis; target: string; message: string }[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(
    readonly process: LabProcess,
    readonly options: ProberOptions,
  ) {
    createInterface({ input: process.child.stdout! }).on('line', (line) => {
      const event = parseProberLine(line);
      if (event) this.record(event);
    });
  }

  /** Starts the prober in the client namespace; resolves once it probes. Stopped at lab teardown. */
  static async start(lab: Lab, client: Namespace, options: ProberOptions): Promise<ArpProber> {
    const args = [compiledLabScript('arp-prober-main.js'), '--port', String(options.port),
      '--interval', String(options.interval ?? 10), ...options.targets.flatMap((t) => ['--target', t])];
    const proc = await lab.spawn(client, 'arp-prober', globalThis.process.execPath, args);
    const prober = new ArpProber(proc, options);
    await proc.waitForOutput(/"type":"ready"/, options.startTimeout ?? ms(10_000));
    return prober;
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Answered probes in arrival order. */
  samples(filter: ProbeFilter = {}): readonly ProbeSample[] {
    return this.replies.filter((r) => matches(r.target, r.receivedAt, filter));
  }

  /** The latest answer (for one target or any). */
  lastAnswer(target?: string): ProbeSample | undefined {
    for (let i = this.replies.length - 1; i >= 0; i--) {
      const r = this.replies[i]!;
      if (target === undefined || r.target === target) return r;
    }
    return undefined;
  }

  /**
   * Stretches without answers, per target: between two answers (in probe order) with at
   * least `minLost` unanswered probes between them, from the last answer before to the
   * first after. A late answer is not an outage, a lost one is. Probes before the first
   * answer are not counted (the prober may start before the address is held). The last entry
   * has `to` undefined when the silence goes on (at least `minLost` probes sent since the
   * last answer).
   */
  outages(filter: ProbeFilter & { minLost?: number } = {}): Outage[] {
    const targets = this.options.targets.filter((t) => filter.target === undefined || filter.target === t);
    return findOutages(this.replies, targets, this.lastSent, epochNow(), filter.minLost ?? 1)
      .filter((o) => (filter.since === undefined || (o.to ?? Infinity) >= filter.since) && (filter.until === undefined || o.from < filter.until));
  }

  /**
   * Windows of at most `windowMs` in which one target got answers from two or more different
   * nodes (by arrival time; each target on its own unless `filter.target` picks one), overlapping
   * windows merged. Empty means no two nodes ever answered for one address within `windowMs`
   * of each other. Note that a clean handover with at most one probe lost between the last
   * answer of the old node and the first of the new one also makes a window at 20 ms: the
   * criterion is meant for handovers that wait out the old holder's lifetime.
   */
  answeredBy(windowMs: Millis, filter: ProbeFilter = {}): TwoNodeWindow[] {
    const targets = this.options.targets.filter((t) => filter.target === undefined || filter.target === t);
    return twoNodeWindows(this.samples(filter), targets, windowMs);
  }

  /** The client's current neighbour entry for `target` (default: the first target). */
  neighbour(target: string = this.options.targets[0]!): NeighbourReading | undefined {
    for (let i = this.neighbourLog.length - 1; i >= 0; i--) {
      const n = this.neighbourLog[i]!;
      if (n.target === target) return n.deleted ? undefined : n;
    }
    return undefined;
  }

  /** Every change of the client's neighbour entries, in order. */
  neighbourHistory(filter: ProbeFilter = {}): readonly NeighbourReading[] {
    return this.neighbourLog.filter((n) => matches(n.target, n.at, filter));
  }

  /** Send errors the prober reported (EHOSTUNREACH while the neighbour entry failed, say). */
  errors(): readonly { at: EpochMillis; target: string; message: string }[] {
    return this.sendErrors;
  }

  /** Resolves with the first answer from `node` (at or after `since`, for `target` if given). */
  waitForAnswerFrom(node: string, timeout: Millis, filter: ProbeFilter = {}): Promise<ProbeSample> {
    return this.waitFor(
      () => this.replies.find((r) => r.node === node && matches(r.target, r.receivedAt, filter)),
      timeout,
      `an answer from ${node}${filter.target ? ` on ${filter.target}` : ''}`,
    );
  }

  /** Resolves once the client's neighbour entry for `target` carries `mac`. */
  waitForNeighbour(target: string, mac: string, timeout: Millis): Promise<NeighbourReading> {
    return this.waitFor(() => {
      const n = this.neighbour(target);
      return n?.lladdr === mac.toLowerCase() ? n : undefined;
    }, timeout, `the neighbour entry of ${target} to carry ${mac}`);
  }

  /** Stops the prober process (SIGTERM, which also ends its `ip monitor`). */
  async stop(): Promise<void> {
    await this.process.stop();
  }

  private waitFor<T>(probe: () => T | undefined, timeout: Millis, what: string): Promise<T> {
    const waiting = waitOnListeners(this.listeners, {
      probe,
      failed: () => (this.process.running ? undefined : new Error(`prober exited before ${what}:\n${this.process.output()}`)),
      timedOut: () => new Error(`no ${what} within ${timeout} ms (last answer: ${JSON.stringify(this.lastAnswer())}, neighbours: ${JSON.stringify(this.options.targets.map((t) => this.neighbour(t)))})`),
      timeout,
    });
    // The prober's exit is no event of its own: notify the listeners, so the wait ends at once.
    void this.process.exited.then(() => { for (const l of [...this.listeners]) l(); }, () => undefined);
    return waiting;
  }

  private record(event: ProberEvent): void {
    switch (event.type) {
      case 'reply':
        this.replies.push({
          target: event.target, seq: event.seq, sentAt: epochMillis(event.sent), receivedAt: epochMillis(event.received),
          node: event.node, answeredAt: epochMillis(event.answered),
        });
        this.lastSent.set(event.target, Math.max(this.lastSent.get(event.target) ?? 0, event.seq));
        break;
      case 'progress':
        for (const [target, seq] of Object.entries(event.sent)) this.lastSent.set(target, Math.max(this.lastSent.get(target) ?? 0, seq));
        break;
      case 'neigh':
        this.neighbourLog.push(this.reading(event));
        break;
      case 'send-error':
        this.sendErrors.push({ at: epochMillis(event.at), target: event.target, message: event.message });
        break;
      case 'ready':
        break;
    }
    for (const notify of [...this.listeners]) notify();
  }

  private reading(event: NeighbourEvent): NeighbourReading {
    const lladdr = event.lladdr ?? undefined;
    return {
      at: epochMillis(event.at), target: event.dst, lladdr, node: lladdr ? this.options.nodesByMac?.get(lladdr) : undefined,
      state: event.state, deleted: event.deleted,
    };
  }
}

/** `ArpProber.start`, as a function like the other lab starters. */
export function startProber(lab: Lab, client: Namespace, options: ProberOptions): Promise<ArpProber> {
  return ArpProber.start(lab, client, options);
}

function matches(target: string, at: number, filter: ProbeFilter): boolean {
  if (filter.target !== undefined && filter.target !== target) return false;
  if (filter.since !== undefined && at < filter.since) return false;
  if (filter.until !== undefined && at >= filter.until) return false;
  return true;
}
