/**
 * The routed lab's namespace twin on the real daemons (issue 5): FRR routers (zebra, ospfd,
 * bgpd), the agents with their gobgpd, the quorum server, the demo services and a client.
 * What a user checks: the core learns the service prefixes through OSPF only, from the right
 * site router; the client gets an answer from the service address; a dead service moves the
 * exclusive service's route at the core; a dead server's route goes when the router's hold
 * timer ends; teardown leaves nothing behind.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { isAlive, listNamespaces } from '../lab/netns.js';
import { labRequirements } from '../lab/requirements.js';
import { RoutedLab } from '../lab/routed-lab.js';
import { waitUntil } from '../lab/wait.js';

const base = labRequirements({ programs: { vtysh: 'frr', curl: 'curl', nft: 'nftables' } });
const requirements = base.ok && !existsSync('/usr/lib/frr/zebra')
  ? { ok: false as const, reason: 'missing /usr/lib/frr/zebra, ospfd, bgpd (Debian package frr)' }
  : base;
if (!requirements.ok) console.warn(`skipping the routed lab tests: ${requirements.reason}`);

describe.skipIf(!requirements.ok)('routed lab (namespaces, FRR, agents, quorum server)', () => {
  let lab: RoutedLab;

  beforeAll(async () => {
    lab = await RoutedLab.up({ tag: 'rlt' });
  });
  afterAll(async () => {
    await lab?.teardown();
  });

  it('comes up: each site router has an established session with its server and accepts the service prefixes', async () => {
    const sessions = await lab.bgpSessions();
    expect(sessions.ny).toMatchObject({ neighbor: '192.0.2.10', state: 'Established', prefixesReceived: 2, holdTime: 3000 });
    // NJ announces web only: db is exclusive and NY (priority 200) holds it.
    expect(sessions.nj).toMatchObject({ neighbor: '192.0.2.42', state: 'Established', prefixesReceived: 1, holdTime: 3000 });
  });

  it('the core (no BGP) learns both prefixes through OSPF, from the right site routers', async () => {
    expect([...lab.frrOf('core').processes.keys()].sort()).toEqual(['ospfd', 'zebra']);
    const web = await lab.coreRoute('web');
    expect(web?.protocol).toBe('ospf');
    expect(web?.nextHops.map((h) => h.router).sort()).toEqual(['nj-rtr', 'ny-rtr']);
    const db = await lab.coreRoute('db');
    expect(db).toMatchObject({ prefix: '203.0.113.20/32', protocol: 'ospf', nextHops: [{ address: '198.51.100.1', router: 'ny-rtr', site: 'ny' }] });
  });

  it('the client gets an answer from each service address', async () => {
    const web = await lab.clientGet('web');
    expect(web.ok).toBe(true);
    expect(web.ok && web.site).toMatch(/^(ny|nj)$/);
    expect(await lab.clientGet('db')).toEqual({ ok: true, body: 'ny db', site: 'ny' });
  });

  it('a snapshot shows the whole lab at once', async () => {
    const snap = await lab.snapshot();
    expect(snap.core).toEqual({ web: ['nj', 'ny'], db: ['ny'] });
    expect(snap.sessions.ny.state).toBe('Established');
    expect(snap.running).toEqual({
      agents: { ny: true, nj: true },
      services: { ny: { web: true, db: true }, nj: { web: true, db: true } },
      quorumServer: true,
    });
  });

  it("killing NY's db service moves db's OSPF route at the core to NJ's router, and back when it returns", async () => {
    await lab.killService('ny', 'db');
    try {
      await lab.waitCoreSites('db', ['nj'], ms(20_000));
      expect((await lab.coreRoute('db'))?.nextHops).toEqual([{ address: '198.51.100.9', interface: 'nj', router: 'nj-rtr', site: 'nj' }]);
      expect(await lab.clientGet('db')).toEqual({ ok: true, body: 'nj db', site: 'nj' });
      // web is untouched: anycast from both sites.
      expect(await lab.coreSites('web')).toEqual(new Set(['ny', 'nj']));
    } finally {
      await lab.restartService('ny', 'db');
    }
    await lab.waitCoreSites('db', ['ny'], ms(20_000));
  });

  it("a dead server (traffic dropped, no session closed) loses its routes at the core once the router's hold timer ends", async () => {
    await lab.killServer('nj');
    try {
      await lab.waitCoreSites('web', ['ny'], ms(20_000));
      const session = await lab.bgpSession('nj');
      expect(session.state).not.toBe('Established');
      // Nobody closed the session: the router's hold timer ended it.
      expect(session.lastResetReason).toMatch(/hold timer expired/i);
    } finally {
      await lab.healAll();
    }
    await lab.waitConverged(ms(30_000));
  });

  it('the inter-site cut splits the heartbeats, not the quorum server: one site keeps serving, the other stays up but withdrawn', async () => {
    await lab.cutInterSite();
    try {
      // Both sides lose their majority and withdraw; both still reach the quorum server, which
      // lets NY serve (the last holder, and the preferred node). The winner may pay a short
      // outage first (the settle window): wait for the settled outcome as a whole.
      await waitUntil(async () => {
        const [web, db, nj, answer] = await Promise.all([lab.coreSites('web'), lab.coreSites('db'), lab.bgpSession('nj'), lab.clientGet('web')]);
        return [...web].join() === 'ny' && [...db].join() === 'ny' && nj.state === 'Established' && nj.prefixesReceived === 0
          && answer.ok && answer.site === 'ny';
      }, { timeout: ms(20_000), what: 'NY alone serving web and db, NJ up but announcing nothing, the client answered by NY' });
    } finally {
      await lab.healAll();
    }
    await lab.waitConverged(ms(30_000));
  });

  it('gobgpd killed under an agent: the agent starts a new one, and the routes come back', async () => {
    const before = { pid: await lab.gobgpdPid('nj'), session: await lab.bgpSession('nj') };
    const after = await lab.restartGobgpd('nj');
    expect(after).not.toBe(before.pid);
    // A new session, not the old one still standing: the router saw it drop and come up again.
    await waitUntil(async () => {
      const s = await lab.bgpSession('nj');
      return s.state === 'Established' && s.established > before.session.established;
    }, { timeout: ms(30_000), what: "NJ's router re-establishing the session with the new gobgpd" });
    await lab.waitConverged(ms(30_000));
  });

  it('teardown leaves no namespace, process, temp dir or FRR crash-log dir behind', async () => {
    const prefix = lab.lab.prefix;
    const pids = lab.lab.processes.map((p) => p.pid);
    const frrDirs = [...lab.frr.values()].flatMap((f) => [...f.processes].map(([d, p]) => `/var/tmp/frr/${d}.${p.pid}`));
    const dirs = [lab.runDir, ...[...lab.frr.values()].map((f) => f.dir)];
    await lab.teardown();
    expect((await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
    expect(pids.filter(isAlive)).toEqual([]);
    expect([...dirs, ...frrDirs].filter((d) => existsSync(d))).toEqual([]);
  });
});
