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
