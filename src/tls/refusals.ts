/**
 * Every refused connection or call is counted (by reason) and logged with its cause, so an
 * operator sees a misissued certificate or a probe on the port without reading packet traces.
 */
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../observe/logger.js';

export type RefusalReason =
  /** The peer spoke something that is not TLS (plain gRPC, HTTP, garbage). */
  | 'not-tls'
  /** The TLS handshake failed for another reason (protocol, cipher, reset mid-handshake). */
  | 'handshake'
  /** The peer opened a connection and never finished the handshake. */
  | 'handshake-timeout'
  /** The client presented no certificate. */
  | 'no-certificate'
  /** The certificate does not chain to our CA. */
  | 'unknown-ca'
  | 'expired'
  | 'not-yet-valid'
  /** Any other verification failure (bad signature, revoked purpose, …). */
  | 'bad-certificate'
  /** The certificate is valid but binds no node, or several, or a malformed quorate URI. */
  | 'no-binding'
  /** A valid node of another cluster. */
  | 'wrong-cluster'
  /** A valid node of this cluster claiming to be another node. */
  | 'wrong-node'
  /** (client side) the server's certificate lacks the binding we expect of it. */
  | 'server-binding';

export const TLS_REFUSALS_METRIC = 'quorate_tls_refusals_total';

/** The counter, created once per registry (a second call returns the same one). */
export function tlsRefusals(registry: Registry): Counter<'reason'> {
  const existing = registry.getSingleMetric(TLS_REFUSALS_METRIC);
  if (existing) return existing as Counter<'reason'>;
  return new Counter({
    name: TLS_REFUSALS_METRIC,
    help: 'Connections and calls refused for identity: bad or missing certificates, wrong bindings, non-TLS bytes',
    labelNames: ['reason'],
    registers: [registry],
  });
}

/** Where refusals go: the counter and one warning line each. */
export class RefusalRecorder {
  private readonly counter: Counter<'reason'>;

  constructor(registry: Registry, readonly logger: Logger) {
    this.counter = tlsRefusals(registry);
  }

  refuse(reason: RefusalReason, detail: string, peer?: string): void {
    this.counter.inc({ reason });
    this.logger.warn({ reason, peer, detail }, `TLS refused (${reason}): ${detail}`);
  }
}
