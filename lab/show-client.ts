/**
 * The client's view during the show: lab/show-prober-main.ts runs in the client namespace
 * (started once, stopped by the lab's teardown like every lab process) and this side keeps
 * its results, so each fault can be read as "which site answered" and "the longest stretch
 * with no answer" over any window of time.
 */
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ms, type Millis } from '../src/core/duration.js';
import type { LabProcess } from './process.js';
import { LAB_SERVICES, SITES, type LabServiceName, type RoutedLab, type Site } from './routed-lab.js';
import { nodeOfKind, service } from './routed-lab-topology.js';
import type { ProbeResult } from './show-probe-wire.js';

/** The longest stretch with no answer in a window. */
export interface Outage {
  /** From the first unanswered probe to the next answered one (0: every probe answered). */
  longest: Millis;
  /** When the longest stretch began, from the window's start (undefined: no stretch). */
  startedAfter?: Millis;
  /** The stretch was still going on at the window's end. */
  ongoing: boolean;
  probes: number;
  failed: number;
}

export class ClientProber {
  private readonly results = new Map<LabServiceName, ProbeResult[]>(LAB_SERVICES.map((s) => [s, []]));
  private partial = '';

  private constructor(readonly process: LabProcess, readonly interval: Millis, readonly timeout: Millis) {
    process.child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (this.partial + chunk.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{"svc"')) continue;
        const r = JSON.parse(line) as ProbeResult;
        this.results.get(r.svc as LabServiceName)?.push(r);
      }
    });
  }

  /** Starts probing every service address of the lab from the client, every `interval`. */
  static async start(lab: RoutedLab, interval: Millis = ms(25), timeout: Millis = ms(700)): Promise<ClientProber> {
    const client = lab.ns(nodeOfKind(lab.topology, 'client').name);
    const targets = LAB_SERVICES.flatMap((name) => {
      const s = service(lab.topology, name);
      return ['--target', `${name}=${s.address}:${s.port}`];
    });
    // The lab runs compiled code: from dist/lab/ it is next door, from lab/ (vitest) in dist/lab/.
    const here = dirname(fileURLToPath(import.meta.url));
    const compiled = basename(dirname(here)) === 'dist' ? join(here, 'show-prober-main.js') : join(here, '..', 'dist', 'lab', 'show-prober-main.js');
    const proc = await client.spawn('show-prober', process.execPath, [compiled, ...targets, '--interval', String(interval), '--timeout', String(timeout)]);
    const self = new ClientProber(proc, interval, timeout);
    await proc.waitForOutput(/"ready":true/, ms(10_000));
    return self;
  }

  /** Finished probes of `svc` sent within [from, to], in sending order. */
  probes(svc: LabServiceName, from: number, to: number = Date.now()): ProbeResult[] {
    return (this.results.get(svc) ?? []).filter((r) => r.sentAt >= from && r.sentAt <= to).sort((a, b) => a.sentAt - b.sentAt);
  }

  /** The longest stretch in [from, to] with no answer for `svc`. */
  outage(svc: LabServiceName, from: number, to: number = Date.now()): Outage {
    const probes = this.probes(svc, from, to);
    let longest = 0;
    let longestStart: number | undefined;
    let failStart: number | undefined;
    const close = (end: number): void => {
      if (failStart !== undefined && end - failStart > longest) {
        longest = end - failStart;
        longestStart = failStart;
      }
    };
    for (const p of probes) {
      if (!p.ok) failStart ??= p.sentAt;
      else if (failStart !== undefined) {
        close(p.sentAt);
        failStart = undefined;
      }
    }
    const pending = failStart;
    close(to);
    const ongoing = pending !== undefined && longestStart === pending;
    return {
      longest: ms(Math.round(longest)),
      ...(longestStart !== undefined ? { startedAfter: ms(Math.round(longestStart - from)) } : {}),
      ongoing, probes: probes.length, failed: probes.filter((p) => !p.ok).length,
    };
  }

  /** How many answers each site gave for `svc` in [from, to]; `none` counts unanswered probes. */
  answers(svc: LabServiceName, from: number, to: number = Date.now()): Record<Site | 'none', number> {
    const out = { ny: 0, nj: 0, none: 0 } as Record<Site | 'none', number>;
    for (const p of this.probes(svc, from, to)) {
      const site = p.ok ? SITES.find((s) => p.body === `${s} ${svc}`) : undefined;
      out[site ?? 'none'] += 1;
    }
    return out;
  }

  /**
   * Whether the client's recent probes (sent in the last `window`) agree with `sites`: every
   * probe answered by one of them, or, for no sites, none answered. Undefined: too few
   * finished probes yet to say.
   */
  agrees(svc: LabServiceName, sites: readonly Site[], window: Millis): boolean | undefined {
    // Probes still in flight would be missing from the count (an unanswered one finishes only
    // at its timeout): leave out the probes that may not have finished yet.
    const to = Date.now() - this.timeout - 200;
    const counts = this.answers(svc, to - window, to);
    const total = counts.ny + counts.nj + counts.none;
    if (total < 3) return undefined;
    if (sites.length === 0) return counts.none === total;
    return counts.none === 0 && SITES.every((s) => sites.includes(s) || counts[s] === 0);
  }

  /** Why probes of `svc` in [from, to] got no answer: each error with its count, most frequent first. */
  errors(svc: LabServiceName, from: number, to: number = Date.now()): [string, number][] {
    const counts = new Map<string, number>();
    for (const p of this.probes(svc, from, to)) if (!p.ok) counts.set(p.error ?? '?', (counts.get(p.error ?? '?') ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1]);
  }

  /** Drops results older than `before` (a long-lived lab keeps probing). */
  forget(before: number): void {
    for (const [svc, list] of this.results) this.results.set(svc, list.filter((r) => r.sentAt >= before));
  }
}
