/**
 * GuardedSpeaker: the gobgpd that the agent runs itself (`bgp.gobgp.run`), under a guard
 * process (guard.ts) so that it cannot outlive or outstall the agent (DESIGN.md rule S4).
 *
 * The agent calls start(), then keeps the guard's deadline fresh: by default this class
 * renews from a plain setInterval on the agent's own event loop — deliberately, since a
 * blocked or stopped loop must stop the renewals, and the guard then kills gobgpd.
 * If gobgpd or the guard dies for any reason other than stop(), 'exit' is emitted; the
 * agent restarts the speaker and its reconciler re-announces (level-triggered).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:fs';
import { access, lstat, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { ms, type Millis } from '../core/duration.js';
import type { GobgpRunConfig } from '../config/types.js';
import { GobgpClient } from '../gobgp/client.js';
import { acceptsConnections, apiHostsArgument, grpcTarget, parseApiTarget, type ApiTarget } from './api-target.js';
import { findExecutable } from './find-executable.js';
import { checkGobgpdConfig } from './gobgpd-config-check.js';
import { logGobgpdLine } from './gobgpd-log.js';
import { encodeMessage, encodeSpec, parseReport, type ExitedMessage, type GuardExitReason, type GuardSpec } from './guard-protocol.js';
import { isRunning, waitUntilGone } from './process-state.js';
import { createRuntimeDir, SOCKET_NAME, sweepStaleRuntimeDirs } from './runtime-dir.js';
import { verifyListenerOwner } from './socket-owner.js';
import { GobgpdExitedWhileStarting } from './start-failure.js';

export interface GuardedSpeakerOptions {
  run: GobgpRunConfig;
  /**
   * gRPC target gobgpd listens on: `unix:///path` or `IP:port`. Default: `api.sock` in a fresh
   * 0700 runtime directory (runtime-dir.ts), so nobody else can reach or squat on it.
   */
  apiTarget?: string;
  logger: Logger;
  /**
   * A command prefix that runs gobgpd somewhere else, e.g. `['ip', 'netns', 'exec', 'ns1']`.
   * It must exec gobgpd, not fork it: the guard watches the pid it started.
   */
  wrap?: readonly string[];
  /** Where the default runtime directory is created (default: the OS temp dir). */
  runtimeParent?: string;
  /** How long start() waits for gobgpd's API socket (default 10 s). */
  startTimeout?: Millis;
  /** stop(): how long gobgpd may take to stop cleanly after SIGTERM before SIGKILL (default 3 s). */
  stopGrace?: Millis;
  /** Renew the guard's deadline every stallTimeout/4 from this process's event loop (default true). */
  autoRenew?: boolean;
}

/** Why the speaker is gone, as 'exit' reports it. */
export interface SpeakerExit {
  /** The guard's reason, or 'guard-died' when the guard itself vanished without a word. */
  reason: GuardExitReason | 'guard-died';
  /** gobgpd's exit code (or the guard's, for 'guard-died'). */
  code: number | null;
  signal: string | null;
  detail?: string;
  /** gobgpd's pid, when it had started. */
  pid?: number;
}

export interface SpeakerEvents {
  exit: [SpeakerExit];
}

/** How many of gobgpd's last output lines are kept for a start() error to choose from. */
const KEPT_LINES = 16;
const PROBE_TIMEOUT = ms(250);
/** Deadline of one GetBgp while start() waits for gobgpd to apply its config. */
const CONFIG_PROBE_TIMEOUT = ms(1000);
const START_POLL_MS = 25;
/**
 * gobgpd is gone but the guard has not said how yet: how long start() waits for its report.
 * The guard reports as soon as it reaps gobgpd; this only bounds a guard that died mute.
 */
const EXIT_REPORT_WAIT = ms(3000);
/**
 * After the guard exits, how long to wait for gobgpd's last output lines to be read (the
 * stderr pipe is separate from the guard's reports, and may be drained later). Bounded:
 * a stray holder of the pipe must not keep stop() waiting.
 */
const OUTPUT_DRAIN_WAIT = ms(1000);

/** One guard and its gobgpd, from start() until both are gone. */
interface Run {
  readonly guard: ChildProcess;
  readonly target: ApiTarget;
  /** The runtime directory this run created (removed when the run ends). */
  readonly runtimeDir: string | undefined;
  pid: number | undefined;
  report: ExitedMessage | undefined;
  renewTimer: NodeJS.Timeout | undefined;
  stopping: boolean;
  /** start() succeeded: from now on an exit is news for the agent (before, start() rejects instead). */
  serving: boolean;
  ended: SpeakerExit | undefined;
  /** Resolves once the guard has exited and its report is read. */
  readonly done: Promise<SpeakerExit>;
  /** gobgpd's (and the guard's) last output lines, complete once `ended` is set. */
  readonly lastLines: string[];
}

