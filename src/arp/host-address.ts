/**
 * The service address on an interface, with a kernel lifetime: the dead-man switch of S4.
 * The address is renewed (`ip addr replace` with a fresh lifetime) only while the agent wants
 * it; when renewals stop — the agent died, stalled, or lost quorum — the kernel removes it.
 *
 * Facts measured on these kernels (Debian 12, iproute2):
 * - `ip addr replace VIP/32 dev IF valid_lft N preferred_lft N` on an existing address
 *   restarts its lifetime at N, for IPv4 and IPv6 alike — longer or *shorter* than what is
 *   left (read back with `ip -j addr`: 3 s → 5 s after 2 s; 5 s → 1 s). So a renewal can
 *   also pull the end in when the quorum validity shrinks.
 * - `valid_lft 0` is refused ("valid_lft is zero"): the kernel counts whole seconds, ≥ 1.
 * - The kernel removes an expired address late: its lifetime worker runs on a timer rounded
 *   to whole jiffy seconds. Measured (renewal at a random moment, then none; removal seen by
 *   polling `ip addr` every few ms): IPv4 0.015–0.36 s late, IPv6 0.014–0.32 s late (24 trials).
 *   It also removes up to ~20 ms *early* (its age is rounded with a small fuzz), which is safe.
 *   See KERNEL_EXPIRY_LATENESS.
 * - `ip addr del` of an absent address exits 2 ("Address not found"): success for us.
 */
import { ms, type Millis } from '../core/duration.js';
import type { Prefix } from '../core/prefix.js';
import type { HostCommands } from './host-commands.js';
import { describeFailure } from './host-commands.js';
import { isHostPrefix } from './interface-state.js';

/**
 * How late the kernel may remove an address after its lifetime ended. Every bound that waits
 * for a vanished holder's copy to expire adds this. Measured worst case 0.36 s (see above);
 * DESIGN.md said ~0.3 s — 0.5 s leaves room for a loaded host.
 */
export const KERNEL_EXPIRY_LATENESS: Millis = ms(500);

/** A lifetime the kernel can hold: whole seconds, ≥ 1. Only `kernelLifetime` makes one. */
export interface KernelLifetime {
  readonly seconds: number;
  readonly __kind: 'KernelLifetime';
}

export type LifetimeDecision =
  | { hold: true; lifetime: KernelLifetime }
  /** Less than one whole second is allowed: the address must be removed, not held. */
  | { hold: false; reason: string };

/**
 * The lifetime to give the kernel: the configured one, never past what the caller allows
 * (the node's quorum validity), rounded DOWN to whole seconds — rounding up could let the
 * address outlive the quorum. Below one second there is nothing the kernel can hold.
 */
export function kernelLifetime(configured: Millis, allowed: Millis): LifetimeDecision {
  const limit = Math.min(configured, allowed);
  const seconds = Number.isFinite(limit) ? Math.floor(limit / 1000) : 0;
  if (seconds < 1) return { hold: false, reason: `only ${Math.max(0, Math.floor(limit))} ms allowed; the kernel counts whole seconds` };
  return { hold: true, lifetime: { seconds, __kind: 'KernelLifetime' } };
}

export type AddressResult = { ok: true } | { ok: false; reason: string };

/** The host prefix as `ip` wants it: `198.51.100.10/32`, `2001:db8:5::10/128`. */
function hostCidr(vip: Prefix): string {
  if (!isHostPrefix(vip)) throw new Error(`${vip.key} is not a host address (/32 or /128)`);
  return vip.key;
}

/**
 * Adds the address, or renews it: `replace` restarts the lifetime either way. IPv6 gets
 * `nodad`: duplicate address detection would keep it unusable for a second or more, and the
 * takeover rules (not DAD) decide who may hold it — except where the interface does no DAD
 * (`accept_dad = 0`) and the kernel is to announce the address (`kernelAnnounces`, see
 * kernel-announce.ts): `nodad` would skip that announcement.
 */
export async function holdAddress(cmd: HostCommands, iface: string, vip: Prefix, lifetime: KernelLifetime, opts: { kernelAnnounces?: boolean } = {}): Promise<AddressResult> {
  const n = String(lifetime.seconds);
  const nodad = vip.family === 6 && !opts.kernelAnnounces;
  const argv = ['ip', 'addr', 'replace', hostCidr(vip), 'dev', iface, 'valid_lft', n, 'preferred_lft', n, ...(nodad ? ['nodad'] : [])];
  const result = await cmd.run(argv);
  return result.code === 0 ? { ok: true } : { ok: false, reason: describeFailure(argv, result) };
}

const ABSENT = /address not found|cannot assign requested address|cannot find device|does not exist/i;

/** Removes the address at once. Idempotent: an absent address (or interface) is success. */
export async function removeAddress(cmd: HostCommands, iface: string, vip: Prefix): Promise<AddressResult> {
  const argv = ['ip', 'addr', 'del', hostCidr(vip), 'dev', iface];
  const result = await cmd.run(argv);
  if (result.code === 0 || ABSENT.test(result.stderr)) return { ok: true };
  return { ok: false, reason: describeFailure(argv, result) };
}
