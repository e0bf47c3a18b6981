/**
 * Duplicate-address probes for the early takeover of handover.ts (rule 4): when the holder of
 * an ARP service is no longer seen, probe its IPv4 addresses `count` times in a row; if no
 * probe is answered, no host on the segment answers for them — the holder's host is gone —
 * and the service may be taken before the holder's copy of the address would have expired.
 * IPv6 addresses cannot be probed here (duplicate-probe.ts), so a service without an IPv4
 * address never takes this shortcut. One series at a time per service; the result is kept
 * with the time the series started (a result from before the holder vanished proves nothing).
 */
import type { ServiceConfig } from '../config/types.js';
import { ms, type Millis } from '../core/duration.js';
import type { ServiceName } from '../core/ids.js';
import type { Logger } from '../observe/logger.js';
import { probeAddressInUse } from './duplicate-probe.js';
import type { HostCommands } from './host-commands.js';

export interface ProbeSeriesResult {
  startedAt: Millis;
  /** Every probe of every IPv4 address went unanswered. */
  unanswered: boolean;
}

export interface TakeoverProbesOptions {
  cmd: HostCommands;
  count: number;
  /** How long each probe waits for an answer. */
  wait: Millis;
  now: () => Millis;
  logger: Logger;
  /** A series finished (its result is in `result()`). */
  onResult: (service: ServiceName) => void;
}

export class TakeoverProbes {
  private readonly results = new Map<ServiceName, ProbeSeriesResult>();
  private readonly running = new Set<ServiceName>();
  private stopped = false;

  constructor(private readonly opts: TakeoverProbesOptions) {}

  result(service: ServiceName): ProbeSeriesResult | undefined {
    return this.results.get(service);
  }

  /** Starts a series for `service` unless one runs. Its result replaces the previous one. */
  request(service: ServiceConfig): void {
    if (this.stopped || this.running.has(service.name) || !service.arp) return;
    const targets = service.prefixes.filter((p) => p.family === 4);
    if (targets.length === 0) return;
    this.running.add(service.name);
    const startedAt = this.opts.now();
    void (async () => {
      let unanswered = true;
      let answer = '';
      for (let i = 0; i < this.opts.count && unanswered && !this.stopped; i++) {
        for (const prefix of targets) {
          const r = await probeAddressInUse(this.opts.cmd, service.arp!.interface, prefix, { wait: this.opts.wait });
          if (r.inUse !== false) {
            unanswered = false;
            answer = r.inUse === true ? `${prefix.address} answered${r.mac ? ` from ${r.mac}` : ''}` : r.reason;
            break;
          }
        }
      }
      this.running.delete(service.name);
      if (this.stopped) return;
      this.results.set(service.name, { startedAt, unanswered });
      const fields = { service: service.name, probes: this.opts.count, tookMs: Math.round(this.opts.now() - startedAt) };
      if (unanswered) this.opts.logger.info(fields, `duplicate-address probes for ${service.name} went unanswered: its last holder's host is gone`);
      else this.opts.logger.info({ ...fields, answer }, `duplicate-address probe for ${service.name}: ${answer}; waiting for the holder's address to expire`);
      this.opts.onResult(service.name);
    })();
  }

  stop(): void {
    this.stopped = true;
  }
}

export const DEFAULT_PROBE_WAIT = ms(100);
