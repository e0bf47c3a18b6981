/**
 * The exec probe with real processes (`sh -c`): exit status, stderr tail, and that a timeout
 * kills the whole process group — a grandchild included.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { probeExec, type ExecCheckSpec } from '../src/health/exec.js';
import { ProbeTimeout } from '../src/health/probe.js';

const dir = mkdtempSync(join(tmpdir(), 'quorate-health-exec-'));
const started: number[] = [];
afterAll(() => {
  // Whatever a failed assertion left running, we started it: end it by its pid.
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const never = new AbortController().signal;
const sh = (script: string, env: Record<string, string> = {}): ExecCheckSpec => ({ kind: 'exec', command: ['sh', '-c', script], env });

/** Running (or stopped), not gone and not a zombie waiting for a reaper. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The grandchild's death is the kernel's business after SIGKILL: allow it a moment (bounded). */
async function gone(pid: number): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

async function readPid(file: string): Promise<number> {
  const deadline = Date.now() + 5000;
  while (!existsSync(file) || readFileSync(file, 'utf8').trim() === '') {
    if (Date.now() > deadline) throw new Error(`${file} never appeared`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const pid = Number(readFileSync(file, 'utf8').trim());
  started.push(pid);
  return pid;
}

describe('exec probe (real processes)', () => {
  it('exit 0 is healthy', async () => {
    expect(await probeExec(sh('exit 0'), never)).toEqual({ ok: true, detail: 'exit 0' });
  });

  it('a failing exit names its status and the tail of stderr', async () => {
    const result = await probeExec(sh('echo "starting" >&2; echo "db unreachable: connection refused" >&2; exit 3'), never);
    expect(result).toEqual({ ok: false, detail: 'exit 3: starting db unreachable: connection refused' });
  });

  it('keeps only a short tail of a long stderr', async () => {
    const result = await probeExec(sh('i=0; while [ $i -lt 2000 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 1'), never);
    expect(result.ok).toBe(false);
    expect(result.detail.length).toBeLessThan(260);
    expect(result.detail).toMatch(/^exit 1: ….*line 1999$/);
  });

  it('passes the configured environment', async () => {
    expect((await probeExec(sh('[ "$CHECK_MODE" = quick ]', { CHECK_MODE: 'quick' }), never)).ok).toBe(true);
    expect((await probeExec(sh('[ "$CHECK_MODE" = quick ]'), never)).ok).toBe(false);
  });

  it('a missing command fails with the spawn error', async () => {
    const result = await probeExec({ kind: 'exec', command: [join(dir, 'no-such-check')], env: {} }, never);
    expect(result.ok).toBe(false);
    expect(result.detail).toContain('ENOENT');
  });

  it('on timeout kills the whole process group: the grandchild that sleeps is gone', async () => {
    const pidFile = join(dir, 'grandchild-timeout.pid');
    const controller = new AbortController();
    // sh forks a sleeping grandchild, records its pid, and waits for it.
    const pending = probeExec(sh(`sleep 300 & echo $! > ${pidFile}; wait`), controller.signal);
    const grandchild = await readPid(pidFile);
    expect(alive(grandchild)).toBe(true);
    const reason = new ProbeTimeout(ms(400));
    controller.abort(reason);
    // What the probe did is known synchronously, inside abort(): the monitor reports it.
    expect(reason.action).toMatch(/^killed after timeout 400ms \(process group \d+\)$/);
    expect(await pending).toEqual({ ok: false, detail: 'killed after timeout 400ms' });
    expect(await gone(grandchild)).toBe(true);
  });

  it('after a successful exit, a backgrounded grandchild is not left behind', async () => {
    const pidFile = join(dir, 'grandchild-exit.pid');
    const result = await probeExec(sh(`sleep 300 & echo $! > ${pidFile}; exit 0`), never);
    expect(result).toEqual({ ok: true, detail: 'exit 0' });
    expect(await gone(await readPid(pidFile))).toBe(true);
  });
});
