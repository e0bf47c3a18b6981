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
  /** Who holds 192.0.2.100 and 2001:db8:2::100, by the kernels. */
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
  /** Time within [fault, end of observation] in which two sites' kernels held the IPv4 address. */
  twoHolders: Millis;
  /** The same for the IPv6 address. */
  twoHoldersV6: Millis;
  /** 20 ms windows with answers from two nodes (either family), as the client saw them. */
  twoAnswerWindows: number;
  /** Those windows, as `target +from…+to ms nodes` after the fault. */
  twoAnswerDetail: string[];
  /** 20 ms windows with gratuitous ARPs / NAs from two MACs. */
  twoGarpWindows: number;
  /** Fault → the old holder's kernel dropped the IPv4 address (undefined: it did not, while observed). */
  oldAddressGoneAfter: Millis | undefined;
  /** Fault → the new holder's kernel had the IPv4 address. */
  newAddressAfter: Millis | undefined;
  /** The same two for IPv6. */
  oldAddressGoneAfterV6: Millis | undefined;
  newAddressAfterV6: Millis | undefined;
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
  for (const address of [VIP_V4, VIP_V6]) {
    await waitUntil(() => {
      const h = b.watch.holders(address);
      return h.length === 1 && h[0] === site;
    }, { timeout, interval: ms(10), what: `${address} held by ${site} alone` });
  }
  await b.arp.prober.waitForAnswerFrom(SITE[site].node, timeout, { target: VIP_V4, since: epochNow() });
}

/**
 * After a fault at `faultAt` on `oldHolder`: waits for the first IPv4 answer from another
 * node, keeps watching for `observe` more (so the two-holder figures see what follows the
 * takeover), and measures.
 */
export async function measureTakeover(b: ArpBenchLab, faultAt: EpochMillis, oldHolder: Site, observe: Millis, diagnose: () => string = () => ''): Promise<TakeoverRecord> {
  const { prober, garps } = b.arp;
  const others = (Object.keys(SITE) as Site[]).filter((s) => s !== oldHolder && b.lab.members.includes(s));
  try {
    await Promise.any(others.map((s) => prober.waitForAnswerFrom(SITE[s].node, TAKEOVER_TIMEOUT, { target: VIP_V4, since: faultAt })));
  } catch {
    const last = prober.lastAnswer(VIP_V4);
    throw new Error(`no answer from ${others.join(' or ')} within ${TAKEOVER_TIMEOUT} ms of the fault; holders v4 [${b.watch.holders(VIP_V4).join(',')}] ` +
      `v6 [${b.watch.holders(VIP_V6).join(',')}]; last answer ${last ? `from ${last.node} at +${(last.receivedAt - faultAt).toFixed(0)} ms` : 'none'}; ${diagnose()}`);
  }
  await sleep(observe);
  const end = epochNow();
  // Answers from a few seconds before the fault: enough to find the last one before it.
  const window = { since: (faultAt - 5000) as EpochMillis };
  const seen = takeoverSeen(prober.samples({ ...window, target: VIP_V4 }), faultAt, SITE[oldHolder].node);
  if (!seen) throw new Error('bench arp: no answer from a new holder after all');
  const seen6 = takeoverSeen(prober.samples({ ...window, target: VIP_V6 }), faultAt, SITE[oldHolder].node);
  const newSite = others.find((s) => SITE[s].node === seen.newHolder)!;
  const after = (c: { at: number } | undefined): Millis | undefined => (c ? ms(c.at - faultAt) : undefined);
  const windows = prober.answeredBy(ms(20), { since: faultAt, until: end });
  return {
    outage: seen.outage,
    outageV6: seen6?.outage,
    silence: seen.silence,
    newHolder: seen.newHolder,
    twoHolders: b.watch.overlap(VIP_V4, faultAt, end),
    twoHoldersV6: b.watch.overlap(VIP_V6, faultAt, end),
    twoAnswerWindows: windows.length,
    twoAnswerDetail: windows.map((w) => `${w.target} +${(w.from - faultAt).toFixed(1)}…+${(w.to - faultAt).toFixed(1)} ms ${w.nodes.join('+')}`),
    twoGarpWindows: garps.sendersWithin(ms(20), { since: faultAt, until: end }).length,
    oldAddressGoneAfter: after(b.watch.firstChange(VIP_V4, faultAt, oldHolder, false)),
    newAddressAfter: after(b.watch.firstChange(VIP_V4, faultAt, newSite, true)),
    oldAddressGoneAfterV6: after(b.watch.firstChange(VIP_V6, faultAt, oldHolder, false)),
    newAddressAfterV6: after(b.watch.firstChange(VIP_V6, faultAt, newSite, true)),
  };
}

/** One progress line for a trial. */
export function describeTrial(r: TakeoverRecord): string {
  const at = (v: Millis | undefined): string => (v === undefined ? '—' : `${v.toFixed(0)}`);
  return `outage ${r.outage.toFixed(1)} ms (v6 ${r.outageV6?.toFixed(1) ?? '—'}, silence ${r.silence.toFixed(1)}) → ${r.newHolder}; ` +
    `old address gone +${at(r.oldAddressGoneAfter)}/${at(r.oldAddressGoneAfterV6)} ms (v4/v6), new added +${at(r.newAddressAfter)}/${at(r.newAddressAfterV6)} ms; ` +
    `two holders ${r.twoHolders.toFixed(0)}/${r.twoHoldersV6.toFixed(0)} ms, 2-node answer windows ${r.twoAnswerWindows}${r.twoAnswerDetail.length ? ` [${r.twoAnswerDetail.join('; ')}]` : ''}, ` +
    `2-MAC GARP windows ${r.twoGarpWindows}`;
}

/** A trial that went wrong: what, and the lab's state then. Kept in the results, never hidden. */
export interface TrialFailure {
  trial: string;
  error: string;
}

/**
 * Runs one trial; when it fails, records why, brings the lab back with `recover` and lets the
 * series go on (a stuck lab, whose recovery fails too, ends the benchmark).
 */
export async function guardedTrial(name: string, failures: TrialFailure[], ctx: { progress(m: string): void }, body: () => Promise<void>, recover: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    failures.push({ trial: name, error });
    ctx.progress(`${name} FAILED: ${error}`);
    await recover();
  }
}
