/**
 * The ARP method's timing knobs, each with its default and the reason for it (the config
 * surfaces them as `arp:` keys; keepalived's man page is the model: every knob named once).
 */
import { ms, type Millis } from '../core/duration.js';
import type { GarpForm } from './gratuitous.js';

export interface GarpOptions {
  /** IPv4: ARP request (`arping -U`) and/or reply (`arping -A`) form; IPv6 always sends an NA. */
  forms: readonly GarpForm[];
  /** Announcements sent on taking an address (each round sends every form once). */
  count: number;
  /** Pause between those rounds. */
  interval: Millis;
  /** While held, one more round every `refresh`; 0 = never. */
  refresh: Millis;
}

export interface ArpOptions {
  /**
   * The kernel lifetime given to a held address (whole seconds, ≥ 1 s): how long the address
   * outlives an agent that stopped renewing (killed, stopped, event loop blocked). Shorter
   * means a faster safe takeover after an agent death (the survivor waits lifetime + the
   * kernel's lateness), longer means a stall of the agent's loop drops the address sooner
   * than one would like. Renewed every lifetime/3.
   */
  lifetime: Millis;
  garp: GarpOptions;
  /**
   * How often `ip -j addr` is read to repair drift (an address removed or added by hand, an
   * interface that came back).
   */
  syncInterval: Millis;
}

/**
 * Defaults, and why:
 * - lifetime 2 s: the shortest lifetime that survives one missed renewal. Renewals run every
 *   lifetime/3 (≈ 667 ms); with 1 s, a single late timer (a GC pause, a busy host) would drop
 *   a healthy holder's address, and any quorum validity under 2 s away would already round
 *   down to "do not hold". The cost: an agent death costs up to 2 s + ~0.4 s of kernel
 *   lateness before a survivor may take over (keepalived has no such bound at all: its
 *   address stays on a host whose keepalived died).
 * - garp both forms, 3 rounds 200 ms apart: some devices heed only requests, others only
 *   replies (keepalived sends requests, MetalLB both over time). The first round retrains
 *   the segment at once; the repeats cover a lost packet while the outage is still counted
 *   in milliseconds. keepalived's default is 5 at once (`garp_master_repeat 5`) plus another
 *   burst after `garp_master_delay 5` s; MetalLB spreads ~5 over 5 s (1.1 s apart), slower
 *   than this project's outage target.
 * - refresh 10 s: keeps caches right for neighbours that missed the takeover or came up later
 *   (keepalived's `garp_master_refresh` is off by default; operators of flaky segments turn
 *   it on). One round of every form per refresh costs two tiny packets.
 * - syncInterval 1 s: drift is repaired within a second; one `ip -j addr` per interface per
 *   second is cheap. (A held address removed by hand also comes back at the next renewal,
 *   since renewal is `ip addr replace`; the sync also re-sends the announcements.)
 */
export const ARP_DEFAULTS: ArpOptions = Object.freeze({
  lifetime: ms(2000),
  garp: Object.freeze({ forms: Object.freeze(['request', 'reply'] as GarpForm[]), count: 3, interval: ms(200), refresh: ms(10_000) }),
  syncInterval: ms(1000),
});

/** Defaults completed with what the caller gave; throws on a value the kernel cannot hold. */
export function arpOptions(given: Partial<Omit<ArpOptions, 'garp'>> & { garp?: Partial<GarpOptions> } = {}): ArpOptions {
  const options: ArpOptions = {
    lifetime: given.lifetime ?? ARP_DEFAULTS.lifetime,
    garp: { ...ARP_DEFAULTS.garp, ...given.garp },
    syncInterval: given.syncInterval ?? ARP_DEFAULTS.syncInterval,
  };
  if (!(options.lifetime >= 1000) || options.lifetime % 1000 !== 0) throw new Error(`arp lifetime must be whole seconds, at least 1s (got ${options.lifetime} ms)`);
  if (!Number.isInteger(options.garp.count) || options.garp.count < 1) throw new Error(`arp garp count must be at least 1 (got ${options.garp.count})`);
  if (!(options.garp.interval >= 0)) throw new Error('arp garp interval must not be negative');
  if (!(options.garp.refresh >= 0)) throw new Error('arp garp refresh must not be negative (0 = never)');
  if (options.garp.forms.length === 0) throw new Error('arp garp forms: name at least one of request, reply');
  if (!(options.syncInterval > 0)) throw new Error('arp syncInterval must be positive');
  return options;
}
