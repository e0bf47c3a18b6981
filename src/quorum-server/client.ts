/**
 * A typed client of the quorum server, for the agent's `server` quorum module. It reports the
 * monotonic instant it sent each request (`sentAt`): the node must count its lease from then,
 * never from when the answer arrived (takeover-gap.ts says why).
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ms, type Millis } from '../core/duration.js';
import { nodeId, type ClusterName, type NodeId } from '../core/ids.js';
import type { QuorumServerClient as GeneratedClient } from './generated/quorate/v1/QuorumServer.js';
import { quorumProto } from './quorum-proto.js';
import { PROTOCOL_VERSION } from './wire-request.js';

export interface LeaseRequestInput {
  cluster: ClusterName;
  node: NodeId;
  membershipDigest: Uint8Array;
  /** The node ids this node sees as its partition, itself included. */
  partition: readonly NodeId[];
  partitionVotes: number;
  totalVotes: number;
  lease: Millis;
  /** At least heartbeat dead-after plus one interval. */
  settle: Millis;
  /** Generated when absent. */
  requestId?: string;
}

export type LeaseOutcome =
  | { verdict: 'GRANTED'; granted: Millis; sentAt: Millis; holderPartition: NodeId[]; holderNode?: NodeId; reason: string; requestId: string }
  | { verdict: 'REFUSED'; sentAt: Millis; holderPartition: NodeId[]; holderNode?: NodeId; reason: string; requestId: string }
  | { verdict: 'RETRY'; sentAt: Millis; retryAfter: Millis; holderPartition: NodeId[]; holderNode?: NodeId; reason: string; requestId: string }
  /** No answer (unreachable, deadline, an error status): a tie for the quorum chain. */
  | { verdict: 'UNREACHABLE'; sentAt: Millis; reason: string; requestId: string };

export type ReleaseOutcome =
  | { released: boolean; reason: string }
  | { released: false; unreachable: true; reason: string };

export interface QuorumClientOptions {
  /** gRPC channel options (e.g. `grpc.ssl_target_name_override`). */
  channelOptions?: grpc.ChannelOptions;
  /** Monotonic clock; performance.now() by default. */
  now?: () => Millis;
}

export class QuorumServerClient {
  private readonly client: GeneratedClient;
  private readonly now: () => Millis;

  /** `target`: `host:port`. */
  constructor(target: string, credentials: grpc.ChannelCredentials, options: QuorumClientOptions = {}) {
    this.now = options.now ?? (() => ms(performance.now()));
    this.client = new (quorumProto().QuorumServer)(target, credentials, {
      // grpc-js backs off up to 2 minutes between reconnects by default: a quorum server that
      // comes back (a restart) must be heard again well inside the lease a node still holds,
      // which after a renewal has about two thirds of its length left — not after seconds of
      // backoff (the split lab's server restart under load lost the holder's lease that way).
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 500,
      'grpc.enable_retries': 0,
      ...options.channelOptions,
    });
  }

  /** Asks for (or renews) the lease; never rejects. */
  requestLease(input: LeaseRequestInput, timeout: Millis): Promise<LeaseOutcome> {
    const requestId = input.requestId ?? randomUUID();
    return new Promise((resolve) => {
      const sentAt = this.now();
      this.client.RequestLease({
        protocol_version: PROTOCOL_VERSION,
        cluster: input.cluster,
        node: input.node,
        membership_digest: Buffer.from(input.membershipDigest),
        partition: [...input.partition],
        partition_votes: input.partitionVotes,
        total_votes: input.totalVotes,
        lease_ms: input.lease,
        settle_ms: input.settle,
        request_id: requestId,
      }, { deadline: Date.now() + timeout }, (err, answer) => {
        if (err || !answer) {
          resolve({ verdict: 'UNREACHABLE', sentAt, requestId, reason: err ? `${grpc.status[err.code] ?? err.code}: ${err.details}` : 'no answer' });
          return;
        }
        const holder = {
          holderPartition: answer.holder_partition.map(nodeId),
          ...(answer.holder_node ? { holderNode: nodeId(answer.holder_node) } : {}),
        };
        if (answer.request_id !== requestId) {
          resolve({ verdict: 'RETRY', sentAt, requestId, retryAfter: ms(0), ...holder, reason: `the answer is for request ${answer.request_id}, not ${requestId}` });
          return;
        }
        switch (answer.verdict) {
          case 'GRANTED':
            if (answer.granted_ms > 0) {
              resolve({ verdict: 'GRANTED', granted: ms(answer.granted_ms), sentAt, requestId, ...holder, reason: answer.reason });
              return;
            }
            break; // a grant of nothing is no grant: a tie, below
          case 'REFUSED':
            resolve({ verdict: 'REFUSED', sentAt, requestId, ...holder, reason: answer.reason });
            return;
          default:
            break;
        }
        // RETRY, and any verdict this version does not know (quorum.proto): a tie.
        resolve({ verdict: 'RETRY', sentAt, requestId, retryAfter: ms(answer.retry_after_ms), ...holder, reason: answer.reason || `verdict ${answer.verdict}` });
      });
    });
  }

  /** Gives the lease up; call only after this node has stopped serving. Never rejects. */
  release(who: { cluster: ClusterName; node: NodeId; requestId?: string }, timeout: Millis): Promise<ReleaseOutcome> {
    const requestId = who.requestId ?? randomUUID();
    return new Promise((resolve) => {
      this.client.ReleaseLease(
        { protocol_version: PROTOCOL_VERSION, cluster: who.cluster, node: who.node, request_id: requestId },
        { deadline: Date.now() + timeout },
        (err, answer) => {
          if (err || !answer) {
            resolve({ released: false, unreachable: true, reason: err ? `${grpc.status[err.code] ?? err.code}: ${err.details}` : 'no answer' });
            return;
          }
          resolve({ released: answer.released, reason: answer.reason });
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
