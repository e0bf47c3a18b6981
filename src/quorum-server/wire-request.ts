/**
 * Turns a decoded protocol message into a LeaseAsk / ReleaseAsk, or says what is wrong with
 * it. Everything from the network is suspect (S6): a bad message is refused and counted by the
 * service, never trusted into the table. The bounds are generous for real clusters and small
 * enough that one bad client cannot make the server hold a cluster for hours.
 */
import { ms } from '../core/duration.js';
import { clusterName, nodeId, type NodeId } from '../core/ids.js';
import type { LeaseRequest__Output } from './generated/quorate/v1/LeaseRequest.js';
import type { ReleaseRequest__Output } from './generated/quorate/v1/ReleaseRequest.js';
import { membershipDigest, type LeaseAsk, type ReleaseAsk } from './lease-ask.js';

/** The version this server speaks (quorum.proto). */
export const PROTOCOL_VERSION = 1;

/** The same rule as cluster names and node ids in the configuration. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** A lease asked for longer than a day is a bug or an attack, not a configuration. */
export const MAX_ASKED_LEASE_MS = 86_400_000;
/**
 * A settle window holds a cluster without a lease while it runs: a minute is far beyond any
 * dead-after + interval a failover agent uses, and bounds what one bad client can cost.
 */
export const MAX_SETTLE_MS = 60_000;
export const MAX_PARTITION_MEMBERS = 256;
export const MAX_VOTES = 1_000_000;
export const MAX_DIGEST_BYTES = 64;
export const MAX_REQUEST_ID_CHARS = 128;

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

function bad<T>(problem: string): Parsed<T> {
  return { ok: false, problem };
}

export function parseLeaseRequest(m: LeaseRequest__Output): Parsed<LeaseAsk> {
  const common = checkCommon(m);
  if (common) return bad(common);
  const digest = m.membership_digest;
  if (!digest || digest.length === 0) return bad('membership_digest is missing');
  if (digest.length > MAX_DIGEST_BYTES) return bad(`membership_digest is ${digest.length} bytes (at most ${MAX_DIGEST_BYTES})`);
  const members = m.partition ?? [];
  if (members.length === 0) return bad('partition is empty');
  if (members.length > MAX_PARTITION_MEMBERS) return bad(`partition has ${members.length} members (at most ${MAX_PARTITION_MEMBERS})`);
  const badMember = members.find((n) => !NAME_RE.test(n));
  if (badMember !== undefined) return bad(`partition member ${JSON.stringify(badMember.slice(0, 80))} is not a node id`);
  const partition = [...new Set(members)].sort() as NodeId[];
  if (partition.length !== members.length) return bad('partition lists a node twice');
  if (!partition.includes(nodeId(m.node))) return bad(`partition does not include the requesting node ${m.node}`);
  if (!isCount(m.partition_votes, 1, MAX_VOTES)) return bad(`partition_votes ${m.partition_votes} is not 1..${MAX_VOTES}`);
  if (!isCount(m.total_votes, 1, MAX_VOTES)) return bad(`total_votes ${m.total_votes} is not 1..${MAX_VOTES}`);
  if (m.partition_votes > m.total_votes) return bad(`partition_votes ${m.partition_votes} exceeds total_votes ${m.total_votes}`);
  if (!isCount(m.lease_ms, 1, MAX_ASKED_LEASE_MS)) return bad(`lease_ms ${m.lease_ms} is not 1..${MAX_ASKED_LEASE_MS}`);
  if (!isCount(m.settle_ms, 1, MAX_SETTLE_MS)) return bad(`settle_ms ${m.settle_ms} is not 1..${MAX_SETTLE_MS}`);
  return {
    ok: true,
    value: {
      cluster: clusterName(m.cluster), node: nodeId(m.node), digest: membershipDigest(digest), partition,
      votes: m.partition_votes, totalVotes: m.total_votes, lease: ms(m.lease_ms), settle: ms(m.settle_ms),
    },
  };
}

export function parseReleaseRequest(m: ReleaseRequest__Output): Parsed<ReleaseAsk> {
  const common = checkCommon(m);
  if (common) return bad(common);
  return { ok: true, value: { cluster: clusterName(m.cluster), node: nodeId(m.node) } };
}

/** The fields every request carries. Returns the problem, or undefined when they are fine. */
function checkCommon(m: { protocol_version: number; cluster: string; node: string; request_id: string }): string | undefined {
  if (!m.protocol_version) return 'protocol_version is missing';
  // A newer client speaks a superset (fields are only added): serve it as version 1.
  if (!NAME_RE.test(m.cluster ?? '')) return `cluster ${JSON.stringify((m.cluster ?? '').slice(0, 80))} is not a cluster name`;
  if (!NAME_RE.test(m.node ?? '')) return `node ${JSON.stringify((m.node ?? '').slice(0, 80))} is not a node id`;
  if ((m.request_id ?? '').length > MAX_REQUEST_ID_CHARS) return `request_id is longer than ${MAX_REQUEST_ID_CHARS} characters`;
  return undefined;
}

function isCount(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}
