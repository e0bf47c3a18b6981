/**
 * What the prober process (lab/arp-prober-main.ts) writes on stdout, one JSON object a line,
 * and the parsers both sides share. Times are epoch ms on the lab clock (lab/arp-clock.ts).
 */

/** A probe that got an answer. */
export interface ReplyEvent {
  type: 'reply';
  /** The service address probed. */
  target: string;
  seq: number;
  /** When the probe left the prober. */
  sent: number;
  /** When the answer arrived at the prober. */
  received: number;
  /** The node that answered (whoami's `--name`). */
  node: string;
  /** When the node answered, on its own reading of the lab clock. */
  answered: number;
}

/** Every 100 ms: the last sequence number sent to each target, so silence is visible too. */
export interface ProgressEvent {
  type: 'progress';
  at: number;
  sent: Record<string, number>;
}

/** A change of the client's neighbour entry for a target (from `ip monitor neigh`), or the initial reading. */
export interface NeighbourEvent {
  type: 'neigh';
  at: number;
  dst: string;
  lladdr: string | null;
  /** Kernel states, e.g. ["REACHABLE"], ["STALE"], ["FAILED"]. */
  state: string[];
  deleted: boolean;
}

/** Sending failed (e.g. the kernel reported the address unreachable). Counted, not fatal. */
export interface SendErrorEvent {
  type: 'send-error';
  at: number;
  target: string;
  seq: number;
  message: string;
}

export interface ReadyEvent {
  type: 'ready';
  at: number;
}

export type ProberEvent = ReplyEvent | ProgressEvent | NeighbourEvent | SendErrorEvent | ReadyEvent;

/**
 * One line of `ip monitor neigh` (iproute2 6.1 prints text even with -j), e.g.
 *   `192.0.2.100 dev eth0 lladdr 02:11:22:33:44:55 REACHABLE`
 *   `Deleted 192.0.2.100 dev eth0 lladdr 02:11:22:33:44:55 STALE`
 *   `2001:db8:2::100 dev eth0 lladdr 02:11:22:33:44:55 router STALE`
 *   `192.0.2.100 dev eth0 FAILED`
 * Returns undefined for lines that are not neighbour entries.
 */
export function parseNeighbourLine(line: string, at: number): NeighbourEvent | undefined {
  const words = line.trim().split(/\s+/);
  let deleted = false;
  while (words[0] === 'Deleted' || words[0] === 'miss') {
    if (words[0] === 'Deleted') deleted = true;
    words.shift();
  }
  const dst = words[0];
  if (!dst || !/^[0-9a-fA-F:.]+$/.test(dst) || words[1] !== 'dev') return undefined;
  const lladdrAt = words.indexOf('lladdr');
  const lladdr = lladdrAt >= 0 ? (words[lladdrAt + 1] ?? '').toLowerCase() || null : null;
  const state = words.filter((w) => /^[A-Z_]+$/.test(w));
  return { type: 'neigh', at, dst, lladdr, state, deleted };
}

/** Parses one stdout line of the prober; undefined for anything that is not an event. */
export function parseProberLine(line: string): ProberEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as { type?: unknown };
    switch (value.type) {
      case 'reply':
      case 'progress':
      case 'neigh':
      case 'send-error':
      case 'ready':
        return value as ProberEvent;
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}
