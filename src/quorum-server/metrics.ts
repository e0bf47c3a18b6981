/** The quorum server's Prometheus metrics, on a registry of its own (no hidden globals). */
import { Counter, Gauge, Registry } from 'prom-client';

/** Why a request was refused: the table's reasons plus the service's own checks. */
export type RefusalReason =
  | 'bad-request' | 'undecodable' | 'no-identity' | 'wrong-cluster' | 'identity-mismatch'
  | 'unknown-cluster' | 'digest-mismatch' | 'held-by-other' | 'lost';

export class QuorumServerMetrics {
  readonly registry = new Registry();

  readonly grants = new Counter({
    name: 'quorate_quorum_server_grants_total', help: 'Leases granted: to a partition anew, or renewed',
    labelNames: ['kind'], registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'quorate_quorum_server_refusals_total', help: 'Requests refused, by reason',
    labelNames: ['reason'], registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'quorate_quorum_server_retries_total', help: 'Requests answered RETRY (not decided yet), by reason',
    labelNames: ['reason'], registers: [this.registry],
  });
  readonly releases = new Counter({
    name: 'quorate_quorum_server_releases_total', help: 'Release requests, by outcome',
    labelNames: ['result'], registers: [this.registry],
  });
  readonly expiries = new Counter({
    name: 'quorate_quorum_server_expiries_total', help: 'Leases that ended without renewal', registers: [this.registry],
  });
  readonly stateWrites = new Counter({
    name: 'quorate_quorum_server_state_writes_total', help: 'Writes of the state file, by result (covered: a renewal the file already covered, no write; ahead: a background write keeping the file ahead of renewals)',
    labelNames: ['result'], registers: [this.registry],
  });
  readonly activeLeases = new Gauge({
    name: 'quorate_quorum_server_active_leases', help: 'Clusters whose lease has not ended by the server\'s count',
    registers: [this.registry],
  });
}
