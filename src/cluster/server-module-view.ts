/**
 * What the agent tells the `server` quorum module about its partition: the nodes it sees
 * (itself included) with their votes, the cluster's configured total, and the membership
 * digest. Membership (heartbeats, the digest) is computed elsewhere; this is only its shape.
 */
import type { NodeId } from '../core/ids.js';

export interface PartitionView {
  /** The nodes this node sees as its partition, itself included, with their votes. */
  members: readonly { id: NodeId; votes: number }[];
  /** The votes of every configured member, seen or not. */
  totalVotes: number;
  /** The digest of the configured members and votes (membership-digest.ts), as sent on the wire. */
  membershipDigest: Uint8Array;
}

export type PartitionStanding = 'majority' | 'tie' | 'minority';

export function partitionVotes(view: PartitionView): number {
  return view.members.reduce((sum, m) => sum + m.votes, 0);
}

/** Exactly half is the voting module's tie, the only case the quorum server decides. */
export function partitionStanding(view: PartitionView): PartitionStanding {
  const twice = partitionVotes(view) * 2;
  return twice > view.totalVotes ? 'majority' : twice < view.totalVotes ? 'minority' : 'tie';
}

/** Sorted member ids, as the quorum server keys a partition. */
export function partitionIds(view: PartitionView): NodeId[] {
  return view.members.map((m) => m.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Identifies a partition for "is this still the partition the lease was granted to?": the
 * members, their votes, the total and the digest. Any change is a new partition, whose lease
 * must be asked for again (the server keys grants by member set and pins the digest).
 */
export function partitionIdentity(view: PartitionView): string {
  const votes = new Map(view.members.map((m) => [m.id, m.votes]));
  const members = partitionIds(view).map((id) => `${id}=${votes.get(id)}`).join(',');
  return `${members}/${view.totalVotes}/${Buffer.from(view.membershipDigest).toString('hex')}`;
}

/**
 * The view from what the voting module is given: this node, the configured peers, and the
 * peers seen (through complete round trips, with an agreeing digest).
 */
export function partitionViewOf(
  self: { id: NodeId; votes: number },
  peers: readonly { id: NodeId; votes: number }[],
  seen: ReadonlySet<NodeId>,
  membershipDigest: Uint8Array,
): PartitionView {
  return {
    members: [{ id: self.id, votes: self.votes }, ...peers.filter((p) => seen.has(p.id)).map((p) => ({ id: p.id, votes: p.votes }))],
    totalVotes: self.votes + peers.reduce((sum, p) => sum + p.votes, 0),
    membershipDigest,
  };
}
