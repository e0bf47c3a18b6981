/**
 * The one door through which the ARP edge reaches the host: run a program with arguments,
 * collect its output and exit code. No shell (arguments are never re-parsed), a timeout that
 * kills the child by its PID, and failures as results rather than exceptions, so every caller
 * decides what a non-zero exit means (an absent address is success for `ip addr del`).
 *
 * Product code never names a network namespace: in labs the whole agent runs inside one.
 * Tests pass a runner that prefixes `ip netns exec NAME`.
 */
import { spawn } from 'node:child_process';
import type { Millis } from '../core/duration.js';

export interface CommandResult {
  /** Exit code; -1 when the program could not be started or was killed (see `stderr`). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** Kill the child (SIGKILL, by PID) after this long. Default: 10 s. */
  timeout?: Millis;
  /** Aborting kills the child at once (a release cancels gratuitous ARPs still in flight). */
  signal?: AbortSignal;
  /**
   * Send SIGINT after this long: tools that wait for answers (arping) then stop waiting,
   * print their summary and exit normally — how a probe waits less than arping's whole-second
   * deadline. The result is whatever the tool reports; `timeout` still applies.
   */
  interruptAfter?: Millis;
}

export interface HostCommands {
  /** Runs `argv[0]` with `argv[1…]`. Never rejects: a spawn error is a result with code -1. */
  run(argv: readonly string[], opts?: CommandOptions): Promise<CommandResult>;
}

const DEFAULT_TIMEOUT = 10_000;
/** Output beyond this is dropped: `ip -j addr` of a busy host stays far below it. */
const OUTPUT_LIMIT = 4 * 1024 * 1024;

/** Runs programs on this host (in this process's network namespace). */
export const localHostCommands: HostCommands = {
  run(argv, opts = {}) {
    return new Promise((resolve) => {
      const [program, ...args] = argv;
      if (program === undefined) {
        resolve({ code: -1, stdout: '', stderr: 'no program given' });
        return;
      }
      let stdout = '';
      let stderr = '';
      let settled = false;
      let killedBecause: string | undefined;
      const finish = (result: CommandResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(interrupt);
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const kill = (why: string): void => {
        killedBecause ??= why;
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // Exited in the meantime.
          }
        }
      };
      const onAbort = (): void => kill('aborted');
      const interrupt =
        opts.interruptAfter === undefined
          ? undefined
          : setTimeout(() => {
              if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
                try {
                  process.kill(child.pid, 'SIGINT');
                } catch {
                  // Exited in the meantime.
                }
              }
            }, opts.interruptAfter);
      const timer = setTimeout(() => kill(`timed out after ${opts.timeout ?? DEFAULT_TIMEOUT} ms`), opts.timeout ?? DEFAULT_TIMEOUT);
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (chunk: Buffer) => {
        if (stdout.length < OUTPUT_LIMIT) stdout += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < OUTPUT_LIMIT) stderr += chunk.toString('utf8');
      });
      child.once('error', (err) => finish({ code: -1, stdout, stderr: `${program}: ${err.message}` }));
      child.once('close', (code, signal) => {
        if (killedBecause !== undefined) finish({ code: -1, stdout, stderr: `${program} ${killedBecause}; ${stderr}`.trim() });
        else finish({ code: code ?? -1, stdout, stderr: code === null ? `${program} killed by ${signal}; ${stderr}`.trim() : stderr });
      });
    });
  },
};

/** One line for logs and results: the command and the first line of what it said. */
export function describeFailure(argv: readonly string[], result: CommandResult): string {
  const detail = result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`;
  return `${argv.join(' ')}: ${detail.split('\n')[0]}`;
}
