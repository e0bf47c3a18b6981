/**
 * Heartbeat messages to and from the wire. Everything a peer sends is suspect (S6): a message
 * is checked field by field and either becomes a typed NodeState or is refused with the reason.
 * The bounds are generous for real clusters and small enough that one bad peer cannot make a
 * node hold megabytes per heartbeat.
 */
import { ms } from '../core/duration.js';
import { clusterName, nodeId, serviceName, type NodeId, type ServiceName } from '../core/ids.js';
import type { Method } from '../config/types.js';
import type { HoldMethod } from './generated/quorate/v1/HoldMethod.js';
import type { HeartbeatReply, HeartbeatReply__Output } from './generated/quorate/v1/HeartbeatReply.js';
import type { HeartbeatRequest, HeartbeatRequest__Output } from './generated/quorate/v1/HeartbeatRequest.js';
import type { NodeState as WireNodeState, NodeState__Output } from './generated/quorate/v1/NodeState.js';
import { digestBytes, digestFromBytes } from './membership-digest.js';
import type { NodeState, ServiceState } from './membership-node-state.js';

/** The version this node speaks (peer.proto). */
export const PROTOCOL_VERSION = 1;

/** The same rule as cluster names, node ids and service names in the configuration. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const MAX_SEEN_PEERS = 256;
export const MAX_SERVICES = 1024;
export const MAX_DIGEST_BYTES = 64;
export const MAX_REASON_CHARS = 1024;
/** Sequence numbers are whole numbers that fit a double exactly (grpc-js decodes uint64 as number). */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;
/** Ten minutes: more than any real speaker timeout or address lifetime, and a peer cannot make others wait for days. */
export const MAX_WITHDRAW_BOUND_MS = 600_000;

const WIRE_METHOD: Record<Method, HoldMethod> = { bgp: 'HOLD_METHOD_BGP', arp: 'HOLD_METHOD_ARP' };
const METHOD_FROM_WIRE: Partial<Record<string, Method>> = { HOLD_METHOD_BGP: 'bgp', HOLD_METHOD_ARP: 'arp' };

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface Heartbeat {
  sequence: number;
  sender: NodeState;
}

export function encodeRequest(sequence: number, sender: NodeState): HeartbeatRequest {
  return { protocol_version: PROTOCOL_VERSION, sequence, sender: encodeNodeState(sender) };
}

export function encodeReply(sequence: number, sender: NodeState): HeartbeatReply {
  return { protocol_version: PROTOCOL_VERSION, sequence, sender: encodeNodeState(sender) };
}

export function parseRequest(m: HeartbeatRequest__Output): Parsed<Heartbeat> {
  return parseHeartbeat(m);
}

export function parseReply(m: HeartbeatReply__Output): Parsed<Heartbeat> {
  return parseHeartbeat(m);
}

function parseHeartbeat(m: { protocol_version: number; sequence: number; sender: NodeState__Output | null }): Parsed<Heartbeat> {
  // A newer peer speaks a superset (fields are only added): read it as version 1.
  if (!m.protocol_version) return bad('protocol_version is missing');
  if (!Number.isSafeInteger(m.sequence) || m.sequence < 1) return bad(`sequence ${String(m.sequence)} is not 1..${MAX_SEQUENCE}`);
  if (!m.sender) return bad('sender is missing');
  const sender = parseNodeState(m.sender);
  if (!sender.ok) return sender;
  return { ok: true, value: { sequence: m.sequence, sender: sender.value } };
}

export function encodeNodeState(s: NodeState): WireNodeState {
  return {
    cluster: s.cluster,
    node: s.node,
    membership_digest: digestBytes(s.digest),
    seen_peers: [...s.seenPeers].sort(),
    quorate: s.quorum.quorate,
    quorum_reason: s.quorum.reason,
    services: [...s.services].map(([name, v]) => ({
      name, healthy: v.healthy, drained: v.drained, announceable: v.announceable, priority: v.priority, holding: v.holding, released: v.released,
      method: v.holding && v.method ? WIRE_METHOD[v.method] : 'HOLD_METHOD_UNSPECIFIED',
    })),
    withdraw_bound_ms: Math.min(MAX_WITHDRAW_BOUND_MS, Math.max(0, Math.ceil(s.withdrawBound))),
  };
}

export function parseNodeState(m: NodeState__Output): Parsed<NodeState> {
  if (!NAME_RE.test(m.cluster ?? '')) return bad(`cluster ${quote(m.cluster)} is not a cluster name`);
  if (!NAME_RE.test(m.node ?? '')) return bad(`node ${quote(m.node)} is not a node id`);
  const digest = m.membership_digest;
  if (!digest || digest.length === 0) return bad('membership_digest is missing');
  if (digest.length > MAX_DIGEST_BYTES) return bad(`membership_digest is ${digest.length} bytes (at most ${MAX_DIGEST_BYTES})`);
  const seenList = m.seen_peers ?? [];
  if (seenList.length > MAX_SEEN_PEERS) return bad(`seen_peers lists ${seenList.length} nodes (at most ${MAX_SEEN_PEERS})`);
  const badSeen = seenList.find((n) => !NAME_RE.test(n));
  if (badSeen !== undefined) return bad(`seen_peers member ${quote(badSeen)} is not a node id`);
  const wireServices = m.services ?? [];
  if (wireServices.length > MAX_SERVICES) return bad(`services lists ${wireServices.length} services (at most ${MAX_SERVICES})`);
  const services = new Map<ServiceName, ServiceState>();
  for (const s of wireServices) {
    if (!NAME_RE.test(s.name ?? '')) return bad(`service ${quote(s.name)} is not a service name`);
    if (services.has(serviceName(s.name))) return bad(`service ${s.name} is listed twice`);
    if (!Number.isInteger(s.priority)) return bad(`service ${s.name}: priority ${String(s.priority)} is not a whole number`);
    const holding = s.holding === true;
    const method = holding ? METHOD_FROM_WIRE[s.method as string] : undefined;
    services.set(serviceName(s.name), {
      healthy: s.healthy === true, drained: s.drained === true, announceable: s.announceable === true,
      priority: s.priority, holding, released: s.released === true, ...(method ? { method } : {}),
    });
  }
  return {
    ok: true,
    value: {
      cluster: clusterName(m.cluster),
      node: nodeId(m.node),
      digest: digestFromBytes(digest),
      seenPeers: new Set<NodeId>(seenList.map(nodeId)),
      quorum: { quorate: m.quorate === true, reason: (m.quorum_reason ?? '').slice(0, MAX_REASON_CHARS) },
      services,
      // Larger than any sane bound: read as the largest allowed, which only makes others wait longer.
      withdrawBound: ms(Math.min(MAX_WITHDRAW_BOUND_MS, Number.isFinite(m.withdraw_bound_ms) ? m.withdraw_bound_ms : 0)),
    },
  };
}

function bad<T>(problem: string): Parsed<T> {
  return { ok: false, problem };
}

function quote(text: string | undefined): string {
  return JSON.stringify((text ?? '').slice(0, 80));
}
