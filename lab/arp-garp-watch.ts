/**
 * Watches a segment from the client's side for the announcements that retrain neighbour
 * caches: gratuitous ARPs (request form `who-has X tell X` and reply form `X is-at MAC`,
 * sender IP = target IP = the service address) and unsolicited IPv6 neighbour
 * advertisements (NA sent to a multicast group) for a service address. Each is recorded with
 * its Ethernet source MAC, mapped to a node, and the kernel's capture time, so a test can ask
 * "did the new holder announce itself?" and "did two nodes announce the address close
 * together?".
 *
 * One `tcpdump` in the client namespace, with a filter that lets through only gratuitous
 * ARPs (`arp[14:4] = arp[24:4]`: sender protocol address equals target protocol address)
 * and neighbour advertisements (`ip6[40] == 136`, no extension headers on an NA), line
 * buffered (`-l`) and without libpcap's delivery batching (`--immediate-mode`, which would
 * otherwise hold packets back for up to a second). `-tt` times are the kernel's capture
 * times as epoch seconds: the same axis as the lab clock.
 */
import { createInterface } from 'node:readline';
import { ms, type Millis } from '../src/core/duration.js';
import { epochMillis, type EpochMillis } from './arp-clock.js';
import type { Lab, Namespace } from './netns.js';
import type { LabProcess } from './process.js';
import { waitOnListeners } from './listener-wait.js';

export type GarpKind = 'arp-request' | 'arp-reply' | 'na';

export interface Garp {
  /** Capture time (lab clock). */
  at: EpochMillis;
  kind: GarpKind;
  /** The service address announced. */
  address: string;
  /** Ethernet source. */
  mac: string;
  /** The node owning `mac`, when known. */
  node: string | undefined;
  /** Neighbour advertisement flags, e.g. ["override"] (empty for ARP). */
  flags: string[];
}

export interface GarpWatchOptions {
  /** The service addresses to record (bare). Other gratuitous ARPs are ignored. */
  addresses: readonly string[];
  /** MAC → node name (lab/arp-client.ts `macsOf`). */
  nodesByMac?: ReadonlyMap<string, string>;
  /** Default `eth0`. */
  device?: string;
  /** Default 10 s. */
  startTimeout?: Millis;
}

/** A window of at most `windowMs` in which more than one MAC announced the same address. */
export interface TwoSenderWindow {
  address: string;
  from: EpochMillis;
  to: EpochMillis;
  macs: string[];
  nodes: (string | undefined)[];
}

/** Which announcements a question is about. */
export interface GarpFilter {
  address?: string;
  since?: EpochMillis;
  until?: EpochMillis;
}

const FILTER = '(arp and arp[14:4] = arp[24:4]) or (icmp6 and ip6[40] == 136)';