export class GuardedSpeaker extends EventEmitter<SpeakerEvents> {
  private readonly logger: Logger;
  private current: Run | undefined;
  /** start() is between its first check and its launch (no Run exists yet). */
  private preparing = false;
  /** stop() was called while preparing: start() must not launch. */
  private stopWhilePreparing = false;

  constructor(private readonly opts: GuardedSpeakerOptions) {
    super();
    // The agent may already have named the component; pino would print the key twice.
    this.logger = 'component' in opts.logger.bindings() ? opts.logger : opts.logger.child({ component: 'speaker' });
  }

  /** gobgpd's pid while it runs. */
  get pid(): number | undefined {
    return this.current?.ended ? undefined : this.current?.pid;
  }

  /**
   * Starts guard and gobgpd; resolves once gobgpd's API accepts connections, the listener
   * there is proven to be gobgpd's own, and gobgpd has applied its config (bound its BGP
   * port). Rejects (leaving nothing running) otherwise; when gobgpd died on the way, with a
   * GobgpdExitedWhileStarting that carries its exit and its last words.
   */
  async start(): Promise<{ target: string; pid: number }> {
    if (this.current || this.preparing) throw new Error('speaker already started');
    this.preparing = true;
    this.stopWhilePreparing = false;
    let run: Run;
    try {
      run = await this.prepareAndLaunch();
    } finally {
      this.preparing = false;
    }
    const target = run.target;
    const until = performance.now() + (this.opts.startTimeout ?? 10_000);
    try {
      const pid = await this.waitUntilServing(run, until);
      await verifyListenerOwner(pid, target);
      await this.waitUntilConfigured(run, pid, until);
      if (run.ended) throw new Error('gobgpd exited while starting');
      run.serving = true;
      this.logger.info({ gobgpdPid: pid, target: grpcTarget(target), guardPid: run.guard.pid }, 'gobgpd started under guard');
      return { target: grpcTarget(target), pid };
    } catch (err) {
      const failure = await this.whyStartFailed(run, err);
      await this.stop();
      throw failure;
    }
  }

  /**
   * The error start() gives. gobgpd may die at any step of start() (it opens its API before it
   * binds its BGP port), and the step that notices says only what it saw; if gobgpd is gone,
   * its exit and last words are the reason, whichever step noticed.
   */
  private async whyStartFailed(run: Run, err: unknown): Promise<unknown> {
    if (run.stopping) return new Error('speaker stopped while starting');
    const gone = run.ended !== undefined || (run.pid !== undefined && !(await isRunning(run.pid)));
    if (!gone) return err;
    if (!run.ended) await Promise.race([run.done, sleep(EXIT_REPORT_WAIT)]);
    return GobgpdExitedWhileStarting.from(run.ended, run.pid, run.lastLines);
  }

  private async prepareAndLaunch(): Promise<Run> {
    const { run: runConfig } = this.opts;
    const setpriv = await findExecutable('setpriv');
    if (!setpriv) throw new Error('setpriv (util-linux) not found in PATH: the guard needs it to tie gobgpd\'s life to the agent\'s');
    const binary = await findExecutable(runConfig.binary);
    if (!binary) throw new Error(`gobgpd binary "${runConfig.binary}" not found or not executable`);
    const guardScript = guardScriptPath();
    try {
      await access(guardScript, constants.R_OK);
    } catch {
      throw new Error(`guard program ${guardScript} is missing: build with \`npx tsc -p tsconfig.json\``);
    }

    await checkGobgpdConfig(binary, runConfig.config);

    const { target, runtimeDir } = await this.prepareTarget();
    const spec: GuardSpec = {
      command: [...(this.opts.wrap ?? []), binary, '-f', runConfig.config, '-t', 'toml', '--api-hosts', apiHostsArgument(target), '--pprof-disable'],
      setpriv,
      deadlineMs: runConfig.stallTimeout,
      termGraceMs: this.opts.stopGrace ?? 3000,
      agentPid: process.pid,
    };
    if (this.stopWhilePreparing) {
      if (runtimeDir) await rm(runtimeDir, { recursive: true, force: true });
      throw new Error('speaker stopped while starting');
    }
    const run = this.launch(setpriv, guardScript, spec, target, runtimeDir);
    this.current = run;
    return run;
  }

  /**
   * Moves the guard's deadline to `validFor` from now (at most run.stallTimeout, the promise the
   * configuration makes). Cheap: one short line into a pipe.
   */
  renew(validFor: Millis = this.opts.run.stallTimeout): void {
    const run = this.current;
    if (!run || run.ended || run.stopping || !run.guard.stdin?.writable) return;
    run.guard.stdin.write(encodeMessage({ renew: Math.min(validFor, this.opts.run.stallTimeout) }));
  }

