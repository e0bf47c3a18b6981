/**
 * The show's faults (issue 5 item 4), in the order the show runs them; `lab fault NAME`
 * applies the same ones to a lab held by `lab up`. Each says what it demonstrates, what the
 * correct outcome is — which sites the core's OSPF route for each service leads to, plus
 * whatever else a user would check (a hold timer, a new session) — how to make it, and how to
 * undo it. Site NY is the active site: it holds `db` (priority 200), both sites serve `web`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Millis } from '../src/core/duration.js';
import { ms } from '../src/core/duration.js';
import { routerFaults } from './routed-lab-faults.js';
import { nodeOfKind, server } from './routed-lab-topology.js';
import { LAB_SERVICES, SITES, type BgpSession, type LabServiceName, type RoutedLab, type Site } from './routed-lab.js';

/** Which sites the core's OSPF route for each service leads to (empty: no route, no service). */
export type Outcome = Record<LabServiceName, Site[]>;

/** What the lab looked like just before the fault (for checks that compare). */
export interface Before {
  sessions: Record<Site, BgpSession>;
}

/** A check beyond the core's routes: whether it holds, and what was seen, for the table. */
export interface Seen {
  holds: boolean;
  seen: string;
}

export type FaultName =
  | 'service-death' | 'server-death' | 'link-cut' | 'quorum-death'
  | 'quorum-and-site-death' | 'agent-kill' | 'gobgpd-restart' | 'heal';

/** The correct outcome of a fault, in the lab as it is just before it. */
export interface Expectation {
  outcome: Outcome;
  /** What `check` must see, said for the `expected` column. */
  more?: string;
  /** A check beyond the core's routes (hold timer, new session, …). */
  check?(lab: RoutedLab, before: Before): Promise<Seen>;
}

export interface ShowFault {
  name: FaultName;
  /** The table's `fault` column. */
  title: string;
  /** One sentence for the README and the show's narration. */
  demonstrates: string;
  /** Decided before the fault is applied: some outcomes depend on the lab's history. */
  expect(lab: RoutedLab): Promise<Expectation>;
  /**
   * The outcome must still hold this long after the fault: for faults whose correct outcome
   * is "nothing changes", which would otherwise be seen at once. By the show's mode.
   */
  watchFor?: { full: Millis; short: Millis };
  apply(lab: RoutedLab): Promise<void>;
  heal(lab: RoutedLab): Promise<void>;
}

/** An expectation that does not depend on the lab's history. */
const fixed = (outcome: Outcome, more?: string, check?: Expectation['check']) => async (): Promise<Expectation> =>
  ({ outcome, ...(more ? { more } : {}), ...(check ? { check } : {}) });

const ALL: Site[] = ['ny', 'nj'];

