/**
 * What the lease table reasons about: a validated lease request (wire-request.ts makes one
 * from a message) and the identity of a partition. Plain values, no I/O.
 */
import type { Millis } from '../core/duration.js';
import type { ClusterName, NodeId } from '../core/ids.js';

/** The agents' digest of the configured members and votes, as lowercase hex. Opaque here. */
export type MembershipDigest = string & { readonly __kind: 'MembershipDigest' };
export const membershipDigest = (bytes: Uint8Array): MembershipDigest =>
  Buffer.from(bytes).toString('hex') as MembershipDigest;

/**
 * A partition is identified by its member set: the sorted node ids joined by commas. Every
 * node of one partition sends the same set, so they share one key (and one grant).
 */
export type PartitionKey = string & { readonly __kind: 'PartitionKey' };
export const partitionKey = (sortedMembers: readonly NodeId[]): PartitionKey => sortedMembers.join(',') as PartitionKey;

export interface LeaseAsk {
  cluster: ClusterName;
  node: NodeId;
  digest: MembershipDigest;
  /** Sorted, without duplicates, `node` included. */
  partition: readonly NodeId[];
  votes: number;
  totalVotes: number;
  /** The lease length asked for (before the server's cap). */
  lease: Millis;
  /** How long to listen for every partition before deciding. */
  settle: Millis;
}

export interface ReleaseAsk {
  cluster: ClusterName;
  node: NodeId;
}
