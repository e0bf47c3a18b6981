/**
 * A child process the lab started: its PID, its recent output (for failure messages) and
 * the ways to stop it. Everything is by PID: the lab never kills by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ms, type Millis } from '../src/core/duration.js';
import { waitOnListeners } from './listener-wait.js';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Extra environment, merged over this process's own. */
  env?: Record<string, string>;
  cwd?: string;
  /** Keep stdin open as a pipe (some daemons read commands from it). Default: ignored. */
  stdin?: 'pipe' | 'ignore';
}

/** Keep the tail of a daemon's chatter: enough to explain a failure, bounded for long runs. */
const OUTPUT_LIMIT = 64 * 1024;

export class LabProcess {
  readonly pid: number;
  /** Resolves once, when the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  private status: ExitStatus | undefined;
  private tail = '';
  private readonly listeners = new Set<() => void>();

  private constructor(
    /** A short label for messages, e.g. `bird@qt-lab-123-r1`. */
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`${label}: spawn failed (no pid)`);
    this.pid = child.pid;
    const collect = (chunk: Buffer): void => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
      for (const notify of this.listeners) notify();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.status = { code, signal };
        for (const notify of this.listeners) notify();
        resolve(this.status);
      });
    });
  }

  /** Starts `command args…`; a spawn error (ENOENT…) throws here rather than later. */
  static async start(label: string, command: string, args: readonly string[], options: SpawnOptions = {}): Promise<LabProcess> {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) => reject(new Error(`${label}: cannot start ${command}: ${err.message}`)));
    });
    return new LabProcess(label, child);
  }

  get running(): boolean {
    return this.status === undefined;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /** The last 64 KiB of stdout and stderr, interleaved as they arrived. */
  output(): string {
    return this.tail;
  }

  /** Sends a signal by PID. False when the process has already gone. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (!this.running) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGTERM, then SIGKILL after `grace`; resolves when the process has exited. */
  async stop(grace: Millis = ms(2000)): Promise<ExitStatus> {
    if (!this.running) return this.status!;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), grace);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves with `ready` unless the process exits first, in which case it rejects with the
   * process's output (a daemon that dies on a bad config explains itself). Neither loser of
   * the race is left as an unhandled rejection.
   */
  untilReady<T>(ready: Promise<T>, what: string): Promise<T> {
    const died = this.exited.then((status): never => {
      throw new Error(`${this.label} exited (${describeExit(status)}) before ${what}:\n${this.tail}`);
    });
    died.catch(() => undefined);
    ready.catch(() => undefined);
    return Promise.race([ready, died]);
  }

  /**
   * Waits until the output matches `pattern`. Rejects when the process exits first or the
   * time runs out, quoting the output so the failure explains itself.
   */
  waitForOutput(pattern: RegExp, timeout: Millis): Promise<RegExpExecArray> {
    return waitOnListeners(this.listeners, {
      probe: () => pattern.exec(this.tail) ?? undefined,
      failed: () => (this.running ? undefined : new Error(`${this.label} exited (${describeExit(this.status!)}) before printing ${pattern}:\n${this.tail}`)),
      timedOut: () => new Error(`${this.label}: no ${pattern} within ${timeout} ms:\n${this.tail}`),
      timeout,
    });
  }
}

export function describeExit(status: ExitStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}
