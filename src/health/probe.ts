/**
 * What every check kind has in common: one probe looks once, and says what it saw.
 */
import type { Millis } from '../core/duration.js';

export interface ProbeResult {
  ok: boolean;
  /** What the probe saw, for operators: "HTTP 503 (expected 200)", "connect ECONNREFUSED 127.0.0.1:5432". */
  detail: string;
}

/**
 * One check's prober. Kinds that hold a resource across probes (a gRPC channel) keep it
 * here, so it is made once per check and released by `close`.
 */
export interface Prober {
  /** Looks once. Must stop and release what it started when `signal` aborts. */
  probe(signal: AbortSignal): Promise<ProbeResult>;
  close(): void;
}

/**
 * The abort reason the monitor uses when a probe runs past its timeout. A probe that acts
 * on it (the exec probe kills a process group) records what it did in `action`, from its
 * abort listener, which runs synchronously inside `abort()`: so the monitor can report it in
 * the very outcome that decides, without waiting for the probe to wind down.
 */
export class ProbeTimeout extends Error {
  action: string | undefined;
  constructor(readonly timeout: Millis) {
    super(`timeout ${timeout}ms`);
    this.name = 'ProbeTimeout';
  }
}

/** Describes why `signal` aborted, for a probe's detail: "timeout 400ms", "stopped". */
export function abortDescription(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'string') return reason;
  return 'aborted';
}
