/**
 * The QuorumServer gRPC service: checks each message and the caller's identity, asks the
 * lease table, records grants before answering, and counts and logs what it refused. A bad
 * message is answered (or, if it cannot even be decoded, rejected by gRPC) and counted; it
 * never reaches the table and never crashes the process (S6).
 */
import { ms, type Millis } from '../core/duration.js';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { LeaseAnswer } from './generated/quorate/v1/LeaseAnswer.js';
import type { LeaseRequest__Output } from './generated/quorate/v1/LeaseRequest.js';
import type { QuorumServerDefinition, QuorumServerHandlers } from './generated/quorate/v1/QuorumServer.js';
import type { ReleaseAnswer } from './generated/quorate/v1/ReleaseAnswer.js';
import type { ReleaseRequest__Output } from './generated/quorate/v1/ReleaseRequest.js';
import type { IdentifyCaller } from './identity.js';
import type { LeaseAsk, ReleaseAsk } from './lease-ask.js';
import type { LeaseEvent, LeaseTable } from './lease-table.js';
import type { QuorumServerMetrics, RefusalReason } from './metrics.js';
import { quorumProto } from './quorum-proto.js';
import type { ServerClock } from './state-file.js';
import { MAX_REQUEST_ID_CHARS, parseLeaseRequest, parseReleaseRequest, PROTOCOL_VERSION, type Parsed } from './wire-request.js';

export interface QuorumServiceDeps {
  table: LeaseTable;
  clock: ServerClock;
  identify: IdentifyCaller;
  logger: Logger;
  metrics: QuorumServerMetrics;
  /** Records the table's grants durably; resolves once what was decided so far is on disk. */
  /** Records the table in the state file; with `renewal`, only if the file does not cover its end yet. */
  persist: (renewal?: { cluster: string; node: string; end: Millis }) => Promise<void>;
}

/** Refusals of bad or foreign requests are logged at most once a second per reason, with a count. */
const REFUSAL_LOG_INTERVAL_MS = 1000;

/**
 * The service definition with counting decoders: a message that does not even decode is
 * rejected by gRPC (INTERNAL) before any handler runs, so it is counted here.
 */
export function quorumServiceDefinition(metrics: QuorumServerMetrics): QuorumServerDefinition {
  const base = quorumProto().QuorumServer.service;
  const counted = <T>(decode: (b: Buffer) => T) => (bytes: Buffer): T => {
    try {
      return decode(bytes);
    } catch (err) {
      metrics.refusals.inc({ reason: 'undecodable' });
      throw err;
    }
  };
  return {
    ...base,
    RequestLease: { ...base.RequestLease, requestDeserialize: counted(base.RequestLease.requestDeserialize) },
    ReleaseLease: { ...base.ReleaseLease, requestDeserialize: counted(base.ReleaseLease.requestDeserialize) },
  };
}

