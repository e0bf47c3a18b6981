/**
 * Is anyone on the segment answering for this address? `arping -D` (duplicate address
 * detection: sender address 0.0.0.0, so asking does not itself retrain any cache). Used when
 * a holder has vanished: if its heartbeats are dead *and* several probes in a row get no
 * answer, the whole host is gone and the address may be taken at once instead of waiting for
 * its copy's kernel lifetime to end.
 *
 * Facts about iputils arping 20221126, checked here:
 * - exit 0 = no reply, 1 = a reply (it stops at the first one; the line
 *   `Unicast reply from IP [MAC]` names the holder), 2 = error (no such interface). But a bad
 *   argument also exits 1 ("invalid argument"), so "in use" is read from the output
 *   (`Received N response(s)`), never from the exit code alone.
 * - `-w` and `-i` take whole seconds only. SIGINT ends a waiting arping cleanly: it prints
 *   its summary and exits as if the deadline had passed. So a probe shorter than a second
 *   runs `-w 1` and is interrupted after `wait`; a summary with `Sent 0 probes` (interrupted
 *   before sending) counts as unknown, never as free.
 *
 * IPv6: `ndisc6` (Debian's ndisc6) sends one neighbour solicitation for the address and waits
 * `-w` milliseconds: exit 0 with the answering MAC on stdout (`-q`), 2 when nothing answered,
 * 1 on an error (no such interface, cannot send) — checked here. It asks from this node's own
 * address, which at most teaches the holder our MAC; no cache learns the service address.
 * (ipv6toolkit's `ns6` reports no answer as a result; kernel DAD only runs on adding an address.)
 */
import type { Millis } from '../core/duration.js';
import { ms } from '../core/duration.js';
import type { Prefix } from '../core/prefix.js';
import type { HostCommands } from './host-commands.js';
import { describeFailure } from './host-commands.js';

export interface ProbeOptions {
  /** How long to wait for an answer in all; below a second the probe is cut short by SIGINT. */
  wait: Millis;
  /** Probes to send within `wait`, one per second (arping's spacing). Default 1. */
  count?: number;
}

export type ProbeResult =
  | { inUse: true; mac?: string }
  | { inUse: false }
  | { inUse: 'unknown'; reason: string };

/** Reads arping -D's summary. Exported for the unit tests. */
export function parseProbeOutput(code: number, stdout: string): ProbeResult | undefined {
  const received = /Received (\d+) response/.exec(stdout);
  const sent = /Sent (\d+) probe/.exec(stdout);
  if (received && Number(received[1]) > 0) {
    const mac = /reply from \S+ \[([0-9a-f:]{17})\]/i.exec(stdout)?.[1]?.toLowerCase();
    return mac ? { inUse: true, mac } : { inUse: true };
  }
  if (code === 0 && received && sent && Number(sent[1]) > 0) return { inUse: false };
  return undefined;
}

/** Reads ndisc6's exit code and `-q` output. Exported for the unit tests. */
export function parseNeighbourProbe(code: number, stdout: string): ProbeResult | undefined {
  if (code === 0) {
    const mac = /([0-9a-f]{2}(?::[0-9a-f]{2}){5})/i.exec(stdout)?.[1]?.toLowerCase();
    return mac ? { inUse: true, mac } : { inUse: true };
  }
  if (code === 2) return { inUse: false };
  return undefined;
}

export async function probeAddressInUse(cmd: HostCommands, iface: string, vip: Prefix, opts: ProbeOptions): Promise<ProbeResult> {
  if (vip.family === 6) {
    const argv = ['ndisc6', '-1', '-q', '-n', '-r', '1', '-w', String(Math.max(1, Math.round(opts.wait))), vip.address, iface];
    const result = await cmd.run(argv, { timeout: ms(opts.wait + 3000) });
    return parseNeighbourProbe(result.code, result.stdout) ?? { inUse: 'unknown', reason: describeFailure(argv, result) };
  }
  const count = Math.max(1, Math.floor(opts.count ?? 1));
  const wait = Math.max(1, opts.wait);
  const deadline = Math.max(1, Math.ceil(wait / 1000));
  const argv = ['arping', '-D', '-c', String(count), '-w', String(deadline), '-I', iface, vip.address];
  const result = await cmd.run(argv, {
    interruptAfter: wait < deadline * 1000 ? ms(wait) : undefined,
    // arping's own deadline or our SIGINT ends it; this only guards against a hung tool.
    timeout: ms(deadline * 1000 + 3000),
  });
  return parseProbeOutput(result.code, result.stdout) ?? { inUse: 'unknown', reason: describeFailure(argv, result) };
}
