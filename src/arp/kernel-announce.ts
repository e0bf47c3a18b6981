/**
 * IPv6 announcements without root. na6 (ipv6toolkit), which sends the unsolicited neighbour
 * advertisement on a takeover, refuses to run unless its effective uid is 0, whatever the
 * capabilities; an agent under the systemd unit (user quorate, three capabilities) cannot use
 * it. The kernel can send that advertisement itself: with `net.ipv6.conf.IF.ndisc_notify = 1`,
 * an address whose duplicate address detection completes at once (`accept_dad = 0`, for the
 * interface and for `all` — the default there — and the
 * address added *without* `nodad`, which would skip the notification) is announced to ff02::1
 * with the override flag the moment it is added — measured here (Linux, veth). One
 * advertisement, on the add only: renewals (`ip addr replace` of a present address) send none.
 */
import type { HostCommands } from './host-commands.js';

/**
 * The kernel announces an IPv6 address added on `iface` (both sysctls set for it, or for all).
 * Read on each takeover, before the address is added: one `cat` of the four files, not four.
 */
export async function kernelAnnouncesIpv6(cmd: HostCommands, iface: string): Promise<boolean> {
  const files = [['ndisc_notify', iface], ['ndisc_notify', 'all'], ['accept_dad', iface], ['accept_dad', 'all']]
    .map(([name, scope]) => `/proc/sys/net/ipv6/conf/${scope}/${name}`);
  const result = await cmd.run(['cat', ...files]);
  const values = result.stdout.trim().split('\n').map(Number);
  // A missing interface (or a value that is not a number) means: the kernel will not announce.
  if (result.code !== 0 || values.length !== 4 || !values.every(Number.isInteger)) return false;
  const [notify, notifyAll, acceptDad, acceptDadAll] = values as [number, number, number, number];
  // DAD is skipped only when both the interface's and `all`'s accept_dad are off (measured:
  // all = 1 keeps a new address tentative, unusable, for a second).
  return (notify > 0 || notifyAll > 0) && acceptDad === 0 && acceptDadAll === 0;
}

/** na6 runs only as root (see above). */
export const na6Usable = (): boolean => process.geteuid?.() === 0;

/** What an operator sets so that a non-root agent's IPv6 takeovers are announced. */
export const kernelAnnounceHint = (iface: string): string =>
  `set net.ipv6.conf.${iface}.ndisc_notify = 1 and net.ipv6.conf.${iface}.accept_dad = 0 (and keep net.ipv6.conf.all.accept_dad = 0) in sysctl.d, so that the kernel announces a taken IPv6 address; na6 needs root`;
