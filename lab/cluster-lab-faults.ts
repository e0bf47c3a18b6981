/**
 * Link faults between two sites of the cluster lab, made with nftables inside one site's
 * namespace: drop what that site receives from the other, what it sends to it, or both. The
 * router and the quorum server stay reachable (only the other site's address is matched),
 * which is the case the quorum server exists for: both sides of a cut still ask it.
 *
 * One table of our own (`quorate_lab`), so healing is deleting it: nothing else in the
 * namespace is touched, and a fault never outlives the namespace.
 */
import type { Namespace } from './netns.js';

export type LinkFault =
  /** Both directions dropped: the link between the sites is cut. */
  | 'cut'
  /** Only what this site receives from the other is dropped. */
  | 'drop-incoming'
  /** Only what this site sends to the other is dropped. */
  | 'drop-outgoing';

const TABLE = 'quorate_lab';

export async function applyLinkFault(ns: Namespace, otherAddress: string, fault: LinkFault): Promise<void> {
  await healLinkFaults(ns);
  await ns.exec('nft', ['add', 'table', 'inet', TABLE]);
  if (fault === 'cut' || fault === 'drop-incoming') {
    await ns.exec('nft', ['add chain inet quorate_lab incoming { type filter hook input priority 0 ; policy accept ; }']);
    await ns.exec('nft', ['add', 'rule', 'inet', TABLE, 'incoming', 'ip', 'saddr', otherAddress, 'drop']);
  }
  if (fault === 'cut' || fault === 'drop-outgoing') {
    await ns.exec('nft', ['add chain inet quorate_lab outgoing { type filter hook output priority 0 ; policy accept ; }']);
    await ns.exec('nft', ['add', 'rule', 'inet', TABLE, 'outgoing', 'ip', 'daddr', otherAddress, 'drop']);
  }
}

/** Removes every fault this module made in `ns` (none made: nothing happens). */
export async function healLinkFaults(ns: Namespace): Promise<void> {
  const listed = await ns.exec('nft', ['list', 'tables'], { allowFailure: true });
  if (listed.stdout.includes(`inet ${TABLE}`)) await ns.exec('nft', ['delete', 'table', 'inet', TABLE]);
}
