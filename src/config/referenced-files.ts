/**
 * Files the config names (certificates, gobgpd's config, check and notify programs). `quorate check`
 * often runs where they are not deployed yet (a CI job, a reviewer's laptop), so a missing
 * file is a warning there; an agent about to start needs them, so there it is an error.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { AgentParts } from './agent-parts.js';
import type { Finding, PathSegment } from './finding.js';

export type Mode = 'check' | 'run';

export interface FileReference {
  path: PathSegment[];
  file: string;
  /** Must be executable (a program), not only readable. */
  executable: boolean;
}

export function agentFileReferences(parts: AgentParts): FileReference[] {
  const refs: FileReference[] = [];
  const tls = parts.tls;
  for (const key of ['ca', 'cert', 'key'] as const) {
    const file = tls?.[key];
    if (file) refs.push({ path: ['tls', key], file, executable: false });
  }
  const run = parts.bgp?.gobgp.run;
  if (run) {
    refs.push({ path: ['bgp', 'gobgp', 'run', 'config'], file: run.config, executable: false });
    if (isAbsolute(run.binary)) refs.push({ path: ['bgp', 'gobgp', 'run', 'binary'], file: run.binary, executable: true });
  }
  parts.services.forEach((service, i) => {
    service?.checks.forEach((check, k) => {
      // A bare program name is found through PATH at run time, where PATH may differ.
      const program = check.kind === 'exec' ? check.command[0] : undefined;
      if (program && isAbsolute(program)) refs.push({ path: ['services', i, 'checks', k, 'exec', 'command', 0], file: program, executable: true });
    });
  });
  const notify = parts.notify?.command[0];
  if (notify && isAbsolute(notify)) refs.push({ path: ['notify', 'command', 0], file: notify, executable: true });
  return refs;
}

export function fileReferenceFindings(refs: readonly FileReference[], mode: Mode): Finding[] {
  const findings: Finding[] = [];
  for (const ref of refs) {
    const problem = fileProblem(ref);
    if (problem) findings.push({ path: ref.path, severity: mode === 'run' ? 'error' : 'warning', message: problem });
  }
  return findings;
}

function fileProblem({ file, executable }: FileReference): string | undefined {
  try {
    if (!statSync(file).isFile()) return `${file} is not a file`;
  } catch {
    return `${file} does not exist`;
  }
  try {
    accessSync(file, executable ? constants.X_OK : constants.R_OK);
  } catch {
    return executable ? `${file} is not executable` : `${file} cannot be read`;
  }
  return undefined;
}
