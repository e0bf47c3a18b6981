/**
 * Which server namespaces hold the service addresses, as the kernels say it, over time: one
 * `ip -o monitor address dev eth0` per site (a netlink event per add, renewal, removal and
 * lifetime expiry; nothing in between), stamped on arrival with the lab clock. The client's
 * view (lab/arp-prober.ts) says who answered; this says who *held* — the two differ when a
 * host is cut off the segment, or when the client's neighbour entry already points at the
 * new holder while the old one still has its copy (keepalived's crash). "Two holders" in the
 * ARP benchmark is read from here.
 *
 * iproute2 6.1 prints one line per event with `-o` and flushes after each one, e.g.
 *   3: eth0    inet 192.0.2.100/32 scope global dynamic eth0\       valid_lft 2sec …
 *   Deleted 3: eth0    inet 192.0.2.100/32 scope global dynamic eth0\ valid_lft 0sec …
 */
import { createInterface } from 'node:readline';
import { ms, type Millis } from '../src/core/duration.js';
import { hasAddress } from '../lab/arp-client.js';
import { epochNow, type EpochMillis } from '../lab/arp-clock.js';
import type { Lab, Namespace } from '../lab/netns.js';

/** One change of whether a site holds the address. */
export interface HoldingChange<S extends string> {
  at: EpochMillis;
  site: S;
  held: boolean;
}

/** Reads one monitor line: the address it is about and whether it was added (or renewed) or deleted. */
export function parseAddressEvent(line: string): { address: string; deleted: boolean } | undefined {
  const match = /^(Deleted )?\d+: \S+\s+inet6? ([0-9a-fA-F:.]+)\//.exec(line);
  if (!match) return undefined;
  return { address: match[2]!, deleted: match[1] !== undefined };
}

/**
 * Time within [from, to] during which at least two sites held the address, from a start
 * state and the changes (in any order). Pure, so it is checked without a lab.
 */
export function overlapWithin<S extends string>(
  initial: ReadonlyMap<S, boolean>, changes: readonly HoldingChange<S>[], from: EpochMillis, to: EpochMillis,
): Millis {
  const held = new Map(initial);
  const ordered = [...changes].sort((a, b) => a.at - b.at);
  let total = 0;
  let cursor: number = from;
  const count = (): number => [...held.values()].filter(Boolean).length;
  for (const change of ordered) {
    if (change.at > to) break;
    if (change.at > cursor) {
      if (count() >= 2) total += change.at - cursor;
      cursor = change.at;
    }
    held.set(change.site, change.held);
  }
  if (to > cursor && count() >= 2) total += to - cursor;
  return ms(total);
}

export class AddressWatch<S extends string> {
  /** Per watched address: its changes, and who held it when the watch started. */
  private readonly changes = new Map<string, HoldingChange<S>[]>();
  private readonly initial = new Map<string, Map<S, boolean>>();

  private constructor(readonly addresses: readonly string[]) {
    for (const a of addresses) {
      this.changes.set(a, []);
      this.initial.set(a, new Map());
    }
  }

  /** One monitor per site, then a snapshot of who holds each address now. Monitors stop at lab teardown. */
  static async start<S extends string>(lab: Lab, sites: ReadonlyMap<S, Namespace>, addresses: readonly string[]): Promise<AddressWatch<S>> {
    const watch = new AddressWatch<S>(addresses);
    for (const [site, ns] of sites) {
      const proc = await lab.spawn(ns, `address-watch-${site}`, 'ip', ['-o', 'monitor', 'address', 'dev', 'eth0']);
      createInterface({ input: proc.child.stdout! }).on('line', (line) => {
        const event = parseAddressEvent(line);
        if (event) watch.changes.get(event.address)?.push({ at: epochNow(), site, held: !event.deleted });
      });
    }
    // The monitors may need a moment to subscribe; the snapshot after it is the start state.
    await new Promise((r) => setTimeout(r, 100));
    for (const address of addresses) {
      for (const [site, ns] of sites) watch.initial.get(address)!.set(site, await hasAddress(ns, address));
    }
    return watch;
  }

  /** Who holds `address` now (by the latest event of each site, or the start snapshot). */
  holders(address: string = this.addresses[0]!): S[] {
    const now = this.stateAt(address, epochNow());
    return [...now].filter(([, held]) => held).map(([site]) => site);
  }

  /** Time within [from, to] during which two or more sites held `address`. */
  overlap(address: string, from: EpochMillis, to: EpochMillis): Millis {
    return overlapWithin(this.stateAt(address, from), this.list(address).filter((c) => c.at >= from), from, to);
  }

  /** The first change of `address` at or after `since` that matches. */
  firstChange(address: string, since: EpochMillis, site: S, held: boolean): HoldingChange<S> | undefined {
    return this.list(address).find((c) => c.at >= since && c.site === site && c.held === held);
  }

  private list(address: string): HoldingChange<S>[] {
    const list = this.changes.get(address);
    if (!list) throw new Error(`address watch: ${address} is not watched`);
    return list;
  }

  private stateAt(address: string, at: EpochMillis): Map<S, boolean> {
    const state = new Map(this.initial.get(address));
    for (const c of this.list(address)) if (c.at < at) state.set(c.site, c.held);
    return state;
  }
}
