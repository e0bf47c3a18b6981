/**
 * `quorate check --config FILE`: validate an agent's or a quorum server's file and say what
 * it will do. The CLI prints `lines` (diagnostics first, then a summary) and exits with
 * `exitCode`: 1 when any diagnostic is an error, else 0 (warnings do not fail a check).
 */
import { formatDuration } from '../core/duration.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from './diagnostic.js';
import { loadAnyConfig, type AnyConfig, type ConfigKind } from './load.js';
import type { ServerConfig } from './server-types.js';
import type { AgentConfig } from './types.js';

export interface CheckReport {
  kind: ConfigKind;
  diagnostics: Diagnostic[];
  /** Every diagnostic as `FILE:LINE:COL: …`, then one summary line. */
  lines: string[];
  exitCode: 0 | 1;
}

export function checkConfigFile(file: string): CheckReport {
  const { kind, config, diagnostics } = loadAnyConfig(file, 'check');
  const failed = hasErrors(diagnostics);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const counts = [errors ? plural(errors, 'error') : '', warnings ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ');
  const summary = failed || !config
    ? `${file}: invalid (${counts})`
    : `${file}: ok: ${describe(config)}${counts ? ` (${counts})` : ''}`;
  return { kind, diagnostics, lines: [...diagnostics.map(formatDiagnostic), summary], exitCode: failed ? 1 : 0 };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function describe(config: AnyConfig): string {
  return config.kind === 'agent' ? describeAgent(config.config) : describeServer(config.config);
}

function describeAgent(c: AgentConfig): string {
  const total = c.node.votes + c.cluster.peers.reduce((sum, p) => sum + p.votes, 0);
  const quorum = c.cluster.quorum.map((q) => (q.kind === 'server' ? `server ${q.address.host}:${q.address.port}` : 'voting')).join(' → ');
  const speaker = !c.bgp ? 'no BGP' : c.bgp.gobgp.run ? 'runs its own gobgpd' : `external gobgpd at ${c.bgp.gobgp.address}`;
  const services = c.services.map((s) => `${s.name} (${s.mode} via ${s.via.join('+')})`).join(', ');
  return `agent ${c.node.id} of cluster ${c.cluster.name}, ${c.node.votes} of ${total} votes, quorum ${quorum}; ${speaker}; services ${services}`;
}

function describeServer(c: ServerConfig): string {
  const clusters = c.clusters ? c.clusters.map((x) => x.name).join(', ') : 'any cluster';
  return `quorum server on ${c.listen.host}:${c.listen.port} for ${clusters}, leases up to ${formatDuration(c.lease.max)}`;
}
