/**
 * Gratuitous announcements: retrain the segment's neighbour caches so that traffic for the
 * service address comes to this interface's MAC.
 *
 * - IPv4: iputils `arping -U` (an unsolicited ARP *request*) and/or `arping -A` (an ARP
 *   *reply*), with sender and target the service address. Some devices heed only one of the
 *   two forms (keepalived and MetalLB send both kinds over their lifetimes), so both are sent
 *   by default.
 * - IPv6: an unsolicited neighbour advertisement to all nodes (ff02::1) with the override
 *   flag and the target link-layer address option: `na6 -i IF -s VIP -d ff02::1 -t VIP -o -e`
 *   (ipv6toolkit). `forms` does not apply: NA has one form.
 *
 * Facts measured here, which shape the scheduling:
 * - `arping -U -c 1` (and `-A`) sends at once but then waits about one second for replies
 *   before it exits, whatever `-w` says; `-i` takes whole seconds only (`-i 0.2` is rejected
 *   and `-i 0` never exits). So each packet is its own `arping -c 1`, started on our own
 *   timer at `interval` spacing: the packets leave on time, the processes overlap.
 * - `na6` without `-l` sends one NA and exits (≈ 0.05 s).
 *
 * Runs in the background: `announceAddress` returns at once; `done` never rejects.
 */
import type { Millis } from '../core/duration.js';
import { ms } from '../core/duration.js';
import type { Prefix } from '../core/prefix.js';
import type { HostCommands } from './host-commands.js';
import { describeFailure } from './host-commands.js';

export type GarpForm = 'request' | 'reply';

export interface AnnounceOptions {
  /** IPv4 only: which ARP forms to send in each round. */
  forms: readonly GarpForm[];
  /** Rounds (≥ 1). */
  count: number;
  /** Pause between rounds. */
  interval: Millis;
}

export type AnnounceResult =
  | { ok: true; sent: number }
  | { ok: false; sent: number; reason: string }
  | { ok: false; sent: number; cancelled: true; reason: 'cancelled' };

export interface Announcement {
  /** Settles when every packet was sent (or failed, or was cancelled). Never rejects. */
  readonly done: Promise<AnnounceResult>;
  /** Stops sending: rounds not yet started are dropped, tools in flight are killed. */
  cancel(): void;
}

/** A tool that has not exited within this long is stuck: arping's own wait is ~1 s. */
const TOOL_TIMEOUT = ms(5000);

/** The command line for one announcement packet of `form` (IPv4) or one NA (IPv6). */
export function announceCommand(iface: string, vip: Prefix, form: GarpForm): string[] {
  if (vip.family === 6) return ['na6', '-i', iface, '-s', vip.address, '-d', 'ff02::1', '-t', vip.address, '-o', '-e'];
  return ['arping', form === 'request' ? '-U' : '-A', '-c', '1', '-I', iface, '-s', vip.address, vip.address];
}

export function announceAddress(cmd: HostCommands, iface: string, vip: Prefix, opts: AnnounceOptions): Announcement {
  const abort = new AbortController();
  const forms: readonly GarpForm[] = vip.family === 6 ? ['request'] : opts.forms;
  const rounds = Math.max(1, Math.floor(opts.count));
  let sent = 0;
  let firstFailure: string | undefined;
  const timers = new Set<NodeJS.Timeout>();

  const sendRound = (): Promise<void>[] =>
    forms.map(async (form) => {
      const argv = announceCommand(iface, vip, form);
      const result = await cmd.run(argv, { timeout: TOOL_TIMEOUT, signal: abort.signal });
      if (abort.signal.aborted) return;
      if (result.code === 0) sent++;
      else firstFailure ??= describeFailure(argv, result);
    });

  const done = (async (): Promise<AnnounceResult> => {
    const inFlight: Promise<void>[] = [];
    try {
      for (let round = 0; round < rounds && !abort.signal.aborted; round++) {
        if (round > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              timers.delete(timer);
              resolve();
            }, opts.interval);
            timers.add(timer);
            abort.signal.addEventListener('abort', () => resolve(), { once: true });
          });
          if (abort.signal.aborted) break;
        }
        inFlight.push(...sendRound());
      }
      await Promise.all(inFlight);
    } catch (err) {
      firstFailure ??= err instanceof Error ? err.message : String(err);
    }
    if (abort.signal.aborted) return { ok: false, sent, cancelled: true, reason: 'cancelled' };
    return firstFailure === undefined ? { ok: true, sent } : { ok: false, sent, reason: firstFailure };
  })();

  return {
    done,
    cancel() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      abort.abort();
    },
  };
}