export function quorumServiceHandlers(deps: QuorumServiceDeps): QuorumServerHandlers {
  const { table, clock, identify, logger, metrics, persist } = deps;
  const lastLogged = new Map<RefusalReason, { at: number; suppressed: number }>();

  function logRefusal(reason: RefusalReason, detail: string, fields: Record<string, unknown>): void {
    const now = clock.mono();
    const last = lastLogged.get(reason);
    if (last && now - last.at < REFUSAL_LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    logger.warn({ reason, ...fields, ...(last?.suppressed ? { suppressedSinceLast: last.suppressed } : {}) }, `refused: ${detail}`);
    lastLogged.set(reason, { at: now, suppressed: 0 });
  }

  /** Checks the message and the caller; on failure counts, logs and says why. */
  function admit<T extends LeaseAsk | ReleaseAsk>(
    call: grpc.ServerUnaryCall<LeaseRequest__Output | ReleaseRequest__Output, unknown>, parsed: Parsed<T>, peer: string,
  ): { ok: true; ask: T } | { ok: false; reason: string } {
    if (!parsed.ok) {
      metrics.refusals.inc({ reason: 'bad-request' });
      logRefusal('bad-request', parsed.problem, { peer });
      return { ok: false, reason: `bad request: ${parsed.problem}` };
    }
    const ask = parsed.value;
    const who = identify(call);
    let refusal: { reason: RefusalReason; detail: string } | undefined;
    if (!who) refusal = { reason: 'no-identity', detail: 'the caller has no identity' };
    else if (who.cluster !== ask.cluster) refusal = { reason: 'wrong-cluster', detail: `the caller belongs to cluster "${who.cluster}", the request is for "${ask.cluster}"` };
    else if (who.node !== ask.node) refusal = { reason: 'identity-mismatch', detail: `the caller is node ${who.node} of "${who.cluster}", the request claims node ${ask.node}` };
    if (refusal) {
      metrics.refusals.inc({ reason: refusal.reason });
      logRefusal(refusal.reason, refusal.detail, { peer, cluster: ask.cluster, node: ask.node });
      return { ok: false, reason: refusal.detail };
    }
    return { ok: true, ask };
  }

  function logEvent(e: LeaseEvent): void {
    switch (e.kind) {
      case 'granted':
        logger.info({ cluster: e.cluster, partition: e.partition, node: e.node, grantedMs: e.granted, previous: e.previous },
          `lease of ${e.cluster} granted to partition [${e.partition}]: ${e.criterion}`);
        break;
      case 'refused':
        logger.info({ cluster: e.cluster, partition: e.partition, node: e.node, reason: e.refusal },
          `lease of ${e.cluster} refused to partition [${e.partition}]: ${e.reason}`);
        break;
      case 'released':
        logger.info({ cluster: e.cluster, partition: e.partition, node: e.node, ended: e.ended },
          `lease of ${e.cluster} released by ${e.node}${e.ended ? '' : ' (other nodes of the partition still hold it)'}`);
        break;
      case 'expired':
        logger.info({ cluster: e.cluster, partition: e.partition }, `lease of ${e.cluster} held by partition [${e.partition}] expired`);
        break;
    }
  }

  async function requestLease(call: grpc.ServerUnaryCall<LeaseRequest__Output, LeaseAnswer>): Promise<LeaseAnswer> {
    const requestId = echoId(call.request.request_id);
    const answer = (a: Omit<LeaseAnswer, 'protocol_version' | 'request_id'>): LeaseAnswer => ({ protocol_version: PROTOCOL_VERSION, request_id: requestId, ...a });
    const admitted = admit(call, parseLeaseRequest(call.request), call.getPeer());
    if (!admitted.ok) return answer({ verdict: 'REFUSED', reason: admitted.reason });
    const now = clock.mono();
    const d = table.request(admitted.ask, now);
    if (d.event) logEvent(d.event);
    const holder = d.holder ? { holder_partition: [...d.holder.partition], holder_node: d.holder.grantedTo } : {};
    switch (d.verdict) {
      case 'GRANTED':
        try {
          // Recorded before it is answered: a restart must know of every lease a node holds
          // (a renewal the file already covers needs no new write).
          await persist(d.renewal ? { cluster: admitted.ask.cluster, node: admitted.ask.node, end: ms(now + d.granted) } : undefined);
        } catch (err) {
          // The table keeps the grant (which only makes others wait longer); the node is told
          // to ask again, and will be granted once the file can be written.
          metrics.retries.inc({ reason: 'not-recorded' });
          logger.error({ err, cluster: admitted.ask.cluster }, 'cannot record a grant in the state file: answering RETRY');
          return answer({ verdict: 'RETRY', reason: 'the server cannot record the grant; ask again', retry_after_ms: 1000, ...holder });
        }
        metrics.grants.inc({ kind: d.renewal ? 'renewal' : 'new' });
        return answer({ verdict: 'GRANTED', granted_ms: d.granted, reason: d.reason, ...holder });
      case 'REFUSED':
        metrics.refusals.inc({ reason: d.refusal });
        return answer({ verdict: 'REFUSED', reason: d.reason, ...holder });
      case 'RETRY':
        metrics.retries.inc({ reason: d.retry });
        return answer({ verdict: 'RETRY', reason: d.reason, retry_after_ms: Math.ceil(d.retryAfter), ...holder });
    }
  }

  async function releaseLease(call: grpc.ServerUnaryCall<ReleaseRequest__Output, ReleaseAnswer>): Promise<ReleaseAnswer> {
    const requestId = echoId(call.request.request_id);
    const admitted = admit(call, parseReleaseRequest(call.request), call.getPeer());
    if (!admitted.ok) return { protocol_version: PROTOCOL_VERSION, request_id: requestId, released: false, reason: admitted.reason };
    const d = table.release(admitted.ask, clock.mono());
    metrics.releases.inc({ result: d.released ? 'released' : 'not-holder' });
    if (d.event) {
      logEvent(d.event);
      // Not needed for safety (a file that still shows the lease only makes a restart wait
      // longer), but a restart should not hold a lease its holder gave up.
      await persist().catch((err: unknown) => logger.error({ err }, 'cannot record a release in the state file'));
    }
    return { protocol_version: PROTOCOL_VERSION, request_id: requestId, released: d.released, reason: d.reason };
  }

  /** Unary handler around an async function: an unexpected error is an INTERNAL status, never a crash. */
  function unary<Req, Res>(name: string, fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      fn(call).then(
        (res) => callback(null, res),
        (err: unknown) => {
          logger.error({ err, method: name }, 'quorum server handler failed');
          callback({ code: grpc.status.INTERNAL, details: 'internal error' });
        },
      );
    };
  }

  return {
    RequestLease: unary('RequestLease', requestLease),
    ReleaseLease: unary('ReleaseLease', releaseLease),
  };
}

function echoId(id: unknown): string {
  return typeof id === 'string' ? id.slice(0, MAX_REQUEST_ID_CHARS) : '';
}
