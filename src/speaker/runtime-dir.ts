/**
 * The speaker's private runtime directory: `quorate-gobgpd-<agent pid>-XXXXXX`, mode 0700,
 * holding gobgpd's API socket. Nobody else can reach or squat on a socket in it.
 *
 * An agent that is SIGKILLed cannot remove its directory (its guard and gobgpd die, the
 * directory stays). The next start sweeps such leftovers: a directory is stale when the
 * agent pid in its name no longer runs here *and* its socket accepts no connection (an
 * agent in another PID namespace sharing this directory may still be alive; its gobgpd
 * would answer).
 */
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ms } from '../core/duration.js';
import { acceptsConnections } from './api-target.js';
import { isRunning } from './process-state.js';

const PREFIX = 'quorate-gobgpd-';
const NAME_RE = /^quorate-gobgpd-(\d+)-[A-Za-z0-9]{6}$/;
export const SOCKET_NAME = 'api.sock';

export async function createRuntimeDir(parent: string): Promise<string> {
  // mkdtemp creates the directory with mode 0700.
  return mkdtemp(join(parent, `${PREFIX}${process.pid}-`));
}

/** Removes leftovers of killed agents in `parent`; returns what it removed. Never throws. */
export async function sweepStaleRuntimeDirs(parent: string): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = NAME_RE.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    const dir = join(parent, name);
    try {
      const stat = await lstat(dir);
      if (!stat.isDirectory() || stat.uid !== process.getuid?.()) continue;
      if (pid === process.pid || (await isRunning(pid))) continue;
      if (await acceptsConnections({ kind: 'unix', path: join(dir, SOCKET_NAME) }, ms(250))) continue;
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // vanished meanwhile, or not ours to judge: leave it
    }
  }
  return removed;
}