export class GarpWatch {
  private readonly seen: Garp[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(readonly process: LabProcess, readonly options: GarpWatchOptions) {
    createInterface({ input: process.child.stdout! }).on('line', (line) => {
      const garp = parseTcpdumpLine(line, options.nodesByMac);
      if (!garp || !options.addresses.includes(garp.address)) return;
      this.seen.push(garp);
      for (const notify of [...this.listeners]) notify();
    });
  }

  /** Starts tcpdump in `ns` and resolves once it captures. Stopped at lab teardown. */
  static async start(lab: Lab, ns: Namespace, options: GarpWatchOptions): Promise<GarpWatch> {
    const device = options.device ?? 'eth0';
    const proc = await lab.spawn(ns, 'garp-watch', 'tcpdump', ['-l', '--immediate-mode', '-v', '-n', '-e', '-tt', '-i', device, FILTER]);
    const watch = new GarpWatch(proc, options);
    await proc.waitForOutput(/listening on/, options.startTimeout ?? ms(10_000));
    return watch;
  }

  /**
   * Gratuitous ARPs and unsolicited NAs (those sent to a multicast address) for the watched
   * addresses, in capture order. Solicited NAs (answers to the client's own solicitations)
   * do not count: they retrain nobody else.
   */
  garps(filter: GarpFilter = {}): readonly Garp[] {
    return this.seen.filter((g) => g.flags.includes('unsolicited') || g.kind !== 'na').filter((g) => inFilter(g, filter));
  }

  /** Every captured announcement, solicited NAs included. */
  all(): readonly Garp[] {
    return this.seen;
  }

  /**
   * Windows of at most `windowMs` in which gratuitous announcements of one address came from
   * more than one MAC (overlapping windows merged). Empty: never two senders that close.
   */
  sendersWithin(windowMs: Millis, filter: GarpFilter = {}): TwoSenderWindow[] {
    const windows: TwoSenderWindow[] = [];
    const garps = this.garps(filter);
    for (const address of new Set(garps.map((g) => g.address))) {
      const list = garps.filter((g) => g.address === address);
      for (let i = 0; i < list.length; i++) {
        const a = list[i]!;
        const close = list.slice(i).filter((g) => g.at - a.at <= windowMs);
        const macs = [...new Set(close.map((g) => g.mac))];
        if (macs.length < 2) continue;
        const to = close[close.length - 1]!.at;
        const previous = windows[windows.length - 1];
        if (previous && previous.address === address && a.at <= previous.to) {
          previous.to = epochMillis(Math.max(previous.to, to));
          for (const m of macs) if (!previous.macs.includes(m)) previous.macs.push(m);
          previous.nodes = previous.macs.map((m) => this.options.nodesByMac?.get(m));
        } else {
          windows.push({ address, from: a.at, to, macs, nodes: macs.map((m) => this.options.nodesByMac?.get(m)) });
        }
      }
    }
    return windows;
  }

  /** Resolves with the first gratuitous announcement from `node` (at or after `since`). */
  waitForGarpFrom(node: string, timeout: Millis, filter: GarpFilter = {}): Promise<Garp> {
    return waitOnListeners(this.listeners, {
      probe: () => this.garps(filter).find((g) => g.node === node),
      timedOut: () => new Error(`no gratuitous ARP/NA from ${node} within ${timeout} ms (seen: ${JSON.stringify(this.seen)})`),
      timeout,
    });
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }
}

/** `GarpWatch.start`, as a function like the other lab starters. */
export function startGarpWatch(lab: Lab, ns: Namespace, options: GarpWatchOptions): Promise<GarpWatch> {
  return GarpWatch.start(lab, ns, options);
}

const HEAD_RE = /^(\d+\.\d+) ([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype (\S+)/;
const ARP_REQUEST_RE = /Request who-has (\S+)(?: \([0-9a-f:]+\))? tell (\S+?),/;
const ARP_REPLY_RE = /Reply (\S+) is-at ([0-9a-f:]{17})/;
const NA_RE = /(\S+) > (\S+): .*neighbor advertisement, .*tgt is ([0-9a-fA-F:.]+?),?(?: Flags \[([^\]]*)\])?$/;

/**
 * One line of `tcpdump -l -v -n -e -tt` as filtered above; undefined for anything else
 * (continuation lines of NA options, tcpdump's own messages, non-gratuitous ARP).
 */
export function parseTcpdumpLine(line: string, nodesByMac?: ReadonlyMap<string, string>): Garp | undefined {
  const head = HEAD_RE.exec(line);
  if (!head) return undefined;
  const at = epochMillis(Number(head[1]) * 1000);
  const mac = head[2]!;
  const node = nodesByMac?.get(mac);
  if (head[4] === 'ARP') {
    const request = ARP_REQUEST_RE.exec(line);
    if (request) return request[1] === request[2] ? { at, kind: 'arp-request', address: request[1]!, mac, node, flags: [] } : undefined;
    const reply = ARP_REPLY_RE.exec(line);
    // The capture filter admits only replies whose target address equals the sender's.
    if (reply) return { at, kind: 'arp-reply', address: reply[1]!, mac, node, flags: [] };
    return undefined;
  }
  const na = NA_RE.exec(line.trimEnd());
  if (!na) return undefined;
  const flags = (na[4] ?? '').split(',').map((f) => f.trim()).filter((f) => f && f !== 'none');
  // Sent to a multicast group: nobody asked, so it is unsolicited.
  if (na[2]!.toLowerCase().startsWith('ff')) flags.push('unsolicited');
  return { at, kind: 'na', address: na[3]!, mac, node, flags };
}

function inFilter(g: Garp, filter: GarpFilter): boolean {
  if (filter.address !== undefined && g.address !== filter.address) return false;
  if (filter.since !== undefined && g.at < filter.since) return false;
  if (filter.until !== undefined && g.at >= filter.until) return false;
  return true;
}