  /** Stops gobgpd cleanly (SIGTERM through the guard); resolves when guard and gobgpd are gone. */
  async stop(): Promise<void> {
    const run = this.current;
    if (!run) {
      if (this.preparing) this.stopWhilePreparing = true;
      return;
    }
    run.stopping = true;
    clearInterval(run.renewTimer);
    if (!run.ended) run.guard.kill('SIGTERM');
    const grace = (this.opts.stopGrace ?? 3000) + 3000;
    const finished = await Promise.race([run.done.then(() => true), sleep(grace).then(() => false)]);
    if (!finished) {
      // The guard did not finish in time: kill it; the parent-death signal takes gobgpd along.
      this.logger.warn({ guardPid: run.guard.pid }, 'guard did not stop in time; killing it');
      run.guard.kill('SIGKILL');
      await run.done;
    }
    if (run.pid !== undefined && !(await waitUntilGone(run.pid, ms(5000)))) {
      throw new Error(`gobgpd (pid ${run.pid}) still runs after its guard is gone`);
    }
  }

  private async prepareTarget(): Promise<{ target: ApiTarget; runtimeDir: string | undefined }> {
    if (this.opts.apiTarget === undefined) {
      const parent = this.opts.runtimeParent ?? tmpdir();
      const swept = await sweepStaleRuntimeDirs(parent);
      if (swept.length) this.logger.info({ removed: swept }, 'removed runtime directories of killed agents');
      const runtimeDir = await createRuntimeDir(parent);
      return { target: { kind: 'unix', path: join(runtimeDir, SOCKET_NAME) }, runtimeDir };
    }
    const target = parseApiTarget(this.opts.apiTarget);
    if (await acceptsConnections(target, PROBE_TIMEOUT)) {
      throw new Error(
        `something already listens at ${grpcTarget(target)} (another gobgpd? Debian's gobgpd.service uses 127.0.0.1:50051); ` +
          'refusing to start a speaker there',
      );
    }
    if (target.kind === 'unix') {
      const existing = await lstat(target.path).catch(() => undefined);
      if (existing && !existing.isSocket()) throw new Error(`${target.path} exists and is not a socket; refusing to replace it`);
      // A socket nobody accepts on is the leftover of a speaker that was killed: gobgpd would fail to bind over it.
      if (existing) await unlink(target.path);
    }
    return { target, runtimeDir: undefined };
  }

  private launch(setpriv: string, guardScript: string, spec: GuardSpec, target: ApiTarget, runtimeDir: string | undefined): Run {
    // setpriv: the kernel SIGKILLs the guard when this process dies, however it dies.
    // detached (own session): a terminal's Ctrl-Z or Ctrl-C aimed at the agent's process
    // group must not stop or kill the guard; the agent alone decides.
    const guard = spawn(setpriv, ['--pdeathsig', 'KILL', '--', process.execPath, guardScript, encodeSpec(spec)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolveExit) => {
      guard.once('exit', (code, signal) => resolveExit({ code, signal }));
      guard.once('error', (err) => {
        // spawn itself failed: no 'exit' will follow.
        if (guard.pid === undefined) resolveExit({ code: null, signal: null });
        this.logger.error({ err }, 'guard process error');
      });
    });
    const reportsRead = new Promise<void>((resolveRead) => {
      if (!guard.stdout) return resolveRead();
      guard.stdout.once('close', () => resolveRead());
    });
    let outputClosed: () => void = () => undefined;
    const outputRead = new Promise<void>((resolveRead) => {
      outputClosed = resolveRead;
    });

    const run: Run = {
      guard,
      target,
      runtimeDir,
      pid: undefined,
      report: undefined,
      renewTimer: undefined,
      stopping: false,
      serving: false,
      ended: undefined,
      lastLines: [],
      done: Promise.all([exited, reportsRead]).then(async ([{ code, signal }]) => {
        // gobgpd's dying words (its fatal error) must be in lastLines before the run counts as ended.
        await Promise.race([outputRead, sleep(OUTPUT_DRAIN_WAIT)]);
        return this.finish(run, code, signal);
      }),
    };

    // A guard that died makes writes fail with EPIPE; 'done' reports that, not an uncaught error.
    guard.stdin?.on('error', () => undefined);
    if (guard.stdout) {
      createInterface({ input: guard.stdout, crlfDelay: Infinity }).on('line', (line) => {
        const report = parseReport(line);
        if (!report) this.logger.warn({ line }, 'unreadable line from guard');
        else if ('started' in report) run.pid = report.started;
        else run.report = report;
      });
    }
    if (guard.stderr) {
      const gobgpdLogger = this.logger.child({ source: 'gobgpd' });
      const output = createInterface({ input: guard.stderr, crlfDelay: Infinity });
      output.on('line', (line) => {
        run.lastLines.push(line);
        if (run.lastLines.length > KEPT_LINES) run.lastLines.shift();
        logGobgpdLine(gobgpdLogger, line);
      });
      output.once('close', () => outputClosed());
    } else {
      outputClosed();
    }
    if (this.opts.autoRenew ?? true) {
      const every = Math.max(1, Math.floor(this.opts.run.stallTimeout / 4));
      run.renewTimer = setInterval(() => this.renew(), every);
    }
    return run;
  }

