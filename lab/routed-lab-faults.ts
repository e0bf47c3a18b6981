/**
 * The routed lab's network faults, made with nftables inside router namespaces. Each kind of
 * fault has its own table, so healing one is deleting its table: nothing else in the
 * namespace is touched, and no fault outlives the namespace.
 *
 * - server death (`quorate_lab_server`): the site router drops everything from and to the
 *   server's address — input, forward and output — so the BGP session is not closed but
 *   starves, and the hold timer (3 s) decides, as when a host loses power. Taking the
 *   router's interface down instead would close the session at once (FRR resets directly
 *   connected eBGP sessions when their interface goes down), which is a different fault.
 * - the inter-site cut (`quorate_lab_cut`): the site router drops forwarded traffic between
 *   the two site LANs (the cut's link itself is taken down separately, with `ip link`).
 */
import type { Namespace } from './netns.js';

export type RouterFault = 'server' | 'cut';

const TABLE: Record<RouterFault, string> = { server: 'quorate_lab_server', cut: 'quorate_lab_cut' };

/**
 * Drops all traffic from and to `address` at this router (its own and forwarded), and, with
 * `device`, everything in and out of that interface: traffic for the service addresses on
 * the server's loopback is routed to it by next hop, not addressed to `address`, and must
 * die too.
 */
export async function dropHost(ns: Namespace, address: string, device?: string): Promise<void> {
  const table = TABLE.server;
  await healRouterFault(ns, 'server');
  await ns.exec('nft', ['add', 'table', 'inet', table]);
  for (const hook of ['input', 'forward', 'output'] as const) {
    await ns.exec('nft', [`add chain inet ${table} ${hook} { type filter hook ${hook} priority 0 ; policy accept ; }`]);
    await ns.exec('nft', ['add', 'rule', 'inet', table, hook, 'ip', 'saddr', address, 'drop']);
    await ns.exec('nft', ['add', 'rule', 'inet', table, hook, 'ip', 'daddr', address, 'drop']);
    if (device && hook !== 'output') await ns.exec('nft', ['add', 'rule', 'inet', table, hook, 'iifname', device, 'drop']);
    if (device && hook !== 'input') await ns.exec('nft', ['add', 'rule', 'inet', table, hook, 'oifname', device, 'drop']);
  }
}

/** Drops forwarded traffic between two subnets (both directions) at this router. */
export async function dropBetween(ns: Namespace, a: string, b: string): Promise<void> {
  const table = TABLE.cut;
  await healRouterFault(ns, 'cut');
  await ns.exec('nft', ['add', 'table', 'inet', table]);
  await ns.exec('nft', [`add chain inet ${table} forward { type filter hook forward priority 0 ; policy accept ; }`]);
  await ns.exec('nft', ['add', 'rule', 'inet', table, 'forward', 'ip', 'saddr', a, 'ip', 'daddr', b, 'drop']);
  await ns.exec('nft', ['add', 'rule', 'inet', table, 'forward', 'ip', 'saddr', b, 'ip', 'daddr', a, 'drop']);
}

/** Removes one kind of fault (or every kind) from this router; none made: nothing happens. */
export async function healRouterFault(ns: Namespace, fault?: RouterFault): Promise<void> {
  for (const kind of await routerFaults(ns)) {
    if (fault === undefined || kind === fault) await ns.exec('nft', ['delete', 'table', 'inet', TABLE[kind]]);
  }
}

/** Which faults this router holds now. */
export async function routerFaults(ns: Namespace): Promise<RouterFault[]> {
  const listed = await ns.exec('nft', ['list', 'tables'], { allowFailure: true });
  const tables = new Set(listed.stdout.split('\n').map((l) => l.trim()));
  return (Object.keys(TABLE) as RouterFault[]).filter((k) => tables.has(`table inet ${TABLE[k]}`));
}
