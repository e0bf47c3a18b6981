/**
 * The membership digest: what two nodes compare to know that they agree on who the cluster's
 * members are and how many votes each has. Nodes whose configs disagree (one was reconfigured,
 * a typo in a vote) must not count each other, or the two could each believe they hold a
 * majority of a different total.
 *
 * sha256 over a canonical encoding, so any node computes the same bytes from the same
 * membership, whichever node it is (its own entry is listed among the members like the others):
 *
 *   "quorate-membership-v1" 0x00
 *   u32be(len(cluster)) cluster-utf8
 *   u32be(member count)
 *   for each member, sorted by id (UTF-16 code units, as `<` compares — locale-free):
 *     u32be(len(id)) id-utf8 u32be(votes)
 *
 * Length prefixes make the encoding unambiguous ("ab"+"c" never equals "a"+"bc"). The tag names
 * the encoding, so a future change of it cannot collide with this one.
 */
import { createHash } from 'node:crypto';
import type { ClusterName, NodeId } from '../core/ids.js';

/** Lowercase hex of the 32 digest bytes (the same shape as the quorum server's MembershipDigest). */
export type MembershipDigest = string & { readonly __kind: 'MembershipDigest' };

export interface Member {
  readonly id: NodeId;
  readonly votes: number;
}

const ENCODING_TAG = 'quorate-membership-v1';

/** `self` and `peers` together are the members; the order they come in does not matter. */
export function computeMembershipDigest(cluster: ClusterName, self: Member, peers: readonly Member[]): MembershipDigest {
  const members = [self, ...peers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const hash = createHash('sha256');
  hash.update(ENCODING_TAG);
  hash.update(Uint8Array.of(0));
  hash.update(lengthPrefixed(cluster));
  hash.update(u32(members.length));
  for (const m of members) {
    if (!Number.isInteger(m.votes) || m.votes < 0 || m.votes > 0xffff_ffff) {
      throw new Error(`member ${m.id}: votes ${m.votes} is not a whole number in 0..4294967295`);
    }
    hash.update(lengthPrefixed(m.id));
    hash.update(u32(m.votes));
  }
  return hash.digest('hex') as MembershipDigest;
}

/** The digest as it travels in NodeState.membership_digest. */
export function digestBytes(digest: MembershipDigest): Buffer {
  return Buffer.from(digest, 'hex');
}

/** A digest received from the network (any length: a peer's may be of another encoding). */
export function digestFromBytes(bytes: Uint8Array): MembershipDigest {
  return Buffer.from(bytes).toString('hex') as MembershipDigest;
}

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([u32(bytes.length), bytes]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
