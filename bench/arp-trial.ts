/**
 * What every trial of the ARP benchmark shares, whichever tool moves the address: the lab
 * (three sites on one segment, whoami bound to the service address everywhere, the client's
 * 10 ms prober and GARP watcher, the kernels' view of who holds the address), waiting until
 * the holder alone holds and answers, and the measurement of one takeover.
 */
import { ms, type Millis } from '../src/core/duration.js';
import { epochNow, type EpochMillis } from '../lab/arp-clock.js';
import { VIP_V4, VIP_V6, type ArpSide } from '../lab/cluster-lab-arp.js';
import { SITE, type ClusterLab, type Site } from '../lab/cluster-lab.js';
import { waitUntil } from '../lab/wait.js';
import type { AddressWatch } from './arp-address-watch.js';
import { takeoverSeen } from './arp-outage.js';

export interface ArpBenchLab {
  lab: ClusterLab;
  arp: ArpSide;
  /** Who holds 192.0.2.100, by the kernels. */
  watch: AddressWatch<Site>;
}

/** One fault and the takeover after it. */
export interface TakeoverRecord {
  /** IPv4: last answer before the fault → first answer from the new holder. */
  outage: Millis;
  /** The same for IPv6. */
  outageV6: Millis | undefined;
  /** IPv4: the longest stretch without any answer in that span. */
  silence: Millis;
  newHolder: string;
  /** Time within [fault, end of observation] in which two sites' kernels held the address. */
  twoHolders: Millis;
  /** 20 ms windows with answers from two nodes (either family), as the client saw them. */
  twoAnswerWindows: number;
  /** 20 ms windows with gratuitous ARPs / NAs from two MACs. */
  twoGarpWindows: number;
  /** Fault → the old holder's kernel dropped the address (undefined: it did not, while observed). */
  oldAddressGoneAfter: Millis | undefined;
  /** Fault → the new holder's kernel had the address. */
  newAddressAfter: Millis | undefined;
}

/** Bounds for a stuck lab, not measurements. */
export const TAKEOVER_TIMEOUT = ms(15_000);
export const RESTORE_TIMEOUT = ms(30_000);

export const sleep = (duration: number): Promise<void> => new Promise((r) => setTimeout(r, duration));

/** A pause drawn over [base, base + spread) before a fault, so faults land at random points of check and heartbeat schedules. */
export function randomPhase(base: Millis, spread: Millis): Promise<void> {
  return sleep(base + Math.random() * spread);
}

/** Waits until `site` alone holds the address (its kernel) and has answered the client since now. */
export async function waitServedBy(b: ArpBenchLab, site: Site, timeout: Millis = RESTORE_TIMEOUT): Promise<void> {
  await waitUntil(() => {
    const h = b.watch.holders();
    return h.length === 1 && h[0] === site;
  }, { timeout, interval: ms(10), what: `${VIP_V4} held by ${site} alone (holders: ${b.watch.holders().join(',')})` });
  await b.arp.prober.waitForAnswerFrom(SITE[site].node, timeout, { target: VIP_V4, since: epochNow() });
}

/**
 * After a fault at `faultAt` on `oldHolder`: waits for the first IPv4 answer from another
 * node, keeps watching for `observe` more (so the two-holder figures see what follows the
 * takeover), and measures.
 */
export async function measureTakeover(b: ArpBenchLab, faultAt: EpochMillis, oldHolder: Site, observe: Millis): Promise<TakeoverRecord> {
  const { prober, garps } = b.arp;
  const others = (Object.keys(SITE) as Site[]).filter((s) => s !== oldHolder && b.lab.members.includes(s));
  await Promise.any(others.map((s) => prober.waitForAnswerFrom(SITE[s].node, TAKEOVER_TIMEOUT, { target: VIP_V4, since: faultAt })));
  await sleep(observe);
  const end = epochNow();
  // Answers from a few seconds before the fault: enough to find the last one before it.
  const window = { since: (faultAt - 5000) as EpochMillis };
  const seen = takeoverSeen(prober.samples({ ...window, target: VIP_V4 }), faultAt, SITE[oldHolder].node);
  if (!seen) throw new Error('bench arp: no answer from a new holder after all');
  const seen6 = takeoverSeen(prober.samples({ ...window, target: VIP_V6 }), faultAt, SITE[oldHolder].node);
  const newSite = others.find((s) => SITE[s].node === seen.newHolder)!;
  const gone = b.watch.firstChange(faultAt, oldHolder, false);
  const added = b.watch.firstChange(faultAt, newSite, true);
  return {
    outage: seen.outage,
    outageV6: seen6?.outage,
    silence: seen.silence,
    newHolder: seen.newHolder,
    twoHolders: b.watch.overlap(faultAt, end),
    twoAnswerWindows: prober.answeredBy(ms(20), { since: faultAt, until: end }).length,
    twoGarpWindows: garps.sendersWithin(ms(20), { since: faultAt, until: end }).length,
    oldAddressGoneAfter: gone ? ms(gone.at - faultAt) : undefined,
    newAddressAfter: added ? ms(added.at - faultAt) : undefined,
  };
}

/** One progress line for a trial. */
export function describeTrial(r: TakeoverRecord): string {
  const at = (v: Millis | undefined): string => (v === undefined ? '—' : `${v.toFixed(0)}`);
  return `outage ${r.outage.toFixed(1)} ms (v6 ${r.outageV6?.toFixed(1) ?? '—'}, silence ${r.silence.toFixed(1)}) → ${r.newHolder}; ` +
    `old address gone +${at(r.oldAddressGoneAfter)} ms, new added +${at(r.newAddressAfter)} ms; two holders ${r.twoHolders.toFixed(0)} ms, ` +
    `2-node answer windows ${r.twoAnswerWindows}, 2-MAC GARP windows ${r.twoGarpWindows}`;
}
