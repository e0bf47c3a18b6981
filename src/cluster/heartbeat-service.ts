/**
 * The Peer gRPC service: answers a heartbeat with this node's current state. The caller's
 * request is only checked (and counted), never fed to the seen-table: a peer is seen through
 * this node's own round trips, so that one-way reachability never counts (membership.ts).
 *
 * Refused, counted and logged — never a crash (S6):
 * - a message that does not decode (gRPC answers INTERNAL before any handler runs);
 * - a bad message (INVALID_ARGUMENT);
 * - with TLS, a caller whose certificate does not bind the cluster and node it claims
 *   (PERMISSION_DENIED; also counted by src/tls as an identity refusal);
 * - a node of another cluster (PERMISSION_DENIED).
 * A peer with another membership digest is answered: the digest travels in the reply, and the
 * caller's own table refuses to count us and says why (on both sides, since both call).
 */
import * as grpc from '@grpc/grpc-js';
import type { ClusterName } from '../core/ids.js';
import type { Logger } from '../observe/logger.js';
import { checkClaim, identifyCaller } from '../tls/peer-identity.js';
import type { RefusalRecorder } from '../tls/refusals.js';
import type { HeartbeatReply } from './generated/quorate/v1/HeartbeatReply.js';
import type { HeartbeatRequest__Output } from './generated/quorate/v1/HeartbeatRequest.js';
import type { PeerDefinition, PeerHandlers } from './generated/quorate/v1/Peer.js';
import { peerProto } from './heartbeat-proto.js';
import { encodeReply, parseRequest } from './heartbeat-wire.js';
import type { HeartbeatRefusal, MembershipMetrics } from './membership-metrics.js';
import type { NodeState } from './membership-node-state.js';

export interface HeartbeatServiceDeps {
  cluster: ClusterName;
  /** This node's state now, answered to every valid heartbeat. */
  state: () => NodeState;
  /**
   * With mutual TLS: where identity refusals are counted and logged, and the reason the
   * caller's certificate is checked against its claim. Absent in insecure mode, where the
   * request vouches for itself (warnInsecure says so at start).
   */
  identity?: { refusals: RefusalRecorder };
  logger: Logger;
  metrics: MembershipMetrics;
  /** Monotonic clock, for rate-limiting the refusal log. */
  now: () => number;
  /**
   * A valid heartbeat arrived from `sender` (after the identity checks). Not a sighting: the
   * caller may only use it to ask for a round trip of its own sooner (a changed state).
   */
  onRequest?: (sender: NodeState) => void;
}

/** Refusals of one reason are logged at most once a second, with how many were not. */
const REFUSAL_LOG_INTERVAL_MS = 1000;

/** The service definition with a counting decoder: an undecodable message never reaches a handler. */
export function heartbeatServiceDefinition(metrics: MembershipMetrics): PeerDefinition {
  const base = peerProto().Peer.service;
  const decode = base.Heartbeat.requestDeserialize;
  return {
    ...base,
    Heartbeat: {
      ...base.Heartbeat,
      requestDeserialize: (bytes: Buffer): HeartbeatRequest__Output => {
        try {
          return decode(bytes);
        } catch (err) {
          metrics.requestsRefused.inc({ reason: 'undecodable' });
          throw err;
        }
      },
    },
  };
}

export function heartbeatServiceHandlers(deps: HeartbeatServiceDeps): PeerHandlers {
  const { cluster, logger, metrics } = deps;
  const identify = deps.identity ? identifyCaller(deps.identity.refusals) : undefined;
  const lastLogged = new Map<HeartbeatRefusal, { at: number; suppressed: number }>();

  function refuse(
    callback: grpc.sendUnaryData<HeartbeatReply>, reason: HeartbeatRefusal, code: grpc.status, detail: string, peer: string, log: boolean,
  ): void {
    metrics.requestsRefused.inc({ reason });
    if (log) {
      const now = deps.now();
      const last = lastLogged.get(reason);
      if (last && now - last.at < REFUSAL_LOG_INTERVAL_MS) {
        last.suppressed++;
      } else {
        logger.warn({ reason, peer, ...(last?.suppressed ? { suppressedSinceLast: last.suppressed } : {}) }, `heartbeat refused: ${detail}`);
        lastLogged.set(reason, { at: now, suppressed: 0 });
      }
    }
    callback({ code, details: detail });
  }

  const heartbeat: grpc.handleUnaryCall<HeartbeatRequest__Output, HeartbeatReply> = (call, callback) => {
    try {
      const peer = call.getPeer();
      const parsed = parseRequest(call.request);
      if (!parsed.ok) return refuse(callback, 'bad-request', grpc.status.INVALID_ARGUMENT, `bad heartbeat: ${parsed.problem}`, peer, true);
      const { sender } = parsed.value;
      if (identify) {
        // src/tls's recorder logs and counts identity refusals itself (one line each).
        const who = identify(call);
        if (!who) return refuse(callback, 'identity', grpc.status.PERMISSION_DENIED, 'the caller has no usable identity', peer, false);
        const refusal = checkClaim(who, { cluster: sender.cluster, node: sender.node });
        if (refusal) {
          deps.identity!.refusals.refuse(refusal.reason, refusal.refused, peer);
          return refuse(callback, 'identity', grpc.status.PERMISSION_DENIED, refusal.refused, peer, false);
        }
      }
      if (sender.cluster !== cluster) {
        const detail = `node ${sender.node} of cluster "${sender.cluster}" sent a heartbeat to a node of "${cluster}"`;
        if (identify) deps.identity!.refusals.refuse('wrong-cluster', detail, peer);
        return refuse(callback, 'wrong-cluster', grpc.status.PERMISSION_DENIED, detail, peer, !identify);
      }
      metrics.requestsAnswered.inc();
      callback(null, encodeReply(parsed.value.sequence, deps.state()));
      deps.onRequest?.(sender);
    } catch (err) {
      // A bug here must cost one heartbeat, never the process.
      logger.error({ err }, 'heartbeat handler failed');
      callback({ code: grpc.status.INTERNAL, details: 'internal error' });
    }
  };

  return { Heartbeat: heartbeat };
}
