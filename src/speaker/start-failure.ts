/**
 * The one error start() gives when gobgpd went away while starting.
 *
 * Why one: gobgpd opens its API socket before it applies its config, so a gobgpd that cannot
 * bind its BGP port (no CAP_NET_BIND_SERVICE, port taken) dies while start() is somewhere in
 * its checks — waiting for the socket, reading /proc for its listener, asking its API. Each
 * check fails in its own words ("cannot inspect process … ENOENT"), none of which says why.
 * Whatever check noticed first, the operator gets the exit and gobgpd's own last words:
 *   gobgpd exited (code 1) while starting: failed to set global config: listen tcp :179: bind: permission denied
 */
import { gobgpdLastWords } from './gobgpd-log.js';
import type { SpeakerExit } from './speaker.js';

export class GobgpdExitedWhileStarting extends Error {
  override name = 'GobgpdExitedWhileStarting';

  /**
   * @param exit what the guard reported; undefined when gobgpd vanished and the guard's report
   *   did not arrive in time
   * @param lastWords gobgpd's last output lines, readable (gobgpd-log.ts)
   */
  constructor(
    readonly exit: SpeakerExit | undefined,
    readonly pid: number | undefined,
    readonly lastWords: readonly string[],
  ) {
    super(`${howItEnded(exit, pid)} while starting${lastWords.length ? `: ${lastWords.join('; ')}` : ' (it wrote nothing)'}`);
  }

  /** From the run's raw output lines. */
  static from(exit: SpeakerExit | undefined, pid: number | undefined, outputLines: readonly string[]): GobgpdExitedWhileStarting {
    return new GobgpdExitedWhileStarting(exit, pid, gobgpdLastWords(outputLines));
  }
}

function howItEnded(exit: SpeakerExit | undefined, pid: number | undefined): string {
  if (!exit) return `gobgpd${pid === undefined ? '' : ` (pid ${pid})`} exited`;
  const status = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
  switch (exit.reason) {
    case 'child-exited':
      return `gobgpd exited (${status})`;
    case 'spawn-failed':
      return `gobgpd could not be run${exit.detail ? ` (${exit.detail})` : ''}`;
    case 'guard-died':
      return `gobgpd's guard died (${status})`;
    default:
      // agent-gone, stalled, terminated: the guard ended it, for that reason.
      return `gobgpd was ended by its guard (${exit.reason}, ${status})`;
  }
}
