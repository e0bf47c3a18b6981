/**
 * The router's half of a node's BGP session, as the network team configures it in BIRD 2:
 * per address family a filter that accepts exactly this node's service prefixes and a
 * `protocol bgp` that uses it, with an import limit, keepalive 1 s / hold 3 s, no graceful
 * restart (a dead speaker's routes must go with its session), and nothing sent back. The text
 * is a fragment to `include` in the router's bird.conf, which keeps its own router id, kernel
 * and device protocols.
 *
 * Facts about BIRD 2.0 that shape it:
 * - In a prefix set, `203.0.113.0/24` matches that prefix only; `203.0.113.0/24+` or
 *   `203.0.113.0/24{24,32}` would admit every longer one. So the set lists bare prefixes.
 * - `import limit N` counts routes the import filter accepted; `receive limit N` counts
 *   received ones, but differs only under `import keep filtered`, which this does not set.
 *   The import limit is the one that still means something once the filter has run: a speaker
 *   that sends junk beside its own prefixes is refused route by route, not disconnected.
 * - Filters and protocols share one namespace of symbols, hence the `_in` suffix on filters.
 * - BIRD does nothing of its own for GRACEFUL_SHUTDOWN (RFC 8326), and on eBGP it drops the
 *   LOCAL_PREF a neighbor sends: the filter itself sets `bgp_local_pref = 0` on a route that
 *   carries 65535:0, so a draining node's paths lose to every other node's before they go.
 * - One `protocol bgp` has one neighbor, so each family is a session of its own, with only
 *   that family's channel: the other family is not even negotiated on it.
 */
import type { AgentConfig } from '../config/types.js';
import { GRACEFUL_SHUTDOWN_COMMUNITY, routerSessions, type RouterFilterOptions, type RouterSession } from './router-session.js';

/** BIRD 2 config text (a fragment for bird.conf). The neighbors are the node's BGP next hops. */
export function birdFilter(config: AgentConfig, opts: RouterFilterOptions): string {
  const base = birdSymbol(config.node.id);
  const out: string[] = [
    `# quorate plan --format bird: the router side of node ${config.node.id}'s BGP session (cluster ${config.cluster.name})`,
    '# exactly these prefixes, nothing more specific; at most this many; short timers, no graceful',
    '# restart; nothing sent back; local-pref 0 while a route carries GRACEFUL_SHUTDOWN (RFC 8326).',
    '# For BIRD 2: include it in bird.conf (which sets the router id).',
    '# The neighbor is the node\'s bgp.next-hop; a speaker that peers from another address, or is',
    '# more than one hop away (add `multihop;`), needs that line edited.',
  ];
  for (const session of routerSessions(config)) {
    out.push('', ...birdSession(session, `${base}_v${session.family}`, config, opts));
  }
  return `${out.join('\n')}\n`;
}

function birdSession(session: RouterSession, name: string, config: AgentConfig, opts: RouterFilterOptions): string[] {
  const channel = `ipv${session.family}`;
  const { asn, value } = GRACEFUL_SHUTDOWN_COMMUNITY;
  if (!session.neighbor) {
    return [`# IPv${session.family}: bgp.next-hop.${channel} is not set, so there is no session to configure`];
  }
  return [
    `filter ${name}_in {`,
    // A drained node's route until its withdrawal: kept, but only as the last resort. Set ahead
    // of the prefix check, which alone decides what passes (a rejected route is dropped whole).
    `  if (${asn}, ${value}) ~ bgp_community then bgp_local_pref = 0;`,
    // One prefix per line keeps a long list reviewable in a diff.
    '  if net ~ [',
    ...session.prefixes.map((p, i) => `    ${p.key}${i < session.prefixes.length - 1 ? ',' : ''}`),
    '  ] then accept;',
    '  reject;',
    '}',
    '',
    `protocol bgp ${name} {`,
    `  description "quorate node ${config.node.id}, IPv${session.family}";`,
    `  local as ${opts.routerAs};`,
    `  neighbor ${session.neighbor} as ${opts.speakerAs};`,
    '  hold time 3;',
    '  startup hold time 3;',
    '  keepalive time 1;',
    '  graceful restart off;',
    '  long lived graceful restart off;',
    // After a session error BIRD refuses the peer for 60 s, doubling to 300 s, by default: a
    // node back from a restart would stay unheard for minutes.
    '  error wait time 5, 60;',
    `  ${channel} {`,
    `    import filter ${name}_in;`,
    `    import limit ${session.prefixes.length} action restart;`,
    '    export none;',
    '  };',
    '}',
  ];
}

/**
 * A BIRD symbol for a node id: ids may hold `.` and `-`, which BIRD symbols cannot. Ids that
 * differ only in those characters map to the same symbol; a router peering with both would
 * need one renamed (BIRD rejects the duplicate, it does not merge them).
 */
function birdSymbol(id: string): string {
  return `quorate_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
}
