/**
 * A node's withdrawal bound: once it must stop serving (it lost quorum, or it stalled), the
 * longest until nothing it served can still draw traffic. Peers that lose sight of it wait
 * this long (handover.ts, rule 3); it is sent in every heartbeat, so a peer configured
 * differently is waited for by its own bound.
 *
 * - A holder that is alive withdraws at once: within the lease margin (cluster/lease.ts).
 * - A stalled agent's speaker is killed by its guard within the stall timeout (src/speaker),
 *   plus a moment for the kill and the session's end.
 * - An address it holds (src/arp) outlives a dead or stalled agent by its kernel lifetime at
 *   most (renewed at the latest just before it stopped), plus the kernel's lateness in
 *   removing an expired address (measured up to 0.36 s; src/arp/host-address.ts allows 0.5 s).
 */
import type { AgentConfig } from '../config/types.js';
import { ms, type Millis } from '../core/duration.js';
import { KERNEL_EXPIRY_LATENESS } from '../arp/host-address.js';
import { WITHDRAW_MARGIN } from './lease.js';

/** From the guard's kill of a stalled speaker to its sessions' end. */
const SPEAKER_KILL_ALLOWANCE = ms(100);

export function ownWithdrawBound(config: Pick<AgentConfig, 'bgp' | 'arp' | 'services'>): Millis {
  const stall = config.bgp?.gobgp.run?.stallTimeout;
  const holdsAddresses = config.services.some((s) => s.via.includes('arp'));
  return ms(Math.max(
    WITHDRAW_MARGIN,
    stall !== undefined ? stall + SPEAKER_KILL_ALLOWANCE : 0,
    holdsAddresses ? config.arp.lifetime + KERNEL_EXPIRY_LATENESS : 0,
  ));
}
