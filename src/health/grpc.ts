/**
 * grpc check: the standard grpc.health.v1 Check; SERVING is healthy. One channel per check,
 * kept across probes (a channel per probe would pay TCP+HTTP/2(+TLS) setup every time and
 * leave sockets in TIME_WAIT); the call's deadline is the check's timeout.
 */
import * as grpc from '@grpc/grpc-js';
import type { CheckConfig, CheckSpec } from '../config/types.js';
import type { HealthClient } from './generated/grpc/health/v1/Health.js';
import { healthProto } from './health-proto.js';
import { hostPort } from './label.js';
import { abortDescription, type Prober, type ProbeResult } from './probe.js';

export type GrpcCheckSpec = Extract<CheckSpec, { kind: 'grpc' }>;
type GrpcCheckConfig = Extract<CheckConfig, { kind: 'grpc' }>;

export interface GrpcProbeOptions {
  /** CA certificates for TLS; the system roots when absent. */
  rootCerts?: Buffer;
}

export class GrpcHealthProber implements Prober {
  private readonly client: HealthClient;

  constructor(private readonly check: GrpcCheckConfig, options: GrpcProbeOptions = {}) {
    const credentials = check.tls
      ? grpc.credentials.createSsl(options.rootCerts ?? null)
      : grpc.credentials.createInsecure();
    // grpc-js backs off up to 2 minutes between reconnects by default: a service that comes
    // back would keep failing its check that long. Retry at least once per interval instead.
    const backoff = Math.max(50, Math.min(1000, check.interval));
    this.client = new (healthProto().Health)(hostPort(check.host, check.port), credentials, {
      'grpc.initial_reconnect_backoff_ms': backoff,
      'grpc.max_reconnect_backoff_ms': Math.max(backoff, check.interval),
      // Our own subchannel: two checks of one target must not share (or break) a connection.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.enable_retries': 0,
    });
  }

  probe(signal: AbortSignal): Promise<ProbeResult> {
    if (signal.aborted) return Promise.resolve({ ok: false, detail: abortDescription(signal) });
    return new Promise<ProbeResult>((resolve) => {
      let settled = false;
      const finish = (result: ProbeResult): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const call = this.client.Check(
        { service: this.check.service },
        { deadline: Date.now() + this.check.timeout },
        (err, response) => {
          if (err) {
            finish({ ok: false, detail: `${grpc.status[err.code] ?? err.code}: ${err.details}` });
          } else {
            const status = response?.status ?? 'UNKNOWN';
            finish({ ok: status === 'SERVING', detail: status });
          }
        },
      );
      const onAbort = (): void => {
        call.cancel();
        finish({ ok: false, detail: abortDescription(signal) });
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.client.close();
  }
}

/** A single probe over a throwaway channel (the monitor keeps a GrpcHealthProber instead). */
export async function probeGrpc(check: GrpcCheckConfig, signal: AbortSignal, options?: GrpcProbeOptions): Promise<ProbeResult> {
  const prober = new GrpcHealthProber(check, options);
  try {
    return await prober.probe(signal);
  } finally {
    prober.close();
  }
}
