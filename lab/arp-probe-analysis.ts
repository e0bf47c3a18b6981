/**
 * What the prober's answers mean, as pure functions over recorded answers (so they are
 * tested without a lab): outages as the client saw them, and windows in which two nodes
 * answered for one address. lab/arp-prober.ts applies them to a live prober.
 */
import { ms, type Millis } from '../src/core/duration.js';
import { epochMillis, type EpochMillis } from './arp-clock.js';

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
  /** `to − from` (up to `now` while it goes on). */
  duration: Millis;
  /** Probes sent in between that got no answer. */
  lost: number;
  /** Who answered before and after. */
  before: string;
  after: string | undefined;
}

/** A window of at most `windowMs` in which one target's answers came from more than one node. */
export interface TwoNodeWindow {
  target: string;
  from: EpochMillis;
  to: EpochMillis;
  nodes: string[];
}

/**
 * Per target: between two answers (in probe order) with at least `minLost` unanswered probes
 * between them, from the last answer before to the first after. A late answer is not an
 * outage, a lost one is. Probes before the first answer do not count (the prober may start
 * before anyone holds the address). A last entry with `to` undefined means silence goes on:
 * at least max(`minLost`, 3) probes sent (`lastSent`: highest sequence number sent per
 * target) since the last answer.
 */
export function findOutages(
  replies: readonly ProbeSample[], targets: readonly string[], lastSent: ReadonlyMap<string, number>, now: EpochMillis, minLost = 1,
): Outage[] {
  const result: Outage[] = [];
  for (const target of targets) {
    const answered = replies.filter((r) => r.target === target).sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < answered.length; i++) {
      const a = answered[i - 1]!;
      const b = answered[i]!;
      const lost = b.seq - a.seq - 1;
      if (lost < minLost) continue;
      result.push({ target, from: a.receivedAt, to: b.receivedAt, duration: ms(b.receivedAt - a.receivedAt), lost, before: a.node, after: b.node });
    }
    const last = answered[answered.length - 1];
    const sent = lastSent.get(target) ?? 0;
    if (last && sent - last.seq >= Math.max(minLost, 3)) {
      result.push({ target, from: last.receivedAt, to: undefined, duration: ms(now - last.receivedAt), lost: sent - last.seq, before: last.node, after: undefined });
    }
  }
  return result.sort((x, y) => x.from - y.from);
}

/**
 * Windows of at most `windowMs` in which one target got answers from two or more different
 * nodes (by arrival time, each target on its own), overlapping windows merged. Empty means no
 * two nodes ever answered for one address within `windowMs` of each other. A clean handover
 * with at most one probe lost between the old node's last answer and the new one's first
 * also makes a window at 20 ms: the criterion suits handovers that wait out the old holder.
 */
export function twoNodeWindows(replies: readonly ProbeSample[], targets: readonly string[], windowMs: Millis): TwoNodeWindow[] {
  const windows: TwoNodeWindow[] = [];
  for (const target of targets) {
    const list = replies.filter((r) => r.target === target).sort((a, b) => a.receivedAt - b.receivedAt);
    let j = 0;
    let open: TwoNodeWindow | undefined;
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!;
      if (j < i) j = i;
      while (j + 1 < list.length && list[j + 1]!.receivedAt - a.receivedAt <= windowMs) j++;
      const nodes = new Set<string>();
      let to = a.receivedAt;
      for (let k = i; k <= j; k++) {
        nodes.add(list[k]!.node);
        if (list[k]!.node !== a.node) to = list[k]!.receivedAt;
      }
      if (nodes.size < 2) continue;
      if (open && a.receivedAt <= open.to) {
        open.to = epochMillis(Math.max(open.to, to));
        for (const n of nodes) if (!open.nodes.includes(n)) open.nodes.push(n);
        open.nodes.sort();
      } else {
        open = { target, from: a.receivedAt, to, nodes: [...nodes].sort() };
        windows.push(open);
      }
    }
  }
  return windows.sort((x, y) => x.from - y.from);
}