export const SHOW_FAULTS: readonly ShowFault[] = [
  {
    name: 'service-death',
    title: 'db service dies at NY',
    demonstrates: "a failed health check withdraws the prefix; the exclusive db moves to NJ, anycast web is untouched",
    expect: fixed({ web: ALL, db: ['nj'] }),
    apply: (lab) => lab.killService('ny', 'db'),
    heal: (lab) => lab.restartService('ny', 'db'),
  },
  {
    name: 'server-death',
    title: 'NY server dies (traffic dropped)',
    demonstrates: "nothing closes NY's session: ny-rtr's 3 s hold timer ends it and takes NY's routes out of OSPF; NJ, alone, gets the quorum server's lease and takes db",
    expect: fixed({ web: ['nj'], db: ['nj'] }, 'ny-rtr: Hold Timer Expired', async (lab) => {
      const s = await lab.bgpSession('ny');
      return { holds: s.state !== 'Established' && /hold timer expired/i.test(s.lastResetReason ?? ''), seen: `ny-rtr: ${s.state}, ${s.lastResetReason ?? 'no reset'}` };
    }),
    apply: (lab) => lab.killServer('ny'),
    heal: (lab) => lab.reviveServer('ny'),
  },
  {
    name: 'link-cut',
    title: 'inter-site link cut',
    demonstrates: "the sites lose each other's heartbeats, not the quorum server: exactly one side gets the lease and serves everything — the one that held it last alone (in the show NJ, which took it when NY's server died), else the preferred NY; the other stays up, announcing nothing",
    expect: async (lab) => {
      const winner = await splitWinner(lab);
      const loser = SITES.find((s) => s !== winner)!;
      return { outcome: { web: [winner], db: [winner] }, more: `${loser} up, 0 prefixes`, check: (l) => sessionUpAnnouncingNothing(l, loser) };
    },
    apply: (lab) => lab.cutInterSite(),
    heal: (lab) => lab.healInterSite(),
  },
  {
    name: 'quorum-death',
    title: 'quorum server dies',
    demonstrates: 'with both sites up the quorum server is irrelevant (2 of 2 votes): both keep serving, past the lease time',
    expect: fixed({ web: ALL, db: ['ny'] }),
    watchFor: { full: ms(6000), short: ms(3000) },
    apply: (lab) => lab.stopQuorumServer(),
    heal: async (lab) => void (await lab.startQuorumServer()),
  },
  {
    name: 'quorum-and-site-death',
    title: 'quorum server + NY server die',
    demonstrates: 'the survivor has 1 vote of 2 and no quorum server to break the tie: it stops serving; no service is the correct outcome (it cannot tell a dead NY from a cut)',
    expect: fixed({ web: [], db: [] }, 'nj up, 0 prefixes', (lab) => sessionUpAnnouncingNothing(lab, 'nj')),
    apply: async (lab) => {
      // The quorum server first: were NY to die first, NJ would rightly get the lease.
      await lab.stopQuorumServer();
      await lab.killServer('ny');
    },
    heal: async (lab) => {
      await lab.startQuorumServer();
      await lab.reviveServer('ny');
    },
  },
  {
    name: 'agent-kill',
    title: 'NY agent SIGKILL',
    demonstrates: "the agent's guard takes gobgpd down with it: the session closes at once (no hold timer), NY's routes go, NJ takes db once NY's lease ends",
    expect: fixed({ web: ['nj'], db: ['nj'] }, 'ny-rtr: session down', async (lab) => {
      const s = await lab.bgpSession('ny');
      return { holds: s.state !== 'Established', seen: `ny-rtr: ${s.state}, ${s.lastResetReason ?? 'no reset'}` };
    }),
    apply: (lab) => lab.killAgent('ny'),
    heal: async (lab) => void (await lab.startAgent('ny')),
  },
  {
    name: 'gobgpd-restart',
    title: 'NY gobgpd killed',
    demonstrates: 'the agent starts a new gobgpd and announces again; NY keeps db (its agent never lost quorum), the client waits for the new session',
    expect: fixed({ web: ALL, db: ['ny'] }, 'ny-rtr: a new session', async (lab, before) => {
      const s = await lab.bgpSession('ny');
      const fresh = s.state === 'Established' && s.established > before.sessions.ny.established;
      return { holds: fresh, seen: `ny-rtr: ${s.state}, session #${s.established}${fresh ? ' (new)' : ''}` };
    }),
    apply: async (lab) => void (await lab.restartGobgpd('ny')),
    heal: async () => undefined,
  },
  {
    name: 'heal',
    title: 'everything healed',
    demonstrates: 'every fault undone: the lab is back where it started and stays there',
    watchFor: { full: ms(4000), short: ms(2000) },
    apply: (lab) => lab.healAll(),
    expect: fixed({ web: ALL, db: ['ny'] }, 'all up, no fault left', async (lab) => {
      const snap = await lab.snapshot();
      const sessionsUp = SITES.every((s) => snap.sessions[s].state === 'Established');
      const running = snap.running.quorumServer && SITES.every((s) => snap.running.agents[s] && LAB_SERVICES.every((v) => snap.running.services[s][v]));
      let faults = 0;
      for (const node of lab.topology.nodes) if (node.kind === 'router') faults += (await routerFaults(lab.ns(node.name))).length;
      const holds = sessionsUp && running && faults === 0;
      return { holds, seen: holds ? 'all up, no fault left' : `sessions ${SITES.map((s) => `${s} ${snap.sessions[s].state}`).join(', ')}; processes ${running ? 'all up' : 'some down'}; ${faults} router fault(s)` };
    }),
    heal: async () => undefined,
  },
];

export function faultByName(name: string): ShowFault | undefined {
  return SHOW_FAULTS.find((f) => f.name === name);
}

/** `db by nj, web by ny+nj`; `db none, web none`. */
export function describeOutcome(o: Outcome): string {
  return (['db', 'web'] as const).map((svc) => `${svc} ${o[svc].length ? `by ${[...o[svc]].sort(bySite).join('+')}` : 'none'}`).join(', ');
}

export function sameOutcome(a: Outcome, b: Outcome): boolean {
  return LAB_SERVICES.every((svc) => [...a[svc]].sort().join() === [...b[svc]].sort().join());
}

/** NY before NJ, as in the topology. */
function bySite(a: Site, b: Site): number {
  return SITES.indexOf(a) - SITES.indexOf(b);
}

async function sessionUpAnnouncingNothing(lab: RoutedLab, site: Site): Promise<Seen> {
  const s = await lab.bgpSession(site);
  const holds = s.state === 'Established' && s.prefixesReceived === 0;
  return { holds, seen: s.state === 'Established' ? `${site} up, ${s.prefixesReceived} prefixes` : `${site} session ${s.state}` };
}

/**
 * Who wins a split with equal votes (one node each side), by the quorum server's policy
 * (DESIGN.md): the partition that held the lease last, else the cluster's configured
 * preference (config/lab/qs/server.yaml).
 */
export async function splitWinner(lab: RoutedLab): Promise<Site> {
  const siteOf = (id: string): Site | undefined => SITES.find((s) => server(lab.topology, s).nodeId === id);
  const last = await lab.quorumServerLastGrant();
  if (last?.length === 1) {
    const site = siteOf(last[0]!);
    if (site) return site;
  }
  const qs = nodeOfKind(lab.topology, 'quorum-server');
  const config = parse(await readFile(join(lab.topology.dir, qs.config, 'server.yaml'), 'utf8')) as { clusters?: { name?: string; prefer?: string }[] };
  const prefer = config.clusters?.find((c) => c.name === lab.topology.cluster)?.prefer;
  return (prefer && siteOf(prefer)) || 'ny';
}
