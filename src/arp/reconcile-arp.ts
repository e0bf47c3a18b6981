/**
 * ArpReconciler: makes this host hold exactly the desired service addresses on their
 * interfaces, each with a kernel lifetime that never reaches past the caller's `until`.
 * Level-triggered and idempotent, in the spirit of announce/reconcile-bgp.ts:
 *
 * - `setDesired` applies the difference at once: removals FIRST (a released or failing
 *   service leaves the segment before anything else happens), then additions, then the
 *   gratuitous announcements (in the background: they never delay a removal).
 * - Renewals run on a timer of the caller's event loop, each held address every third of
 *   its lifetime. This is the dead-man switch (S4): if the loop stalls or the process dies,
 *   renewals stop and the kernel drops the address when its lifetime ends.
 * - A sync timer reads `ip -j addr` and repairs drift: a held address removed by hand is
 *   re-added and re-announced; a managed address present but not desired is removed.
 * - An address whose allowed lifetime (`until - now`) is under one whole second is removed,
 *   not held: the kernel counts lifetimes in whole seconds and rounding up could let the
 *   address outlive the node's quorum.
 *
 * Operations run one at a time; requests that arrive meanwhile fold into the next pass.
 */
import type { Logger } from 'pino';
import { ms, type Millis } from '../core/duration.js';
import type { Prefix, PrefixKey } from '../core/prefix.js';
import { arpOptions, type ArpOptions, type GarpOptions } from './arp-options.js';
import { announceAddress, type Announcement, type AnnounceResult } from './gratuitous.js';
import type { HostCommands } from './host-commands.js';
import { holdAddress, kernelLifetime, removeAddress, type KernelLifetime } from './host-address.js';
import { kernelAnnounceHint, kernelAnnouncesIpv6, na6Usable } from './kernel-announce.js';
import { isHostPrefix, readInterface } from './interface-state.js';

export interface DesiredArpEntry {
  prefix: Prefix;
  interface: string;
  /** Monotonic ms: the address must not outlive this (the node's quorum validity). */
  until: Millis;
}
export type DesiredArp = ReadonlyMap<PrefixKey, DesiredArpEntry>;

export interface HeldAddress {
  prefix: Prefix;
  interface: string;
  /**
   * Monotonic ms at which the kernel's lifetime ends, counted from when the last renewal
   * returned. The kernel may remove it up to KERNEL_EXPIRY_LATENESS later (host-address.ts).
   */
  lifetimeEnd: Millis;
}

/** An address on an interface the reconciler may manage (cleanup, sync). */
export interface ManagedAddress {
  prefix: Prefix;
  interface: string;
}

export interface ArpApplied {
  kind: 'apply' | 'renew' | 'sync' | 'stop';
  added: number;
  removed: number;
  renewed: number;
  /** Sync only: differences from the desired state found on the host and repaired. */
  repaired: number;
}

export type ArpEvent =
  | { kind: 'announced'; prefix: Prefix; interface: string; result: AnnounceResult };

export interface ArpReconcilerOptions {
  cmd: HostCommands;
  logger: Logger;
  options?: Partial<Omit<ArpOptions, 'garp'>> & { garp?: Partial<GarpOptions> };
  /** Monotonic clock in ms; performance.now() by default (the agent's clock). */
  now?: () => Millis;
  onApplied?: (stats: ArpApplied) => void;
  onError?: (err: Error) => void;
  /** Each finished burst of gratuitous announcements (for metrics and tests). */
  onEvent?: (event: ArpEvent) => void;
  /**
   * When a renewal is due, ask the caller to decide again (it answers with `setDesired`,
   * which renews) instead of renewing on the last decision. With `decisionFreshness`, no
   * address is added or renewed on a decision older than that: an agent whose event loop
   * stalled (SIGSTOP, a blocked loop) must not, on waking, renew an address on what it
   * decided before the stall — its peers may have taken the service meanwhile, its quorum
   * may be gone. Only removals act on an old decision.
   */
  onRenewalDue?: () => void;
  decisionFreshness?: Millis;
  /** Whether na6 can run (it needs root); by default, whether this process is root. */
  na6Usable?: boolean;
}

interface Holding {
  prefix: Prefix;
  interface: string;
  until: Millis;
  lifetime: KernelLifetime;
  /** Monotonic ms of the last successful `ip addr replace`. */
  renewedAt: Millis;
  announcement: Announcement | undefined;
  refreshTimer: NodeJS.Timeout | undefined;
  /** The last renewal failed (logged once, until it succeeds again). */
  renewFailing: boolean;
  /** IPv6 added so that the kernel announced it (kernel-announce.ts). */
  kernelAnnounced: boolean;
}

