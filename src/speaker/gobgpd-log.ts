/**
 * gobgpd's own log lines: passed on to the agent's logger, and quoted when gobgpd dies.
 *
 * gobgpd (logrus, JSON format by default) writes one object per line:
 *   {"Topic":"Peer","Key":"192.0.2.2","level":"info","msg":"Peer Up","time":"…"}
 *   {"Error":"listen tcp :179: bind: permission denied","Topic":"config","level":"fatal","msg":"failed to set global config","time":"…"}
 * Routine lines go to debug: they are gobgpd's business. Warnings and errors go to warn:
 * an operator must see why a session dropped or why gobgpd refused its config. Anything that
 * is not such an object (setpriv's complaints, a Go panic, the guard's own messages) is
 * unexpected and goes to warn as well.
 */
import type { Logger } from 'pino';

const QUIET_LEVELS: ReadonlySet<string> = new Set(['trace', 'debug', 'info']);

/** One line of gobgpd's output, read. */
interface GobgpdLine {
  /** gobgpd's level; undefined for a line that is not one of its JSON objects. */
  level: string | undefined;
  message: string;
  /** The object's other keys (Topic, Key, Error…), without `time`. */
  fields: Record<string, unknown>;
  /** Whether an operator needs to see it (warn and above, or anything unexpected). */
  serious: boolean;
}

function readLine(text: string): GobgpdLine {
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch {
    entry = undefined;
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return { level: undefined, message: text, fields: {}, serious: true };
  }
  const { level, msg, time: _time, ...fields } = entry as Record<string, unknown>;
  const gobgpdLevel = typeof level === 'string' ? level : 'info';
  return { level: gobgpdLevel, message: typeof msg === 'string' ? msg : text, fields, serious: !QUIET_LEVELS.has(gobgpdLevel) };
}

export function logGobgpdLine(logger: Logger, line: string): void {
  const text = line.trim();
  if (text === '') return;
  const read = readLine(text);
  if (read.level === undefined) logger.warn({ line: text }, 'gobgpd/guard output');
  else if (read.serious) logger.warn({ gobgpdLevel: read.level, ...read.fields }, read.message);
  else logger.debug({ gobgpdLevel: read.level, ...read.fields }, read.message);
}

/**
 * A line as a person reads it: the message, then the error gobgpd attached
 * (`failed to set global config: listen tcp :179: bind: permission denied`).
 */
function readable(read: GobgpdLine): string {
  const error = read.fields['Error'];
  return error === undefined || error === null ? read.message : `${read.message}: ${typeof error === 'string' ? error : JSON.stringify(error)}`;
}

/**
 * What to quote from gobgpd's last output lines when it died: the serious ones (its fatal
 * error is among them), or, when there are none, the last few, so a quiet death still shows
 * how far it got.
 */
export function gobgpdLastWords(lines: readonly string[], atMost = 3): string[] {
  const read = lines.map((line) => line.trim()).filter((line) => line !== '').map(readLine);
  const serious = read.filter((line) => line.serious);
  return (serious.length ? serious : read).slice(-atMost).map(readable);
}
