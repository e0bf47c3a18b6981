/**
 * Logs are for operators: one line per state change, with its cause. JSON (pino) for
 * machines; readable lines when stdout is a terminal. Writes are synchronous so the line that
 * explains a withdrawal is never lost when the process exits right after it.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export function createLogger(opts: { level?: string; pretty?: boolean } = {}): Logger {
  const level = opts.level ?? process.env.QUORATE_LOG_LEVEL ?? 'info';
  const base = { base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (opts.pretty ?? process.stdout.isTTY) {
    return pino({ ...base, level }, pretty({ sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino({ ...base, level }, pino.destination({ fd: 1, sync: true }));
}