type Work = 'apply' | 'renew' | 'sync';

/**
 * The lifetime is computed before `ip` runs and counts from when the kernel applies it: this
 * much is kept back so the command's own latency cannot carry the end past `until`.
 */
const COMMAND_LATENCY_MARGIN = 100;

/** How long the kernel may keep the address, from `now`, for an entry valid until `until`. */
const allowed = (until: Millis, now: Millis): Millis => ms(until - now - COMMAND_LATENCY_MARGIN);

/** A timer may fire a millisecond early; a renewal this close to due counts as due. */
const TIMER_SLACK = 5;

/** An address on an interface: the unit the reconciler adds and removes. */
const slot = (prefix: Prefix, iface: string): string => `${prefix.key}@${iface}`;

export class ArpReconciler {
  readonly options: ArpOptions;
  private desired: DesiredArp = new Map();
  /** When the caller last said what it wants (monotonic ms). */
  private desiredAt: Millis = ms(-Infinity);
  private readonly holding = new Map<PrefixKey, Holding>();
  /** Removals that failed: retried on every pass; while here, the address is not "released". */
  private readonly pendingRemoval = new Map<string, ManagedAddress>();
  /** Addresses this reconciler may remove when not desired: what it held, and `cleanup`'s list. */
  private readonly managed = new Map<string, ManagedAddress>();
  private readonly wanted = new Set<Work>();
  private loop: Promise<void> | null = null;
  private renewTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => Millis;
  /** Failure messages already logged, so a persisting failure is one line, not one per pass. */
  private readonly failing = new Map<string, string>();
  private readonly na6Usable: boolean;

  constructor(private readonly opts: ArpReconcilerOptions) {
    this.options = arpOptions(opts.options);
    this.now = opts.now ?? (() => ms(performance.now()));
    this.na6Usable = opts.na6Usable ?? na6Usable();
  }

  /**
   * The addresses this host should hold now (the agent calls it on every decision). Resolves
   * when the removals and additions it caused are done (announcements continue in the
   * background).
   */
  setDesired(next: DesiredArp): Promise<void> {
    if (this.stopped) return Promise.resolve();
    for (const [key, entry] of next) {
      if (entry.prefix.key !== key) throw new Error(`desired ARP entry ${key} carries prefix ${entry.prefix.key}`);
      if (!isHostPrefix(entry.prefix)) throw new Error(`ARP takeover needs a host address (/32 or /128), not ${key}`);
    }
    this.desired = new Map(next);
    this.desiredAt = this.now();
    return this.request('apply');
  }

  /**
   * At start, before the first `setDesired`: removes leftovers of an earlier run. `addresses`
   * are every configured service address on its ARP interface; each one present there as a
   * host address and not desired is removed. They stay managed: the sync removes them again
   * if they reappear.
   */
  async cleanup(addresses: Iterable<ManagedAddress>): Promise<void> {
    for (const a of addresses) {
      if (!isHostPrefix(a.prefix)) continue;
      this.managed.set(slot(a.prefix, a.interface), { prefix: a.prefix, interface: a.interface });
    }
    await this.request('sync');
  }

  /** Reads the interfaces and repairs drift now (also runs every `syncInterval`). */
  sync(): Promise<void> {
    return this.request('sync');
  }

  /**
   * Removes every address it holds or failed to remove and stops all timers. Resolves when
   * done; addresses whose removal failed are reported by `onError` (their lifetime still ends).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.syncTimer);
    this.desired = new Map();
    await this.idle();
    const silenced: Promise<unknown>[] = [];
    for (const [key, h] of [...this.holding]) {
      this.pendingRemoval.set(slot(h.prefix, h.interface), { prefix: h.prefix, interface: h.interface });
      silenced.push(this.drop(key, h));
    }
    await Promise.all(silenced);
    const removed = await this.removeAll([...this.pendingRemoval.values()]);
    this.opts.onApplied?.({ kind: 'stop', added: 0, removed, renewed: 0, repaired: 0 });
  }

  /** Resolves once no pass is running or wanted. */
  async idle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  /** What is held now: prefix → interface and when its kernel lifetime ends (monotonic ms). */
  held(): ReadonlyMap<PrefixKey, HeldAddress> {
    const out = new Map<PrefixKey, HeldAddress>();
    for (const [key, h] of this.holding) {
      out.set(key, { prefix: h.prefix, interface: h.interface, lifetimeEnd: ms(h.renewedAt + h.lifetime.seconds * 1000) });
    }
    return out;
  }

