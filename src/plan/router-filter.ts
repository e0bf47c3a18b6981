/**
 * The router's half of a node's BGP session, as the network team configures it (FRR): accept
 * exactly this node's service prefixes from its speaker — each an exact match, so nothing more
 * specific and nothing else passes — with a maximum-prefix limit, keepalive 1 s / hold 3 s, no
 * graceful restart (a dead speaker's routes must go with its session), and nothing sent back.
 */
import type { AgentConfig } from '../config/types.js';
import { routerSessions, type RouterFilterOptions } from './router-session.js';

export type { RouterFilterOptions } from './router-session.js';

/** FRR (frr.conf / vtysh) text. The neighbor addresses are the node's BGP next hops. */
export function frrFilter(config: AgentConfig, opts: RouterFilterOptions): string {
  const name = `QUORATE-${config.node.id.toUpperCase()}`;
  const out: string[] = [
    `! quorate plan --format frr: the router side of node ${config.node.id}'s BGP session (cluster ${config.cluster.name})`,
    '! exactly these prefixes, nothing more specific; at most this many; short timers, no graceful restart',
  ];
  const sessions = routerSessions(config);
  for (const s of sessions.filter((s) => !s.neighbor)) out.push(`! IPv${s.family}: bgp.next-hop.ipv${s.family} is not set, so there is no session to filter`);
  const families = sessions.flatMap(({ family, prefixes, neighbor }) => (neighbor ? [{ family, prefixes, neighbor, list: `${name}-V${family}` }] : []));
  for (const f of families) {
    const keyword = f.family === 4 ? 'ip' : 'ipv6';
    f.prefixes.forEach((p, i) => out.push(`${keyword} prefix-list ${f.list} seq ${(i + 1) * 10} permit ${p.key}`));
  }
  out.push(`ip prefix-list ${name}-NOTHING seq 10 deny any`);
  // FRR activates IPv4 unicast on every neighbor by default, the IPv6 one too, where no
  // prefix-list would guard it: each neighbor gets only its own family, activated below.
  out.push(`router bgp ${opts.routerAs}`, ' no bgp default ipv4-unicast', ' bgp graceful-restart-disable');
  for (const f of families) {
    out.push(` neighbor ${f.neighbor} remote-as ${opts.speakerAs}`, ` neighbor ${f.neighbor} description quorate node ${config.node.id}`, ` neighbor ${f.neighbor} timers 1 3`);
  }
  for (const f of families) {
    out.push(` address-family ipv${f.family} unicast`, `  neighbor ${f.neighbor} activate`, `  neighbor ${f.neighbor} prefix-list ${f.list} in`);
    if (f.family === 4) out.push(`  neighbor ${f.neighbor} prefix-list ${name}-NOTHING out`);
    else out.push(`  neighbor ${f.neighbor} route-map ${name}-DENY out`);
    out.push(`  neighbor ${f.neighbor} maximum-prefix ${f.prefixes.length}`, ' exit-address-family');
  }
  if (families.some((f) => f.family === 6)) out.push(`route-map ${name}-DENY deny 10`);
  return `${out.join('\n')}\n`;
}
