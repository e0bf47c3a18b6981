/**
 * Whether a process still runs, from /proc. A zombie counts as gone: it holds no sockets and
 * runs no code, and in a container whose PID 1 does not reap, an orphaned gobgpd stays a
 * zombie for ever.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Millis } from '../core/duration.js';

export async function isRunning(pid: number): Promise<boolean> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (comm) S …": comm may contain spaces and parentheses, so read after the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** Resolves true once the process is gone, false if it still runs after `timeout`. */
export async function waitUntilGone(pid: number, timeout: Millis, pollEvery = 20): Promise<boolean> {
  const until = performance.now() + timeout;
  for (;;) {
    if (!(await isRunning(pid))) return true;
    if (performance.now() >= until) return false;
    await sleep(pollEvery);
  }
}
