/**
 * exec check: run a command; exit status 0 is healthy. The command runs in its own process
 * group, so that on timeout (or stop) the whole group dies — a check script's children
 * (`sh -c 'curl …'`, a `sleep`) included — and no orphan outlives the probe.
 */
import { spawn } from 'node:child_process';
import type { CheckSpec } from '../config/types.js';
import { abortDescription, ProbeTimeout, type ProbeResult } from './probe.js';

export type ExecCheckSpec = Extract<CheckSpec, { kind: 'exec' }>;

/** The end of stderr is where scripts say why they failed; the rest would flood the log. */
export const STDERR_TAIL_BYTES = 512;
const DETAIL_TAIL_CHARS = 200;
/** How long to wait for stderr to drain after the command exited. */
const STDERR_GRACE_MS = 100;

export function probeExec(spec: ExecCheckSpec, signal: AbortSignal): Promise<ProbeResult> {
  const [file, ...args] = spec.command;
  if (!file) return Promise.resolve({ ok: false, detail: 'empty command' });
  if (signal.aborted) return Promise.resolve({ ok: false, detail: `not started: ${abortDescription(signal)}` });

  return new Promise<ProbeResult>((resolve) => {
    const child = spawn(file, args, {
      // Own process group (pgid = child pid): one kill(-pgid) reaches every descendant.
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...spec.env },
    });
    let stderrTail = Buffer.alloc(0);
    child.stderr?.on('data', (chunk: Buffer) => {
      const joined = Buffer.concat([stderrTail, chunk]);
      stderrTail = joined.subarray(Math.max(0, joined.length - STDERR_TAIL_BYTES));
    });

    let killedFor: string | undefined;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const onAbort = (): void => {
      killGroup();
      const reason: unknown = signal.reason;
      killedFor = reason instanceof ProbeTimeout ? `killed after ${reason.message}` : `killed: ${abortDescription(signal)}`;
      if (reason instanceof ProbeTimeout) reason.action = `${killedFor} (process group ${child.pid ?? '?'})`;
    };
    signal.addEventListener('abort', onAbort, { once: true });

    let settled = false;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      // A descendant may still run (a backgrounded child) or hold stderr open: the check is
      // over, so the group goes too, and we stop reading.
      killGroup();
      child.stderr?.destroy();
      resolve(result);
    };

    child.once('error', (err) => finish({ ok: false, detail: err.message }));
    child.once('exit', (code, sig) => {
      // The leader is gone; its descendants go now too, so their ends of the stderr pipe close
      // and what the script wrote just before exiting can still be read out of the pipe.
      killGroup();
      const verdict = (): void => {
        const tail = tailText(stderrTail);
        const said = tail ? `: ${tail}` : '';
        if (killedFor) finish({ ok: false, detail: killedFor });
        else if (code === 0) finish({ ok: true, detail: 'exit 0' });
        else if (code !== null) finish({ ok: false, detail: `exit ${code}${said}` });
        else finish({ ok: false, detail: `killed by ${sig ?? 'a signal'}${said}` });
      };
      const stderr = child.stderr;
      if (!stderr || stderr.readableEnded || stderr.destroyed) {
        verdict();
        return;
      }
      // A process that left our group (setsid) may hold stderr open forever: don't wait on it.
      const grace = setTimeout(verdict, STDERR_GRACE_MS);
      stderr.once('close', () => {
        clearTimeout(grace);
        verdict();
      });
    });
  });
}

/** The last line(s) of stderr, on one line, short enough for a log field. */
function tailText(bytes: Buffer): string {
  const text = bytes.toString('utf8').replace(/\s+/g, ' ').trim();
  return text.length > DETAIL_TAIL_CHARS ? `…${text.slice(-DETAIL_TAIL_CHARS)}` : text;
}
