/**
 * The quorum server's status, for its status API: which partition of which cluster holds a
 * lease and for how long yet, by the server's own (monotonic) count.
 */
import type { Millis } from '../core/duration.js';
import type { ServerConfig } from '../config/server-types.js';
import type { LeaseTable } from './lease-table.js';

export interface QuorumServerStatusReport {
  time: string;
  leaseMaxMs: number;
  /** After a restart without a usable state file: how long no lease is granted yet. */
  grantsBlockedForMs: number;
  clusters: {
    cluster: string;
    partition: string[];
    votes: number;
    grantedTo: string;
    /** Per node of the partition still holding a grant: what is left of it (0: ended). */
    leases: { node: string; remainingMs: number }[];
  }[];
}

export function quorumServerStatus(config: ServerConfig, table: LeaseTable, now: Millis): QuorumServerStatusReport {
  return {
    time: new Date().toISOString(),
    leaseMaxMs: config.lease.max,
    grantsBlockedForMs: Math.max(0, Math.round(table.blockedUntil - now)),
    clusters: table.records().map((r) => ({
      cluster: r.cluster,
      partition: [...r.partition],
      votes: r.votes,
      grantedTo: r.grantedTo,
      leases: r.ends.map((e) => ({ node: e.node, remainingMs: Math.max(0, Math.round(e.end - now)) })),
    })),
  };
}

/** `quorate status -c server.yaml`: the leases as a table. */
export function formatQuorumServerStatus(s: QuorumServerStatusReport, listen: string): string {
  const lines = [`quorum server ${listen}, lease.max ${s.leaseMaxMs / 1000}s, at ${s.time}`];
  if (s.grantsBlockedForMs > 0) lines.push(`restarted without a usable state file: no grant for another ${(s.grantsBlockedForMs / 1000).toFixed(1)}s`);
  lines.push('');
  if (s.clusters.length === 0) {
    lines.push('no cluster holds or held a lease since this server started');
    return `${lines.join('\n')}\n`;
  }
  const rows = [['CLUSTER', 'PARTITION', 'VOTES', 'GRANTED TO', 'LEASE LEFT'], ...s.clusters.map((c) => [
    c.cluster, c.partition.join(','), String(c.votes), c.grantedTo,
    c.leases.map((l) => `${l.node} ${l.remainingMs > 0 ? `${(l.remainingMs / 1000).toFixed(1)}s` : 'ended'}`).join(', ') || 'ended',
  ])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  lines.push(...rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')));
  return `${lines.join('\n')}\n`;
}
