/**
 * Membership's Prometheus metrics, on the registry the agent passes in (no hidden globals).
 * Created once per registry: a second Membership on the same registry (tests) shares them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type HeartbeatRefusal = 'undecodable' | 'bad-request' | 'identity' | 'wrong-cluster';

export class MembershipMetrics {
  /** 1 while the peer is seen (complete round trips), 0 otherwise. */
  readonly peerSeen: Gauge<'peer'>;
  /** Heartbeats this node sent, by what became of them: `counted` or the problem's kind. */
  readonly heartbeatsSent: Counter<'peer' | 'result'>;
  /** Heartbeats this node answered. */
  readonly requestsAnswered: Counter;
  /** Heartbeats this node refused to answer, by reason. */
  readonly requestsRefused: Counter<'reason'>;
  /** The longest round trip of the peer that counted (an input of the takeover bound). */
  readonly longestRoundTrip: Gauge<'peer'>;

  constructor(registry: Registry) {
    this.peerSeen = once(registry, 'quorate_peer_seen', () => new Gauge({
      name: 'quorate_peer_seen', help: '1 while the peer is seen through complete heartbeat round trips', labelNames: ['peer'], registers: [registry],
    }));
    this.heartbeatsSent = once(registry, 'quorate_heartbeats_sent_total', () => new Counter({
      name: 'quorate_heartbeats_sent_total', help: 'Heartbeats sent to peers, by outcome (counted, or why not)', labelNames: ['peer', 'result'], registers: [registry],
    }));
    this.requestsAnswered = once(registry, 'quorate_heartbeat_requests_answered_total', () => new Counter({
      name: 'quorate_heartbeat_requests_answered_total', help: 'Heartbeats from peers that this node answered', registers: [registry],
    }));
    this.requestsRefused = once(registry, 'quorate_heartbeat_requests_refused_total', () => new Counter({
      name: 'quorate_heartbeat_requests_refused_total', help: 'Heartbeats from peers that this node refused, by reason', labelNames: ['reason'], registers: [registry],
    }));
    this.longestRoundTrip = once(registry, 'quorate_peer_longest_round_trip_seconds', () => new Gauge({
      name: 'quorate_peer_longest_round_trip_seconds', help: 'The longest heartbeat round trip of the peer that still counted', labelNames: ['peer'], registers: [registry],
    }));
  }
}

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
