/**
 * Reading a config file: YAML with positions → zod → cross-section rules → referenced files
 * → gobgpd's own config. Every problem of every stage is collected and placed at
 * `FILE:LINE:COL`, so one `quorate check` run shows them all, and a config with any error
 * yields no config at all (it is rejected whole).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { assembleAgentConfig, parseAgentParts } from './agent-parts.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from './diagnostic.js';
import type { Finding } from './finding.js';
import { gobgpUsageFindings, lintGobgpdConfig } from './gobgpd-lint.js';
import { agentFileReferences, fileReferenceFindings, type FileReference, type Mode } from './referenced-files.js';
import { crossSectionFindings } from './rules.js';
import { serverFindings, serverSchema } from './server-schema.js';
import type { ServerConfig } from './server-types.js';
import type { AgentConfig } from './types.js';
import { YamlSource } from './yaml-source.js';
import { issuesToFindings, operatorMessages } from './zod-findings.js';

export { formatDiagnostic, hasErrors, type Diagnostic } from './diagnostic.js';
export type { Mode } from './referenced-files.js';

export interface LoadResult<C> {
  /** Present only when no diagnostic is an error. */
  config?: C;
  /** Sorted by file and position; errors and warnings. */
  diagnostics: Diagnostic[];
}

/** The file read and parsed as YAML, or the diagnostics that stopped it. */
function readYaml(file: string): { source: YamlSource; diagnostics: Diagnostic[] } | { source?: undefined; diagnostics: Diagnostic[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    return { diagnostics: [{ file, line: 1, col: 1, severity: 'error', message: `cannot read the config: ${reason}` }] };
  }
  const source = new YamlSource(text);
  const diagnostics = source.problems.map((p): Diagnostic => ({ file, line: p.line, col: p.col, severity: p.severity, message: p.message }));
  if (source.data === undefined || source.data === null) {
    if (!hasErrors(diagnostics)) diagnostics.push({ file, line: 1, col: 1, severity: 'error', message: 'the file is empty' });
    return { diagnostics };
  }
  return { source, diagnostics };
}

function place(file: string, source: YamlSource, findings: readonly Finding[]): Diagnostic[] {
  return findings.map((f) => ({ file, ...source.locate(f.path, f.at), severity: f.severity, message: f.message }));
}

/** Other files are named as the operator named the config: relative to the working folder, or absolute. */
function displayPath(configFile: string, other: string): string {
  return isAbsolute(configFile) ? other : relative(process.cwd(), other) || other;
}

export function loadAgentConfig(file: string, mode: Mode): LoadResult<AgentConfig> {
  const read = readYaml(file);
  if (!read.source) return { diagnostics: sortDiagnostics(read.diagnostics) };
  const { source } = read;
  const absolute = resolve(file);
  const { parts, findings } = parseAgentParts(source.data, dirname(absolute));
  findings.push(...crossSectionFindings(parts), ...gobgpUsageFindings(parts));
  findings.push(...fileReferenceFindings(agentFileReferences(parts), mode));
  const diagnostics = [...read.diagnostics, ...place(file, source, findings)];
  const gobgpdConfig = parts.bgp?.gobgp.run?.config;
  if (gobgpdConfig) {
    const prepending = parts.services.filter((s) => s && s.bgp.asPathPrepend > 0).map((s) => s!.name);
    const lease = parts.cluster?.quorum.find((q) => q.kind === 'server');
    const leaseS = lease?.kind === 'server' ? lease.lease / 1000 : undefined;
    diagnostics.push(...lintGobgpdConfig(gobgpdConfig, displayPath(file, gobgpdConfig), { prepending, ...(leaseS !== undefined ? { leaseS } : {}) }));
  }
  sortDiagnostics(diagnostics);
  if (hasErrors(diagnostics)) return { diagnostics };
  const config = assembleAgentConfig(parts, absolute);
  return config ? { config, diagnostics } : { diagnostics };
}

export function loadServerConfig(file: string, mode: Mode): LoadResult<ServerConfig> {
  const read = readYaml(file);
  if (!read.source) return { diagnostics: sortDiagnostics(read.diagnostics) };
  const { source } = read;
  const absolute = resolve(file);
  const result = serverSchema(dirname(absolute), absolute).safeParse(source.data, { error: operatorMessages });
  const findings: Finding[] = result.success ? serverFindings(result.data) : issuesToFindings(result.error.issues, []);
  if (result.success && result.data.tls) {
    const tls = result.data.tls;
    const refs = (['ca', 'cert', 'key'] as const).flatMap((key): FileReference[] =>
      tls[key] ? [{ path: ['tls', key], file: tls[key], executable: false }] : []);
    findings.push(...fileReferenceFindings(refs, mode));
  }
  const diagnostics = sortDiagnostics([...read.diagnostics, ...place(file, source, findings)]);
  if (hasErrors(diagnostics) || !result.success) return { diagnostics };
  return { config: result.data, diagnostics };
}

export type ConfigKind = 'agent' | 'server';

/**
 * Which kind of file this is, from its top-level keys: an agent's names its node (and
 * cluster and services); a server's has none of those, and a top-level listen. An unreadable or ambiguous file
 * counts as an agent's, whose loader then reports what is wrong with it.
 */
export function detectConfigKind(file: string): ConfigKind {
  const read = readYaml(file);
  const data = read.source?.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'agent';
  const keys = Object.keys(data);
  const agentKeys = ['node', 'cluster', 'services', 'bgp'];
  const serverKeys = ['listen', 'clusters', 'lease', 'state-file'];
  if (keys.some((k) => agentKeys.includes(k))) return 'agent';
  return keys.some((k) => serverKeys.includes(k)) ? 'server' : 'agent';
}

export type AnyConfig = { kind: 'agent'; config: AgentConfig } | { kind: 'server'; config: ServerConfig };

/** Loads either kind; `quorate check` uses this so one command validates both files. */
export function loadAnyConfig(file: string, mode: Mode): { kind: ConfigKind; config?: AnyConfig; diagnostics: Diagnostic[] } {
  const kind = detectConfigKind(file);
  if (kind === 'server') {
    const { config, diagnostics } = loadServerConfig(file, mode);
    return { kind, diagnostics, ...(config ? { config: { kind, config } } : {}) };
  }
  const { config, diagnostics } = loadAgentConfig(file, mode);
  return { kind, diagnostics, ...(config ? { config: { kind, config } } : {}) };
}
