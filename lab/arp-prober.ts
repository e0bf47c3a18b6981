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
import { parseProberLine, type NeighbourEvent, type ProberEvent } from './arp-prober-wire.js';

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

/** One answered probe. */
export interface ProbeSample {
  target: string;
  seq: number;
  sentAt: EpochMillis;
  receivedAt: EpochMillis;
  /** The node whose whoami answered. */
  node: string;
  /** When the node answered, by its own reading of the lab clock. */
  answeredAt: EpochMillis;
}

/** A stretch with probes sent and none answered, as the client saw it. */
export interface Outage {
  target: string;
  /** The last answer before. */
  from: EpochMillis;
  /** The first answer after; undefined while the outage goes on. */
  to: EpochMillis | undefined;
  /** `to − from` (up to now while it goes on). */
  duration: Millis;
  /** Probes sent in between that got no answer. */
  lost: number;
  /** Who answered before and after. */
  before: string;
  after: string | undefined;
}

/** A window of at most `windowMs` in which answers came from more than one node. */
export interface TwoNodeWindow {
  from: EpochMillis;
  to: EpochMillis;
  nodes: string[];
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

interface TimeFilter {
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
  samples(filter: TimeFilter = {}): readonly ProbeSample[] {
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
  outages(filter: TimeFilter & { minLost?: number } = {}): Outage[] {
    const minLost = filter.minLost ?? 1;
    const result: Outage[] = [];
    for (const target of this.options.targets) {
      if (filter.target !== undefined && filter.target !== target) continue;
      const answered = this.replies.filter((r) => r.target === target).sort((a, b) => a.seq - b.seq);
      for (let i = 1; i < answered.length; i++) {
        const a = answered[i - 1]!;
        const b = answered[i]!;
        const lost = b.seq - a.seq - 1;
        if (lost < minLost) continue;
        result.push({ target, from: a.receivedAt, to: b.receivedAt, duration: ms(b.receivedAt - a.receivedAt), lost, before: a.node, after: b.node });
      }
      const last = answered[answered.length - 1];
      const sent = this.lastSent.get(target) ?? 0;
      if (last && sent - last.seq >= Math.max(minLost, 3)) {
        result.push({ target, from: last.receivedAt, to: undefined, duration: ms(epochNow() - last.receivedAt), lost: sent - last.seq, before: last.node, after: undefined });
      }
    }
    return result
      .filter((o) => (filter.since === undefined || (o.to ?? Infinity) >= filter.since) && (filter.until === undefined || o.from < filter.until))
      .sort((x, y) => x.from - y.from);
  }

  /**
   * Windows of at most `windowMs` holding answers from two or more different nodes (by
   * arrival time, over all targets unless one is given), overlapping windows merged. Empty
   * means no two nodes ever answered within `windowMs` of each other.
   */
  answeredBy(windowMs: Millis, filter: TimeFilter = {}): TwoNodeWindow[] {
    const replies = this.samples(filter).slice().sort((a, b) => a.receivedAt - b.receivedAt);
    const windows: TwoNodeWindow[] = [];
    let j = 0;
    for (let i = 0; i < replies.length; i++) {
      const a = replies[i]!;
      if (j < i) j = i;
      while (j + 1 < replies.length && replies[j + 1]!.receivedAt - a.receivedAt <= windowMs) j++;
      const nodes = new Set<string>();
      let to = a.receivedAt;
      for (let k = i; k <= j; k++) {
        nodes.add(replies[k]!.node);
        if (replies[k]!.node !== a.node) to = replies[k]!.receivedAt;
      }
      if (nodes.size < 2) continue;
      const previous = windows[windows.length - 1];
      if (previous && a.receivedAt <= previous.to) {
        previous.to = epochMillis(Math.max(previous.to, to));
        for (const n of nodes) if (!previous.nodes.includes(n)) previous.nodes.push(n);
      } else {
        windows.push({ from: a.receivedAt, to, nodes: [...nodes].sort() });
      }
    }
    return windows;
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
  neighbourHistory(filter: TimeFilter = {}): readonly NeighbourReading[] {
    return this.neighbourLog.filter((n) => matches(n.target, n.at, filter));
  }

  /** Send errors the prober reported (EHOSTUNREACH while the neighbour entry failed, say). */
  errors(): readonly { at: EpochMillis; target: string; message: string }[] {
    return this.sendErrors;
  }

  /** Resolves with the first answer from `node` (at or after `since`, for `target` if given). */
  waitForAnswerFrom(node: string, timeout: Millis, filter: TimeFilter = {}): Promise<ProbeSample> {
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
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const value = probe();
        if (value !== undefined) finish(() => resolve(value));
        else if (!this.process.running) finish(() => reject(new Error(`prober exited before ${what}:\n${this.process.output()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${what} within ${timeout} ms (last answer: ${JSON.stringify(this.lastAnswer())}, neighbours: ${JSON.stringify(this.options.targets.map((t) => this.neighbour(t)))})`))), timeout);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      this.process.exited.then(check, check);
      check();
    });
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

function matches(target: string, at: number, filter: TimeFilter): boolean {
  if (filter.target !== undefined && filter.target !== target) return false;
  if (filter.since !== undefined && at < filter.since) return false;
  if (filter.until !== undefined && at >= filter.until) return false;
  return true;
}
