/**
 * Notify hooks, as keepalived's `notify`: the configured command runs on every state change
 * (a service's health, the node's quorum, whether it serves a service), with the new state in
 * its environment.
 *
 * It never blocks the agent: notify() only queues and returns. Commands run one at a time, in
 * the order of the events (a script that keeps a state file sees them as they happened); the
 * queue is bounded (when full the oldest waiting event is dropped and counted); each run is
 * killed with its whole process group after `timeout`; a failing or missing command is logged
 * and counted, never thrown. stop() waits a short grace for the queue, then kills what runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import type { Method, NotifyConfig } from '../config/types.js';
import { ms, type Millis } from '../core/duration.js';
import type { ClusterName, NodeId, ServiceName } from '../core/ids.js';

export type NotifyEvent =
  | { event: 'service'; service: ServiceName; state: 'healthy' | 'unhealthy' | 'held-down'; reason: string }
  | { event: 'quorum'; state: 'quorate' | 'no-quorum'; reason: string }
  | { event: 'holding'; service: ServiceName; state: 'serving' | 'withdrawn'; method?: Method; reason: string };

export type NotifyResult = 'ok' | 'failed' | 'timeout' | 'dropped';

export interface NotifierOptions {
  config: NotifyConfig;
  node: NodeId;
  cluster: ClusterName;
  logger: Logger;
  /** Every run's result and every dropped event (for the metric). */
  onResult?: (result: NotifyResult) => void;
  /** Events waiting beyond this drop the oldest. */
  queueLimit?: number;
}

/** Enough for a burst (every service and the quorum changing at once) without unbounded memory. */
export const NOTIFY_QUEUE_LIMIT = 100;
/** How long stop() lets queued events run before it kills the running command. */
export const NOTIFY_STOP_GRACE = ms(1000);
/** What a failed run's log line keeps of its stderr. */
const STDERR_TAIL_BYTES = 512;

interface Queued { event: NotifyEvent; at: Date }

export class Notifier {
  private readonly queue: Queued[] = [];
  private running: { child: ChildProcess | undefined; done: Promise<void> } | undefined;
  private stopped = false;
  private droppedCount = 0;
  /** Resolves whenever the queue becomes empty and nothing runs. */
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: NotifierOptions) {}

  /** Queues the event and returns at once; never throws. */
  notify(event: NotifyEvent): void {
    if (this.stopped) return;
    const limit = this.options.queueLimit ?? NOTIFY_QUEUE_LIMIT;
    if (this.queue.length >= limit) {
      const dropped = this.queue.shift()!;
      this.droppedCount++;
      this.options.onResult?.('dropped');
      this.options.logger.warn({ dropped: dropped.event, droppedSoFar: this.droppedCount, limit }, 'notify queue full: oldest event dropped');
    }
    this.queue.push({ event, at: new Date() });
    if (!this.running) this.runNext();
  }

  /** Resolves once every queued event has run (for tests and stop()). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Lets the queue run for at most `grace`, then drops what waits and kills the running command
   * (its process group): nothing is left behind.
   */
  async stop(grace: Millis = NOTIFY_STOP_GRACE): Promise<void> {
    if (this.stopped) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, grace)))]);
    clearTimeout(timer);
    this.stopped = true;
    const left = this.queue.splice(0);
    for (const _ of left) this.options.onResult?.('dropped');
    if (left.length > 0) this.options.logger.warn({ dropped: left.length }, 'stopping: notify events not run');
    const running = this.running;
    if (running?.child) {
      killGroup(running.child);
      await running.done;
    }
  }

  private runNext(): void {
    const next = this.queue.shift();
    if (!next || this.stopped) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    const { config } = this.options;
    const [program, ...args] = config.command;
    const env = { ...inheritedEnvironment(), ...notifyEnvironment(next.event, this.options.node, this.options.cluster, next.at) };
    let child: ChildProcess;
    try {
      // Its own process group (detached), so a timeout kills the script and whatever it started.
      child = spawn(program!, args, { env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      // spawn() throws synchronously only for bad arguments; a missing program is an 'error' event.
      this.running = { child: undefined, done: Promise.resolve() };
      this.finish('failed', next.event, { err: String(err) });
      return;
    }
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, config.timeout);
    const done = new Promise<void>((resolve) => {
      let settled = false;
      const settle = (result: NotifyResult, fields: Record<string, unknown>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.stderr?.destroy();
        resolve();
        this.finish(result, next.event, fields);
      };
      child.once('error', (err) => settle('failed', { err: err.message }));
      child.once('exit', (code, signal) => {
        if (timedOut) settle('timeout', { timeout: config.timeout });
        else if (this.stopped) settle('failed', { stopping: true, signal });
        else if (code === 0) settle('ok', {});
        else settle('failed', { code, signal, ...(stderr.trim() ? { stderr: stderr.trim() } : {}) });
      });
    });
    this.running = { child, done };
  }

  private finish(result: NotifyResult, event: NotifyEvent, fields: Record<string, unknown>): void {
    this.options.onResult?.(result);
    const { logger, config } = this.options;
    if (result === 'ok') logger.debug({ event }, 'notify command ran');
    else if (result === 'timeout') logger.warn({ event, command: config.command, ...fields }, `notify command killed after ${config.timeout} ms`);
    else if (fields.stopping) logger.warn({ event, command: config.command }, 'notify command killed: the agent is stopping');
    else logger.warn({ event, command: config.command, ...fields }, 'notify command failed');
    // The next event runs from a fresh tick, so a burst of failures cannot recurse deeply;
    // `running` stays set until then, so notify() cannot start a second run beside it.
    setImmediate(() => {
      this.running = undefined;
      this.runNext();
    });
  }
}

/** The environment a notify command sees (keepalived passes its state as arguments; we name it). */
export function notifyEnvironment(event: NotifyEvent, node: NodeId, cluster: ClusterName, at: Date): Record<string, string> {
  return {
    QUORATE_EVENT: event.event,
    QUORATE_NODE: node,
    QUORATE_CLUSTER: cluster,
    ...(event.event !== 'quorum' ? { QUORATE_SERVICE: event.service } : {}),
    QUORATE_STATE: event.state,
    ...(event.event === 'holding' && event.method ? { QUORATE_METHOD: event.method } : {}),
    QUORATE_REASON: event.reason,
    QUORATE_TIME: at.toISOString(),
  };
}

/** Every variable notifyEnvironment() may set. */
const NOTIFY_VARIABLES = new Set(['QUORATE_EVENT', 'QUORATE_NODE', 'QUORATE_CLUSTER', 'QUORATE_SERVICE', 'QUORATE_STATE', 'QUORATE_METHOD', 'QUORATE_REASON', 'QUORATE_TIME']);

/** The agent's own environment without the notify variables (an inherited one must not pass for this event's). */
function inheritedEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !NOTIFY_VARIABLES.has(key)));
}

/** SIGKILL to the child's process group; it may have exited already. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
}