  /** Waits for the guard's `started` and for the API socket to accept connections. */
  private async waitUntilServing(run: Run, until: number): Promise<number> {
    for (;;) {
      if (run.ended) throw new Error('gobgpd exited before its API accepted connections');
      if (run.pid !== undefined && (await acceptsConnections(run.target, PROBE_TIMEOUT))) return run.pid;
      if (performance.now() >= until) {
        throw new Error(`gobgpd's API at ${grpcTarget(run.target)} did not accept connections within ${this.opts.startTimeout ?? 10_000} ms`);
      }
      this.renewWhileStarting();
      await sleep(START_POLL_MS);
    }
  }

  /**
   * Waits until gobgpd has applied its global config. gobgpd serves its API before it does
   * (and then binds its BGP port, where a missing capability or a taken port kills it), so an
   * answering API is not yet a started speaker. Before that step GetBgp answers listen_port 0;
   * after it, the configured port (179 by default, -1 for none): never 0 again.
   * Called only after the listener is proven to be this gobgpd's own.
   */
  private async waitUntilConfigured(run: Run, pid: number, until: number): Promise<void> {
    const client = new GobgpClient({ target: grpcTarget(run.target), callTimeout: CONFIG_PROBE_TIMEOUT });
    try {
      for (;;) {
        if (run.ended || !(await isRunning(pid))) throw new Error('gobgpd exited before it applied its config');
        const global = await client.getGlobal().catch(() => undefined);
        if (global !== undefined && global.listenPort !== 0) return;
        if (performance.now() >= until) {
          throw new Error(`gobgpd did not apply its config ${this.opts.run.config} within ${this.opts.startTimeout ?? 10_000} ms`);
        }
        this.renewWhileStarting();
        await sleep(START_POLL_MS);
      }
    } finally {
      client.close();
    }
  }

  /**
   * A slow start (a loaded machine) must not be mistaken for a stalled agent: until start()
   * returns, gobgpd holds no paths, so nothing can outlast the agent's promise, and this loop
   * runs on the agent's event loop, so a stalled agent still stops renewing.
   */
  private renewWhileStarting(): void {
    this.renew();
  }

  /** Runs once per run, when the guard is gone: clean up, then tell the agent if it did not ask for it. */
  private async finish(run: Run, code: number | null, signal: string | null): Promise<SpeakerExit> {
    clearInterval(run.renewTimer);
    const exit: SpeakerExit = run.report
      ? { reason: run.report.reason, code: run.report.exited, signal: run.report.signal }
      : { reason: 'guard-died', code, signal };
    if (run.report?.detail !== undefined) exit.detail = run.report.detail;
    if (run.pid !== undefined) exit.pid = run.pid;
    run.ended = exit;
    if (run.runtimeDir) await rm(run.runtimeDir, { recursive: true, force: true });
    if (this.current === run) this.current = undefined;
    // `pid` would shadow pino's own field (the agent's pid).
    const { pid: gobgpdPid, ...fields } = exit;
    if (run.stopping) {
      this.logger.info({ gobgpdPid, ...fields }, 'gobgpd stopped');
    } else if (!run.serving) {
      // start() rejects with the reason (start-failure.ts); this line only records the exit.
      this.logger.info({ gobgpdPid, ...fields }, 'gobgpd exited while starting');
    } else {
      this.logger.warn({ gobgpdPid, ...fields }, `gobgpd gone: ${describeExit(exit)}`);
      this.emit('exit', exit);
    }
    return exit;
  }
}

function describeExit(exit: SpeakerExit): string {
  const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
  return `${exit.reason}, ${how}${exit.detail ? `: ${exit.detail}` : ''}`;
}

/**
 * The compiled guard program. Beside this file in dist/; when this file runs from the
 * TypeScript sources (vitest), the build under dist/ that the test setup makes.
 */
function guardScriptPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'guard.js');
  return resolve(dirname(here), '../../dist/src/speaker/guard.js');
}
