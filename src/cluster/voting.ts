/**
 * The `voting` quorum module: the votes of the node and of the peers it sees, against the
 * configured total. More than half: HAVEQUORUM; less: NOQUORUM; exactly half: QUORUMTIE.
 */
import type { NodeId } from '../core/ids.js';
import type { ModuleVerdict } from './quorum-chain.js';

export interface VotingInput {
  self: { id: NodeId; votes: number };
  members: readonly { id: NodeId; votes: number }[];
  /** Peers seen through complete round trips, with an agreeing membership digest. */
  seen: ReadonlySet<NodeId>;
}

export function votingVerdict({ self, members, seen }: VotingInput): ModuleVerdict {
  const total = self.votes + members.reduce((sum, m) => sum + m.votes, 0);
  const visible = self.votes + members.filter((m) => seen.has(m.id)).reduce((sum, m) => sum + m.votes, 0);
  const reason = `${visible} of ${total} votes visible`;
  if (visible * 2 > total) return { vote: 'HAVEQUORUM', reason };
  if (visible * 2 < total) return { vote: 'NOQUORUM', reason };
  return { vote: 'QUORUMTIE', reason };
}
