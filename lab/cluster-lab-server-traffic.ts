/**
 * Counts, at the quorum server's namespace, the packets each site sends to the quorum
 * server's port: nftables named counters, one per site, matched by source address. A lease
 * request or a release is a TCP connection (gRPC channels connect lazily, at the first call),
 * so a counter that stays at zero means that site never asked the server anything — a fact
 * read from the kernel, independent of what the server or the agent chooses to log.
 *
 * One table of our own (`quorate_lab_qs`), in a namespace the lab made: it goes with it.
 */
import type { Namespace } from './netns.js';

const TABLE = 'quorate_lab_qs';

export interface CountedSource {
  /** The counter's name (letters, digits, underscores). */
  name: string;
  address: string;
}

/** Installs one counter per source for TCP to `port` arriving in `ns`. */
export async function countServerTraffic(ns: Namespace, port: number, sources: readonly CountedSource[]): Promise<void> {
  const listed = await ns.exec('nft', ['list', 'tables'], { allowFailure: true });
  if (listed.stdout.includes(`inet ${TABLE}`)) await ns.exec('nft', ['delete', 'table', 'inet', TABLE]);
  await ns.exec('nft', ['add', 'table', 'inet', TABLE]);
  await ns.exec('nft', [`add chain inet ${TABLE} incoming { type filter hook input priority 0 ; policy accept ; }`]);
  for (const source of sources) {
    await ns.exec('nft', ['add', 'counter', 'inet', TABLE, source.name]);
    await ns.exec('nft', ['add', 'rule', 'inet', TABLE, 'incoming', 'ip', 'saddr', source.address, 'tcp', 'dport', String(port), 'counter', 'name', source.name]);
  }
}

/** Packets counted so far for the counter `name`. */
export async function countedPackets(ns: Namespace, name: string): Promise<number> {
  const { stdout } = await ns.exec('nft', ['-j', 'list', 'counter', 'inet', TABLE, name]);
  const parsed = JSON.parse(stdout) as { nftables?: { counter?: { name?: string; packets?: number } }[] };
  const counter = parsed.nftables?.find((e) => e.counter?.name === name)?.counter;
  if (typeof counter?.packets !== 'number') throw new Error(`nft printed no counter ${name}: ${stdout}`);
  return counter.packets;
}
