/**
 * The agent's config for a benchmark: one anycast service with an http check on the lab's
 * demo service, the status API on the server namespace's loopback, and the lab's gobgpd
 * settings (lab/agent-lab.ts `baseConfig`) for everything else.
 */
import type { AgentLab } from '../lab/agent-lab.js';

export const STATUS_PORT = 9180;

export interface BenchServiceSettings {
  name: string;
  prefixes: readonly string[];
  /** Durations as the config writes them (`100ms`, `1s`). */
  interval: string;
  timeout: string;
  rise: number;
  fall: number;
  /** Default: the lab's. */
  reconcileInterval?: string;
}

export function benchAgentConfig(lab: AgentLab, s: BenchServiceSettings): Record<string, unknown> {
  const base = lab.baseConfig({
    services: [
      {
        name: s.name,
        prefixes: [...s.prefixes],
        mode: 'anycast',
        checks: [{ http: { url: `${lab.service.url}/healthz` }, interval: s.interval, timeout: s.timeout, rise: s.rise, fall: s.fall }],
      },
    ],
  });
  const bgp = base.bgp as Record<string, unknown>;
  if (s.reconcileInterval) bgp['reconcile-interval'] = s.reconcileInterval;
  return { ...base, status: { listen: `127.0.0.1:${STATUS_PORT}` } };
}

export function statusUrl(path: string): string {
  return `http://127.0.0.1:${STATUS_PORT}${path}`;
}
