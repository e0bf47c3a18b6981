/**
 * Duplicate-address probes for the early takeover of handover.ts (rule 4): when the holder of
 * an ARP service is no longer seen, probe each of its addresses (IPv4 by `arping -D`, IPv6 by
 * `ndisc6`) `count` times in a row; if nothing answers, no host on the segment holds them —
 * the holder's host is gone, or its copies have expired — and the service may be taken before
 * the holder's copy would have had to expire by its lifetime.
 *
 * While the addresses are still answered (the holder's host lives; its copy has not expired
 * yet) the series is repeated, `retryAfter` apart, so the end of the copy is noticed soon
 * after it happens — without a stream of probes on the segment. One series at a time per
 * service; the result is kept with the time the series started (the caller only trusts a
 * series that started after the holder's heartbeats died).
 */
import type { ServiceConfig } from '../config/types.js';
import { ms, type Millis } from '../core/duration.js';
import type { ServiceName } from '../core/ids.js';
import type { Logger } from '../observe/logger.js';
import { probeAddressInUse } from './duplicate-probe.js';
import type { HostCommands } from './host-commands.js';

export interface ProbeSeriesResult {
  startedAt: Millis;
  /** Every probe of every address went unanswered. */
  unanswered: boolean;
}

export interface TakeoverProbesOptions {
  cmd: HostCommands;
  count: number;
  /** How long each probe waits for an answer. */
  wait: Millis;
  /** After a series that was answered, the next one no sooner than this. */
  retryAfter?: Millis;
  now: () => Millis;
  logger: Logger;
  /** A series finished, or a retry is due: the caller decides again (and may ask for a series). */
  onResult: (service: ServiceName) => void;
}

/** Four series a second at most while a live holder's copy is awaited. */
export const DEFAULT_RETRY_AFTER = ms(250);

export class TakeoverProbes {
  private readonly results = new Map<ServiceName, ProbeSeriesResult>();
  private readonly running = new Set<ServiceName>();
  /** No new series before this (after an answered one). */
  private readonly notBefore = new Map<ServiceName, Millis>();
  /** Services whose last series was answered and said so in the log (one line per episode). */
  private readonly answeredLogged = new Set<ServiceName>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly opts: TakeoverProbesOptions) {}

  result(service: ServiceName): ProbeSeriesResult | undefined {
    return this.results.get(service);
  }

  /** Starts a series for `service` unless one runs or an answered one was too recent. */
  request(service: ServiceConfig): void {
    if (this.stopped || this.running.has(service.name) || !service.arp || service.prefixes.length === 0) return;
    if (this.opts.now() < (this.notBefore.get(service.name) ?? -Infinity)) return;
    this.running.add(service.name);
    const startedAt = this.opts.now();
    void (async () => {
      let answer: string | undefined;
      for (let i = 0; i < this.opts.count && answer === undefined && !this.stopped; i++) {
        // Every address of a round at once: IPv4 and IPv6 do not add up.
        const round = await Promise.all(service.prefixes.map(async (prefix) => ({
          prefix, r: await probeAddressInUse(this.opts.cmd, service.arp!.interface, prefix, { wait: this.opts.wait }),
        })));
        const heard = round.find(({ r }) => r.inUse !== false);
        if (heard) {
          const { prefix, r } = heard;
          answer = r.inUse === true ? `${prefix.address} answered${r.mac ? ` from ${r.mac}` : ''}` : `${prefix.address}: ${r.inUse === 'unknown' ? r.reason : ''}`;
        }
      }
      this.running.delete(service.name);
      if (this.stopped) return;
      const unanswered = answer === undefined;
      this.results.set(service.name, { startedAt, unanswered });
      const fields = { service: service.name, probes: this.opts.count, tookMs: Math.round(this.opts.now() - startedAt) };
      if (unanswered) {
        this.answeredLogged.delete(service.name);
        this.opts.logger.info(fields, `duplicate-address probes for ${service.name}: no host answers for its addresses (the last holder's host is gone, or its copy expired)`);
      } else {
        if (!this.answeredLogged.has(service.name)) {
          this.opts.logger.info({ ...fields, answer }, `duplicate-address probe for ${service.name}: ${answer}; probing again every ${this.retryAfter} ms until it stops answering`);
          this.answeredLogged.add(service.name);
        }
        this.notBefore.set(service.name, ms(this.opts.now() + this.retryAfter));
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          // The retry is due now: a clock read a hair before `notBefore` must not refuse it
          // (that stopped the probing for good in the ARP bench's agent-death trials).
          this.notBefore.delete(service.name);
          if (!this.stopped) this.opts.onResult(service.name);
        }, this.retryAfter);
        this.timers.add(timer);
      }
      this.opts.onResult(service.name);
    })();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
  }

  private get retryAfter(): Millis {
    return this.opts.retryAfter ?? DEFAULT_RETRY_AFTER;
  }
}