  /**
   * True when `prefix` is neither held nor awaiting a removal that failed: for heartbeats,
   * "released" means the address is confirmed gone from this host (its removal succeeded or
   * it was never added).
   */
  released(prefix: PrefixKey): boolean {
    if (this.holding.has(prefix)) return false;
    for (const pending of this.pendingRemoval.values()) if (pending.prefix.key === prefix) return false;
    return true;
  }

  private request(work: Work): Promise<void> {
    this.wanted.add(work);
    if (!this.loop) {
      this.loop = this.drain().finally(() => {
        this.loop = null;
        this.schedule();
      });
    }
    return this.loop;
  }

  private async drain(): Promise<void> {
    while (this.wanted.size > 0) {
      // An apply is the fast path and also renews what it must; a sync subsumes an apply.
      const work: Work = this.wanted.has('sync') ? 'sync' : this.wanted.has('apply') ? 'apply' : 'renew';
      if (work === 'sync') this.wanted.clear();
      else if (work === 'apply') { this.wanted.delete('apply'); this.wanted.delete('renew'); }
      else this.wanted.delete('renew');
      try {
        const stats = await this.pass(work);
        this.opts.onApplied?.(stats);
      } catch (err) {
        // pass() reports its own failures; this is a bug guard so the loop never dies.
        this.report('pass', err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /**
   * One pass: removals first, then additions and renewals. `renew` renews every held address
   * whose renewal is due; `apply` and `sync` also renew those whose `until` pulled the end in.
   */
  private async pass(work: Work): Promise<ArpApplied> {
    const stats: ArpApplied = { kind: work, added: 0, removed: 0, renewed: 0, repaired: 0 };
    const now = this.now();

    // 1. Removals: not desired any more, moved to another interface, or no whole second left.
    const silenced: Promise<unknown>[] = [];
    for (const [key, h] of this.holding) {
      const want = this.desired.get(key);
      const reason = !want
        ? 'not desired'
        : want.interface !== h.interface
          ? `moves to ${want.interface}`
          : !kernelLifetime(this.options.lifetime, allowed(want.until, now)).hold
            ? 'less than a second of validity left'
            : undefined;
      if (reason === undefined) continue;
      // Pending from now until `ip addr del` succeeds: `released()` must not say so before.
      this.pendingRemoval.set(slot(h.prefix, h.interface), { prefix: h.prefix, interface: h.interface });
      silenced.push(this.drop(key, h));
      this.opts.logger.info({ prefix: key, interface: h.interface, reason }, 'ARP: removing service address');
    }
    const remove: ManagedAddress[] = [...this.pendingRemoval.values()];
    if (work === 'sync') remove.push(...(await this.strayAddresses(stats)));
    await Promise.all(silenced);
    stats.removed += await this.removeAll(remove);

    // 2. Additions and renewals, only on a fresh decision (see `decisionFreshness`).
    const adds: Promise<void>[] = [];
    const freshness = this.opts.decisionFreshness;
    if (freshness !== undefined && now - this.desiredAt > freshness) return stats;
    for (const [key, want] of this.desired) {
      const decision = kernelLifetime(this.options.lifetime, allowed(want.until, now));
      if (!decision.hold) continue;
      const h = this.holding.get(key);
      if (!h) {
        adds.push(this.add(want, decision.lifetime, stats));
        continue;
      }
      const allowedEnd = now + decision.lifetime.seconds * 1000;
      const currentEnd = h.renewedAt + h.lifetime.seconds * 1000;
      const due = now + TIMER_SLACK >= h.renewedAt + (h.lifetime.seconds * 1000) / 3;
      h.until = want.until;
      // The end must come in when the validity shrank; otherwise renew only when due.
      if (currentEnd > allowedEnd || due) adds.push(this.renew(h, decision.lifetime, stats));
    }
    await Promise.all(adds);
    return stats;
  }

  private async add(want: DesiredArpEntry, lifetime: KernelLifetime, stats: ArpApplied): Promise<void> {
    const key = want.prefix.key;
    const kernelAnnounces = want.prefix.family === 6 && await kernelAnnouncesIpv6(this.opts.cmd, want.interface);
    const result = await holdAddress(this.opts.cmd, want.interface, want.prefix, lifetime, { kernelAnnounces });
    // Counted from after the command: `lifetimeEnd` must not claim the address gone too early.
    const at = this.now();
    if (!result.ok) {
      this.fail(`add ${slot(want.prefix, want.interface)}`, result.reason, { prefix: key, interface: want.interface }, 'ARP: could not add service address; retrying');
      return;
    }
    this.recover(`add ${slot(want.prefix, want.interface)}`);
    this.managed.set(slot(want.prefix, want.interface), { prefix: want.prefix, interface: want.interface });
    this.pendingRemoval.delete(slot(want.prefix, want.interface));
    const h: Holding = { prefix: want.prefix, interface: want.interface, until: want.until, lifetime, renewedAt: at, announcement: undefined, refreshTimer: undefined, renewFailing: false, kernelAnnounced: kernelAnnounces };
    this.holding.set(key, h);
    stats.added++;
    this.opts.logger.info({ prefix: key, interface: want.interface, lifetimeSeconds: lifetime.seconds, ...(kernelAnnounces ? { announcedBy: 'kernel (ndisc_notify)' } : {}) }, 'ARP: service address added');
    this.announce(h, this.options.garp.count);
  }

  private async renew(h: Holding, lifetime: KernelLifetime, stats: ArpApplied): Promise<void> {
    const result = await holdAddress(this.opts.cmd, h.interface, h.prefix, lifetime);
    const now = this.now();
    if (this.holding.get(h.prefix.key) !== h) return; // removed meanwhile (stop)
    if (!result.ok) {
      if (!h.renewFailing) this.opts.logger.warn({ prefix: h.prefix.key, interface: h.interface, err: result.reason }, 'ARP: could not renew service address; the kernel drops it when its lifetime ends');
      h.renewFailing = true;
      this.opts.onError?.(new Error(result.reason));
      return;
    }
    if (h.renewFailing) this.opts.logger.info({ prefix: h.prefix.key, interface: h.interface }, 'ARP: service address renewed again');
    h.renewFailing = false;
    h.lifetime = lifetime;
    h.renewedAt = now;
    stats.renewed++;
  }

  /**
   * Sync: reads every interface involved and returns the managed addresses that are present
   * but not desired; re-adds (and re-announces) held addresses that have gone.
   */
  private async strayAddresses(stats: ArpApplied): Promise<ManagedAddress[]> {
    const interfaces = new Set<string>([...this.managed.values()].map((m) => m.interface));
    for (const h of this.holding.values()) interfaces.add(h.interface);
    const present = new Map<string, Set<string>>(); // interface → address/len present
    for (const name of interfaces) {
      const read = await readInterface(this.opts.cmd, name);
      if (!read.ok) {
        this.fail(`read ${name}`, read.reason, { interface: name }, 'ARP: could not read interface; drift not repaired');
        continue;
      }
      this.recover(`read ${name}`);
      present.set(name, new Set((read.state?.addresses ?? []).map((a) => `${a.address}/${a.prefixLength}`)));
    }
    const stray: ManagedAddress[] = [];
    for (const [id, m] of this.managed) {
      const seen = present.get(m.interface);
      if (!seen?.has(m.prefix.key)) continue;
      const want = this.desired.get(m.prefix.key);
      if (want?.interface === m.interface && this.holding.has(m.prefix.key)) continue;
      if (this.pendingRemoval.has(id)) continue; // already being removed
      if (want?.interface === m.interface) continue; // about to be added by this pass
      this.opts.logger.warn({ prefix: m.prefix.key, interface: m.interface }, 'ARP: service address present but not held by this agent: removing');
      stats.repaired++;
      stray.push(m);
    }
    for (const [key, h] of this.holding) {
      const seen = present.get(h.interface);
      if (!seen || seen.has(h.prefix.key)) continue;
      // Gone (removed by hand, interface flapped): forget it so the addition step re-adds it
      // and the neighbours are told again.
      this.opts.logger.warn({ prefix: key, interface: h.interface }, 'ARP: held service address vanished from the interface: re-adding');
      this.drop(key, h);
      stats.repaired++;
    }
    return stray;
  }

  /** Removes addresses (in parallel); failures stay pending and are retried next pass. */
  private async removeAll(list: readonly ManagedAddress[]): Promise<number> {
    const results = await Promise.all(
      list.map(async (m) => {
        const id = slot(m.prefix, m.interface);
        const result = await removeAddress(this.opts.cmd, m.interface, m.prefix);
        if (result.ok) {
          this.pendingRemoval.delete(id);
          this.recover(`remove ${id}`);
          this.opts.logger.info({ prefix: m.prefix.key, interface: m.interface }, 'ARP: service address removed');
          return 1;
        }
        this.pendingRemoval.set(id, m);
        this.fail(`remove ${id}`, result.reason, { prefix: m.prefix.key, interface: m.interface }, 'ARP: could not remove service address; retrying (its lifetime still ends)');
        return 0;
      }),
    );
    return results.reduce<number>((a, b) => a + b, 0);
  }

  /** Forgets a held address: no more renewals or announcements (the caller removes it). */
  /**
   * Forgets a held address: no more renewals or announcements (the caller removes it). The
   * promise settles once any announcement tool still running has exited: the caller removes
   * the address only then, so no gratuitous ARP for it leaves this host after its removal
   * (one sent after a successor's would point the neighbours back here).
   */
  private drop(key: PrefixKey, h: Holding): Promise<unknown> {
    const announcement = h.announcement;
    announcement?.cancel();
    clearTimeout(h.refreshTimer);
    if (this.holding.get(key) === h) this.holding.delete(key);
    return announcement?.done ?? Promise.resolve();
  }

  /** Sends `rounds` rounds of announcements, then schedules the refresh. */
  private announce(h: Holding, rounds: number): void {
    const garp = this.options.garp;
    if (h.prefix.family === 6 && !this.na6Usable) {
      // The kernel sent the one advertisement there will be, or none can be sent: say how to get one.
      if (!h.kernelAnnounced) {
        this.fail(`announce ${slot(h.prefix, h.interface)}`, kernelAnnounceHint(h.interface), { prefix: h.prefix.key, interface: h.interface }, 'ARP: cannot announce an IPv6 takeover');
      }
      return;
    }
    h.announcement?.cancel();
    const announcement = announceAddress(this.opts.cmd, h.interface, h.prefix, { forms: garp.forms, count: rounds, interval: garp.interval });
    h.announcement = announcement;
    void announcement.done.then((result) => {
      if (h.announcement === announcement) h.announcement = undefined;
      if (result.ok === false && !('cancelled' in result)) {
        this.fail(`announce ${slot(h.prefix, h.interface)}`, result.reason, { prefix: h.prefix.key, interface: h.interface }, 'ARP: gratuitous announcement failed');
      } else if (result.ok) {
        this.recover(`announce ${slot(h.prefix, h.interface)}`);
      }
      this.opts.onEvent?.({ kind: 'announced', prefix: h.prefix, interface: h.interface, result });
    });
    clearTimeout(h.refreshTimer);
    if (garp.refresh > 0) {
      h.refreshTimer = setTimeout(() => {
        if (this.holding.get(h.prefix.key) === h && !this.stopped) this.announce(h, 1);
      }, garp.refresh);
    }
  }

  /** The next renewal (earliest due among held addresses) and the next sync. */
  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.renewTimer);
    let next = Infinity;
    for (const h of this.holding.values()) next = Math.min(next, h.renewedAt + (h.lifetime.seconds * 1000) / 3);
    // Entries desired but not held (an add failed, or too little validity yet): retry soon.
    if (this.pendingRemoval.size > 0 || [...this.desired.keys()].some((k) => !this.holding.has(k))) {
      next = Math.min(next, this.now() + Math.min(this.options.lifetime / 3, this.options.syncInterval));
    }
    if (Number.isFinite(next)) {
      const due = (): void => (this.opts.onRenewalDue ? this.opts.onRenewalDue() : void this.request('renew'));
      this.renewTimer = setTimeout(due, Math.max(0, next - this.now()));
    }
    if (!this.syncTimer) {
      this.syncTimer = setTimeout(() => {
        this.syncTimer = undefined;
        void this.request('sync');
      }, this.options.syncInterval);
    }
  }

  private fail(what: string, reason: string, fields: Record<string, string>, message: string): void {
    if (this.failing.get(what) !== reason) this.opts.logger.warn({ ...fields, err: reason }, message);
    this.failing.set(what, reason);
    this.opts.onError?.(new Error(reason));
  }

  private recover(what: string): void {
    this.failing.delete(what);
  }

  private report(what: string, err: Error): void {
    this.opts.logger.error({ err: err.message }, `ARP reconciler ${what} failed`);
    this.opts.onError?.(err);
  }
}
