/**
 * Can this machine run the lab? For `describe.skipIf(...)`: a test that cannot run must be
 * reported as skipped with the reason, never pass silently.
 *
 *   const req = labRequirements();
 *   if (!req.ok) console.warn(`skipping lab tests: ${req.reason}`);
 *   describe.skipIf(!req.ok)('…', () => { … });
 *
 * Synchronous on purpose: skipIf is decided while the test file is collected.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export type LabRequirements = { ok: true } | { ok: false; reason: string };

/** The programs every lab needs, and the Debian package that ships each. */
const BASE_PROGRAMS: Record<string, string> = { ip: 'iproute2', bird: 'bird2', gobgpd: 'gobgpd', gobgp: 'gobgpd' };

export interface RequirementOptions {
  /** More programs a test needs, e.g. `{ exabgp: 'exabgp' }` (program → Debian package). */
  programs?: Record<string, string>;
}

const cache = new Map<string, LabRequirements>();

export function labRequirements(options: RequirementOptions = {}): LabRequirements {
  const programs = { ...BASE_PROGRAMS, ...options.programs };
  const key = Object.keys(programs).sort().join(',');
  let result = cache.get(key);
  if (!result) {
    result = check(programs);
    cache.set(key, result);
  }
  return result;
}

function check(programs: Record<string, string>): LabRequirements {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root (run the tests as root, as CI does)' };
  const missing = missingPrograms(programs);
  if (missing.length) return { ok: false, reason: `missing programs: ${missing.join(', ')}; scripts/setup.sh installs them` };
  // `ip netns list` works even where creating one is forbidden (an unprivileged container):
  // the honest probe is to create one and delete it again.
  const probe = `qt-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
  } catch (err) {
    return { ok: false, reason: `cannot create a network namespace: ${stderrOf(err)}` };
  }
  try {
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  } catch (err) {
    return { ok: false, reason: `cannot delete network namespace ${probe}: ${stderrOf(err)}` };
  }
  return { ok: true };
}

/** The programs (program → Debian package) not installed, as `prog (Debian package pkg)`. */
export function missingPrograms(programs: Record<string, string>): string[] {
  return Object.entries(programs)
    .filter(([program]) => !onPath(program))
    .map(([program, pkg]) => `${program} (Debian package ${pkg})`);
}

function onPath(program: string): boolean {
  // Daemons live in sbin, which a non-login PATH may lack: look there too.
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function stderrOf(err: unknown): string {
  const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
  return stderr || (err instanceof Error ? err.message : String(err));
}
