/**
 * gobgpd's own log lines, passed on to the agent's logger.
 *
 * gobgpd (logrus, JSON format by default) writes one object per line:
 *   {"Topic":"Peer","Key":"192.0.2.2","level":"info","msg":"Peer Up","time":"…"}
 * Routine lines go to debug: they are gobgpd's business. Warnings and errors go to warn:
 * an operator must see why a session dropped or why gobgpd refused its config. Anything that
 * is not such an object (setpriv's complaints, a Go panic, the guard's own messages) is
 * unexpected and goes to warn as well.
 */
import type { Logger } from 'pino';

const QUIET_LEVELS: ReadonlySet<string> = new Set(['trace', 'debug', 'info']);

export function logGobgpdLine(logger: Logger, line: string): void {
  const text = line.trim();
  if (text === '') return;
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch {
    logger.warn({ line: text }, 'gobgpd/guard output');
    return;
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    logger.warn({ line: text }, 'gobgpd/guard output');
    return;
  }
  const { level, msg, time: _time, ...fields } = entry as Record<string, unknown>;
  const message = typeof msg === 'string' ? msg : text;
  const gobgpdLevel = typeof level === 'string' ? level : 'info';
  if (QUIET_LEVELS.has(gobgpdLevel)) logger.debug({ gobgpdLevel, ...fields }, message);
  else logger.warn({ gobgpdLevel, ...fields }, message);
}
