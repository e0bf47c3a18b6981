/**
 * The `server` quorum module's say, as a pure function of what it knows and of `now`:
 *   granted and still valid → HAVEQUORUM until the node's lease end (lease.ts);
 *   refused                → NOQUORUM;
 *   unreachable, RETRY, no answer yet, or a lease that ended → QUORUMTIE (the next module,
 *   or no quorum if this is the last one).
 * Outside a tie (more or less than half of the votes) it says QUORUMTIE too: with a majority
 * the server does not matter, with less it cannot help; either way the other modules decide.
 *
 * Reasons are stable words (no counters or remaining milliseconds): the agent logs a line each
 * time the chain's reason changes. The server's own words go to the log and the status.
 */
import type { Millis } from '../core/duration.js';
import type { NodeId } from '../core/ids.js';
import type { ModuleVerdict } from './quorum-chain.js';
import type { PartitionStanding } from './server-module-view.js';

/** A grant this node believes, for its current partition. */
export interface HeldLease {
  /** When the granted request was sent (node's monotonic clock). */
  sentAt: Millis;
  /** When the answer arrived. */
  receivedAt: Millis;
  granted: Millis;
  /** The node's end of the lease (lease.ts): it must have stopped serving by then. */
  end: Millis;
  /** Renewals since the first grant of this lease. */
  renewals: number;
}

/** The latest answer believed for the current partition. */
export interface LastAnswer {
  verdict: 'GRANTED' | 'REFUSED' | 'RETRY' | 'UNREACHABLE' | 'UNUSABLE';
  /** The server's (or the transport's) words. */
  reason: string;
  sentAt: Millis;
  receivedAt: Millis;
  holderPartition?: readonly NodeId[];
}

export interface ServerModuleFacts {
  standing: PartitionStanding;
  partitionVotes: number;
  totalVotes: number;
  lease?: HeldLease;
  last?: LastAnswer;
}

export type ServerModulePhase =
  /** Not a tie: the server is not consulted. */
  | 'not-consulted'
  /** A tie, the first request not answered yet. */
  | 'asking'
  | 'holding'
  | 'refused'
  /** The server answered RETRY (settle window, restart, previous lease). */
  | 'waiting'
  | 'unreachable'
  /** The server granted a lease too short to outlast the safety margin. */
  | 'unusable'
  /** The lease ended without a renewal. */
  | 'expired';

export function serverModulePhase(f: ServerModuleFacts, now: Millis): ServerModulePhase {
  if (f.standing !== 'tie') return 'not-consulted';
  if (f.lease && now < f.lease.end) return 'holding';
  if (f.last?.verdict === 'REFUSED') return 'refused';
  if (f.lease) return 'expired';
  switch (f.last?.verdict) {
    case undefined: return 'asking';
    case 'RETRY': return 'waiting';
    case 'UNREACHABLE': return 'unreachable';
    case 'UNUSABLE': return 'unusable';
    // A GRANTED last answer always comes with a lease (the module keeps them together);
    // without one it cannot be believed.
    case 'GRANTED': return 'asking';
  }
}

export function serverModuleVerdict(f: ServerModuleFacts, now: Millis): ModuleVerdict {
  const phase = serverModulePhase(f, now);
  switch (phase) {
    case 'not-consulted':
      return {
        vote: 'QUORUMTIE',
        reason: `not a tie (${f.partitionVotes} of ${f.totalVotes} votes): the quorum server is consulted only at exactly half`,
      };
    case 'holding':
      return { vote: 'HAVEQUORUM', until: f.lease!.end, reason: `lease granted by the quorum server (${f.lease!.granted} ms)` };
    case 'refused': {
      const holder = f.last?.holderPartition?.length ? `partition [${f.last.holderPartition.join(',')}] holds or won the lease` : 'the request was refused';
      return { vote: 'NOQUORUM', reason: `refused by the quorum server: ${holder}` };
    }
    case 'expired':
      return { vote: 'QUORUMTIE', reason: 'the lease ended without a renewal' };
    case 'asking':
      return { vote: 'QUORUMTIE', reason: 'asking the quorum server (no answer yet)' };
    case 'waiting':
      return { vote: 'QUORUMTIE', reason: 'the quorum server has not decided yet' };
    case 'unreachable':
      return { vote: 'QUORUMTIE', reason: 'the quorum server is unreachable' };
    case 'unusable':
      return { vote: 'QUORUMTIE', reason: 'the granted lease is shorter than the safety margin' };
  }
}
