/**
 * `quorate plan`: what this node announces (or holds) in each state a service can be in, with
 * every attribute — what a network team reviews before the agent runs. Pure: the paths come
 * from the same decide() → desiredBgpPaths() the agent uses, so the plan cannot drift from
 * what the agent would do.
 */
import type { AgentConfig, ServiceConfig } from '../config/types.js';
import { formatDuration, ms } from '../core/duration.js';
import type { Method } from '../config/types.js';
import { desiredBgpPaths } from '../announce/desired-bgp.js';
import { decide } from '../decide.js';
import { runQuorumChain } from '../cluster/quorum-chain.js';

/** The states shown for every service; a service with a fallback method also gets `healthy, quorate, by <method>`. */
export const PLAN_STATES = ['healthy, quorate', 'unhealthy', 'no quorum', 'drained'] as const;
/** With bgp.graceful-shutdown, an anycast service also gets the time between its drain and its withdrawal. */
export const GRACEFUL_SHUTDOWN_STATE = 'drained, shutting down gracefully';
export type PlanState = (typeof PLAN_STATES)[number] | `healthy, quorate, by ${Method}` | typeof GRACEFUL_SHUTDOWN_STATE;

export interface PlannedRoute {
  prefix: string;
  method: Method;
  /** BGP only. */
  nextHop?: string;
  origin?: string;
  med?: number;
  localPref?: number;
  communities?: string[];
  largeCommunities?: string[];
  /** BGP only: the AS path this node originates (prepends of its own AS); `local AS` when the AS is not known here. */
  asPath?: string;
  /** ARP only: the interface the address is added to. */
  interface?: string;
}

export interface PlanRow {
  service: string;
  mode: ServiceConfig['mode'];
  state: PlanState;
  /** Why nothing is announced (from decide()), or, for exclusive services, the condition. */
  note: string;
  routes: PlannedRoute[];
}

/**
 * Every service in every state. Exclusive services are shown as placed on this node (they are
 * served here only while placed here); a method is assumed usable (a session up, the interface
 * ready): the plan shows the first method in `via`. `localAs`: the speaker's AS, for prepends.
 */
export function planFor(config: AgentConfig, localAs?: number): PlanRow[] {
  const rows: PlanRow[] = [];
  const withServer = config.cluster.quorum.some((q) => q.kind === 'server');
  for (const service of config.services) {
    // The first usable method in `via` serves; each later one is shown as the fallback it is.
    const states: { state: PlanState; methods: Method[] }[] = [
      ...PLAN_STATES.map((state) => ({ state, methods: service.via.slice(0, 1) })),
      ...service.via.slice(1).map((m) => ({ state: `healthy, quorate, by ${m}` as PlanState, methods: [m] })),
    ];
    if (service.mode === 'anycast' && (config.bgp?.gracefulShutdown ?? 0) > 0) {
      states.splice(states.findIndex((s) => s.state === 'drained'), 0, { state: GRACEFUL_SHUTDOWN_STATE, methods: service.via.slice(0, 1) });
    }
    for (const { state, methods } of states) {
      const quorate = state !== 'no quorum';
      const quorum = runQuorumChain([{
        name: 'quorum',
        verdict: quorate ? { vote: 'HAVEQUORUM', reason: withServer ? 'a majority of the votes visible, or a lease from the quorum server' : 'a majority of the votes visible' }
          : { vote: 'NOQUORUM', reason: withServer ? 'fewer than half of the votes visible, or half of them and no lease from the quorum server' : 'no majority of the votes visible' },
      }]);
      const [decision] = decide({
        now: ms(0),
        self: config.node.id,
        services: [service],
        health: new Map([[service.name, state !== 'unhealthy']]),
        drained: new Set(state === 'drained' || state === GRACEFUL_SHUTDOWN_STATE ? [service.name] : []),
        ...(state === GRACEFUL_SHUTDOWN_STATE ? { draining: new Map([[service.name, ms(1)]]) } : {}),
        quorum,
        peers: [],
        methods: new Map([[service.name, new Set<Method>(methods)]]),
      });
      const routes: PlannedRoute[] = [];
      if (decision?.serve && decision.method === 'bgp' && config.bgp) {
        for (const { path } of desiredBgpPaths([decision], [service], config.bgp, localAs ?? 0).values()) {
          routes.push({
            prefix: path.prefix.key, method: 'bgp', nextHop: path.nextHop, origin: path.origin,
            ...(path.med !== undefined ? { med: path.med } : {}),
            ...(path.localPref !== undefined ? { localPref: path.localPref } : {}),
            communities: path.communities.map((c) => `${c >>> 16}:${c & 0xffff}`),
            largeCommunities: path.largeCommunities.map((c) => `${c.global}:${c.local1}:${c.local2}`),
            asPath: service.bgp.asPathPrepend === 0 ? '(empty: the speaker adds its AS)' : Array(service.bgp.asPathPrepend).fill(localAs ?? 'local AS').join(' '),
          });
        }
      } else if (decision?.serve && decision.method === 'arp' && service.arp) {
        for (const prefix of service.prefixes) routes.push({ prefix: prefix.key, method: 'arp', interface: service.arp.interface });
      }
      const fallback = methods[0] !== service.via[0] ? `only while ${service.via.slice(0, service.via.indexOf(methods[0]!)).join(', ')} is not usable; ` : '';
      const note = decision?.gracefulShutdown
        ? `for bgp.graceful-shutdown (${formatDuration(config.bgp!.gracefulShutdown)}) after a drain, then withdrawn`
        : decision?.serve
        ? `${fallback}${service.mode === 'exclusive' ? `while placed on this node (priority ${service.priority}${service.preempt ? ', preempt' : ''})` : 'announced'}`
        : decision?.reason ?? '';
      rows.push({ service: service.name, mode: service.mode, state, note, routes });
    }
  }
  return rows;
}

/** The plan as a text table: one line per route (or one line saying why there is none). */
export function formatPlanTable(rows: readonly PlanRow[]): string {
  const lines: string[][] = [['service', 'state', 'prefix', 'via', 'next hop / interface', 'attributes']];
  for (const row of rows) {
    if (row.routes.length === 0) {
      lines.push([row.service, row.state, '—', '', '', `nothing: ${row.note}`]);
      continue;
    }
    for (const r of row.routes) {
      const attributes = r.method === 'bgp'
        ? [`origin ${r.origin}`, r.med !== undefined ? `med ${r.med}` : '', r.localPref !== undefined ? `local-pref ${r.localPref}` : '',
          r.communities?.length ? `communities ${r.communities.join(' ')}` : '', r.largeCommunities?.length ? `large ${r.largeCommunities.join(' ')}` : '',
          `as-path ${r.asPath}`].filter(Boolean).join(', ')
        : `host address, gratuitous ARP / NA`;
      lines.push([row.service, row.state, r.prefix, r.method, r.method === 'bgp' ? r.nextHop ?? '' : r.interface ?? '', `${attributes}; ${row.note}`]);
    }
  }
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((cell, i) => (i === l.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}
