/**
 * The router's half of a node's BGP session, as the network team configures it (FRR): accept
 * exactly this node's service prefixes from its speaker — each an exact match, so nothing more
 * specific and nothing else passes — with a maximum-prefix limit, keepalive 1 s / hold 3 s, no
 * graceful restart (a dead speaker's routes must go with its session), and nothing sent back.
 *
 * GRACEFUL_SHUTDOWN (RFC 8326) needs no line of its own in FRR: bgpd itself sets LOCAL_PREF 0
 * on a route an eBGP neighbor sends with 65535:0, whether or not the router itself has
 * `bgp graceful-shutdown` configured (8.4 as Debian ships it; test/plan-frr.test.ts checks it on
 * the real daemon), and on an iBGP session the speaker sends LOCAL_PREF 0 with the community
 * itself. A route-map setting it again would only be one more thing to review, so the output
 * says it instead.
 */
import type { AgentConfig } from '../config/types.js';
import { GRACEFUL_SHUTDOWN_COMMUNITY, routerSessions, type RouterFilterOptions } from './router-session.js';

export type { RouterFilterOptions } from './router-session.js';

/** FRR (frr.conf / vtysh) text. The neighbor addresses are the node's BGP next hops. */
export function frrFilter(config: AgentConfig, opts: RouterFilterOptions): string {
  const name = `QUORATE-${config.node.id.toUpperCase()}`;
  const out: string[] = [
    `! quorate plan --format frr: the router side of node ${config.node.id}'s BGP session (cluster ${config.cluster.name})`,
    '! exactly these prefixes, nothing more specific; at most this many; short timers, no graceful restart',
    ...gracefulShutdownNote(opts),
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

/** Why the output has no GRACEFUL_SHUTDOWN route-map: who lowers the local-preference on this session. */
function gracefulShutdownNote(opts: RouterFilterOptions): string[] {
  const { asn, value } = GRACEFUL_SHUTDOWN_COMMUNITY;
  return [
    `! a draining node's routes carry GRACEFUL_SHUTDOWN (${asn}:${value}, RFC 8326) until withdrawn; no route-map needed:`,
    opts.routerAs === opts.speakerAs
      ? '! on this iBGP session the speaker sends them with local-preference 0 itself'
      : '! FRR itself sets local-preference 0 on such routes from an eBGP neighbor',
  ];
}
