/**
 * Is anyone on the segment answering for this address? `arping -D` (duplicate address
 * detection, RFC 5227 style: sender address 0.0.0.0, so asking does not itself retrain any
 * cache). Used when a holder has vanished: if its heartbeats are dead *and* several probes
 * in a row get no answer, the whole host is gone and the address may be taken at once
 * instead of waiting for its copy's kernel lifetime to end.
 *
 * arping's exit code in this mode (iputils 20221126, checked here): 0 = no reply (free),
 * 1 = a reply came (in use; the line `Unicast reply from IP [MAC]` names the holder),
 * 2 = error (no such interface, …). It stops at the first reply.
 *
 * IPv6 has no equivalent tool here: ipv6toolkit's `ns6` sends solicitations but cannot
 * report an answer as an exit code, and kernel DAD only runs on adding an address (we add
 * with `nodad`, and a failed DAD would leave a `dadfailed` address behind, not a clean
 * answer). So IPv6 reports 'unknown' and the caller waits out the full lifetime — slower,
 * never unsafe.
 */
import type { Millis } from '../core/duration.js';
import { ms } from '../core/duration.js';
import type { Prefix } from '../core/prefix.js';
import type { HostCommands } from './host-commands.js';
import { describeFailure } from './host-commands.js';

export interface ProbeOptions {
  /** Probes to send, one per second (arping's `-i` takes whole seconds). */
  count: number;
  /** Give up after this long (rounded up to whole seconds for arping's `-w`). */
  timeout: Millis;
}

export type ProbeResult =
  | { inUse: true; mac?: string }
  | { inUse: false }
  | { inUse: 'unknown'; reason: string };

export async function probeAddressInUse(cmd: HostCommands, iface: string, vip: Prefix, opts: ProbeOptions): Promise<ProbeResult> {
  if (vip.family === 6) return { inUse: 'unknown', reason: 'no duplicate-address probe for IPv6 (wait out the lifetime)' };
  const count = Math.max(1, Math.floor(opts.count));
  const deadline = Math.max(1, Math.ceil(opts.timeout / 1000));
  const argv = ['arping', '-D', '-c', String(count), '-w', String(deadline), '-I', iface, vip.address];
  // arping's own deadline ends it; ours only guards against a hung tool.
  const result = await cmd.run(argv, { timeout: ms(deadline * 1000 + 3000) });
  if (result.code === 0) return { inUse: false };
  if (result.code === 1) {
    const mac = /reply from \S+ \[([0-9a-f:]{17})\]/i.exec(result.stdout)?.[1]?.toLowerCase();
    return mac ? { inUse: true, mac } : { inUse: true };
  }
  return { inUse: 'unknown', reason: describeFailure(argv, result) };
}
