/**
 * The client side of peer heartbeats: one loop per peer sends a heartbeat every `interval`
 * (without waiting for the previous reply: a slow peer must not slow our sending) with a
 * deadline of `dead-after` — a reply later than that could not count anyway (membership.ts).
 *
 * The transport is a seam: the gRPC one in production, and in tests a wrapper that drops
 * requests or replies, which makes one-way loss deterministic without touching packets.
 */
import * as grpc from '@grpc/grpc-js';
import type { Millis } from '../core/duration.js';
import type { NodeId } from '../core/ids.js';
import type { HeartbeatRequest } from './generated/quorate/v1/HeartbeatRequest.js';
import type { PeerClient } from './generated/quorate/v1/Peer.js';
import { peerProto } from './heartbeat-proto.js';
import { encodeRequest, parseReply, type Heartbeat } from './heartbeat-wire.js';
import type { RoundTripProblem } from './membership.js';
import type { NodeState } from './membership-node-state.js';

/** What one heartbeat came to. */
export type HeartbeatOutcome = { ok: true; reply: Heartbeat } | { ok: false; problem: RoundTripProblem };

/**
 * Sends one heartbeat and resolves with its outcome; never rejects. `timeout` is the most the
 * call may take; `signal` aborts it (the loop stopped).
 */
export type HeartbeatTransport = (request: HeartbeatRequest, timeout: Millis, signal: AbortSignal) => Promise<HeartbeatOutcome>;

/** Statuses that mean the peer answered and said no — worth telling apart from silence. */
const REFUSAL_CODES = new Set([grpc.status.PERMISSION_DENIED, grpc.status.UNAUTHENTICATED, grpc.status.INVALID_ARGUMENT, grpc.status.UNIMPLEMENTED]);

export interface GrpcHeartbeatTransport {
  send: HeartbeatTransport;
  close(): void;
}

/** The Peer service at `target` (`host:port`), over `credentials` (src/tls channelCredentials). */
export function grpcHeartbeatTransport(target: string, credentials: grpc.ChannelCredentials): GrpcHeartbeatTransport {
  const client: PeerClient = new (peerProto().Peer)(target, credentials, {
    // grpc-js backs off up to 2 minutes between reconnects by default: a peer that comes back
    // must be seen again within a few heartbeats, not minutes. A healed link costs at most
    // this much more than a heartbeat (exclusive services wait for both sides to see each
    // other); a peer that stays away costs four connection attempts a second.
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 250,
    'grpc.enable_retries': 0,
  });
  const send: HeartbeatTransport = (request, timeout, signal) => new Promise((resolve) => {
    if (signal.aborted) {
      resolve({ ok: false, problem: { kind: 'unreachable', detail: 'stopped' } });
      return;
    }
    let call: grpc.ClientUnaryCall | undefined;
    const cancel = (): void => call?.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    call = client.Heartbeat(request, { deadline: Date.now() + timeout }, (err, reply) => {
      signal.removeEventListener('abort', cancel);
      if (err || !reply) {
        const status = err ? `${grpc.status[err.code] ?? err.code}: ${err.details}` : 'no reply';
        resolve({ ok: false, problem: { kind: err && REFUSAL_CODES.has(err.code) ? 'refused' : 'unreachable', detail: status } });
        return;
      }
      const parsed = parseReply(reply);
      resolve(parsed.ok ? { ok: true, reply: parsed.value } : { ok: false, problem: { kind: 'bad-reply', detail: parsed.problem } });
    });
  });
  return { send, close: () => client.close() };
}

export interface HeartbeatLoopOptions {
  peer: NodeId;
  interval: Millis;
  deadAfter: Millis;
  transport: HeartbeatTransport;
  /** This node's state, read afresh for every heartbeat. */
  state: () => NodeState;
  /** Monotonic clock. */
  now: () => Millis;
  /** Called just before a heartbeat leaves, with its sequence and send time. */
  onSent: (sequence: number, at: Millis) => void;
  /** Called when the heartbeat's outcome is known, with the instant it became known. */
  onOutcome: (sequence: number, outcome: HeartbeatOutcome, at: Millis) => void;
}

export class HeartbeatLoop {
  private timer?: NodeJS.Timeout;
  private sequence = 0;
  private stopped = false;
  private lastExtraBeatAt = -Infinity;
  /** One controller per heartbeat in flight (a shared signal would collect a listener per call). */
  private readonly inFlight = new Map<Promise<void>, AbortController>();

  constructor(private readonly opts: HeartbeatLoopOptions) {}

  get peer(): NodeId {
    return this.opts.peer;
  }

  /** Sends one heartbeat now, then one every interval. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.beat();
    this.timer = setInterval(() => this.beat(), this.opts.interval);
  }

  /**
   * One heartbeat now, besides the regular ones: this node's state changed in a way a peer
   * waits for (a release), or the peer's did (its own heartbeat said so), and neither should
   * wait up to one interval more to learn it. The answer carries the peer's state.
   */
  beatNow(): void {
    if (!this.timer || this.stopped) return;
    // At most one extra beat per quarter interval: two nodes whose states keep changing must
    // not set off each other's extra beats at network speed.
    const now = this.opts.now();
    if (now - this.lastExtraBeatAt < this.opts.interval / 4) return;
    this.lastExtraBeatAt = now;
    this.beat();
  }

  /** Stops sending, aborts heartbeats in flight and waits for them; no outcome is reported after. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const controller of this.inFlight.values()) controller.abort();
    await Promise.all([...this.inFlight.keys()]);
  }

  private beat(): void {
    const { opts } = this;
    const sequence = ++this.sequence;
    let request: HeartbeatRequest;
    try {
      request = encodeRequest(sequence, opts.state());
    } catch (err) {
      // The state callback is the agent's; a bug there must not stop the heartbeats' timer.
      opts.onSent(sequence, opts.now());
      opts.onOutcome(sequence, { ok: false, problem: { kind: 'unreachable', detail: `could not build the heartbeat: ${String(err)}` } }, opts.now());
      return;
    }
    opts.onSent(sequence, opts.now());
    const controller = new AbortController();
    const done = opts.transport(request, opts.deadAfter, controller.signal).then(
      (outcome) => {
        if (!this.stopped) opts.onOutcome(sequence, outcome, opts.now());
      },
      (err: unknown) => {
        if (!this.stopped) opts.onOutcome(sequence, { ok: false, problem: { kind: 'unreachable', detail: String(err) } }, opts.now());
      },
    ).finally(() => this.inFlight.delete(done));
    this.inFlight.set(done, controller);
  }
}
