/**
 * The pipe protocol between the agent and its guard process: one JSON object per line.
 *
 *   agent → guard (guard's stdin):  {"renew": <ms until the deadline>}
 *   guard → agent (guard's stdout): {"started": <pid>}
 *                                   {"exited": <code|null>, "signal": <name|null>, "reason": "…"}
 *
 * Kept tiny and dependency-free: the guard imports it, and the guard must start fast.
 */

/** Why the guard's child (gobgpd) is gone. */
export type GuardExitReason =
  /** The guard's stdin closed: the agent is gone. */
  | 'agent-gone'
  /** The agent did not renew its deadline in time (SIGSTOP, blocked event loop). */
  | 'stalled'
  /** The guard was asked to stop (SIGTERM): a clean stop. */
  | 'terminated'
  /** The child exited on its own (crash, bad config, killed from outside). */
  | 'child-exited'
  /** The child could not be started at all. */
  | 'spawn-failed';

const EXIT_REASONS: ReadonlySet<string> = new Set<GuardExitReason>([
  'agent-gone',
  'stalled',
  'terminated',
  'child-exited',
  'spawn-failed',
]);

export interface RenewMessage { renew: number }
export interface StartedMessage { started: number }
export interface ExitedMessage { exited: number | null; signal: string | null; reason: GuardExitReason; detail?: string }
export type GuardReport = StartedMessage | ExitedMessage;

export function encodeMessage(message: RenewMessage | GuardReport): string {
  return `${JSON.stringify(message)}\n`;
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The guard's reading of one line from the agent; undefined for anything malformed. */
export function parseRenew(line: string): RenewMessage | undefined {
  const obj = parseObject(line);
  const renew = obj?.['renew'];
  return typeof renew === 'number' && Number.isFinite(renew) && renew >= 0 ? { renew } : undefined;
}

/** The agent's reading of one line from the guard; undefined for anything malformed. */
export function parseReport(line: string): GuardReport | undefined {
  const obj = parseObject(line);
  if (!obj) return undefined;
  const started = obj['started'];
  if (typeof started === 'number' && Number.isInteger(started) && started > 0) return { started };
  if ('exited' in obj) {
    const exited = obj['exited'];
    const signal = obj['signal'];
    const reason = obj['reason'];
    const detail = obj['detail'];
    if ((typeof exited === 'number' || exited === null) && (typeof signal === 'string' || signal === null) && typeof reason === 'string' && EXIT_REASONS.has(reason)) {
      const message: ExitedMessage = { exited, signal, reason: reason as GuardExitReason };
      if (typeof detail === 'string') message.detail = detail;
      return message;
    }
  }
  return undefined;
}

/** What the guard is told at launch (its single command-line argument, as JSON). */
export interface GuardSpec {
  /** The command to guard: gobgpd and its arguments, after an optional wrap prefix (which must exec, not fork). */
  command: string[];
  /** Absolute path of setpriv: the guard runs the command as `setpriv --pdeathsig KILL -- command…`. */
  setpriv: string;
  /** The first deadline, in ms from the guard's start; each renew moves it. */
  deadlineMs: number;
  /** After a SIGTERM, how long the child may take to stop cleanly before SIGKILL. */
  termGraceMs: number;
  /**
   * The agent's pid. If the guard's parent is already someone else when it starts, the agent
   * died before setpriv armed the guard's parent-death signal: the guard must not start anything.
   */
  agentPid: number;
}

export function encodeSpec(spec: GuardSpec): string {
  return JSON.stringify(spec);
}

export function parseSpec(text: string | undefined): GuardSpec | undefined {
  const obj = text === undefined ? undefined : parseObject(text);
  if (!obj) return undefined;
  const { command, setpriv, deadlineMs, termGraceMs, agentPid } = obj;
  const isPositive = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n > 0;
  if (!Array.isArray(command) || command.length === 0 || !command.every((part): part is string => typeof part === 'string')) return undefined;
  if (typeof setpriv !== 'string' || !isPositive(deadlineMs) || !isPositive(termGraceMs) || !isPositive(agentPid)) return undefined;
  return { command, setpriv, deadlineMs, termGraceMs, agentPid };
}
