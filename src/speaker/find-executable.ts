import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * The absolute path of an executable, looked up in PATH like a shell would; undefined when
 * there is none. Used to fail early and clearly ("setpriv not found") instead of letting a
 * spawn fail later with ENOENT somewhere inside the guard.
 */
export async function findExecutable(name: string, searchPath = process.env['PATH'] ?? ''): Promise<string | undefined> {
  const candidates = isAbsolute(name) || name.includes('/') ? [name] : searchPath.split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}
