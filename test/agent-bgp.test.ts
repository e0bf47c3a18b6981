/**
 * The agent end to end on real daemons: the demo service, `quorate agent` running its own
 * gobgpd under the guard, and BIRD reading what the routers would see — for IPv4 and IPv6.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { community } from '../lab/bird.js';
import { AgentLab, EBGP, IBGP, SERVER_AS, SERVER_V4, SERVER_V6, type AgentProcess } from '../lab/agent-lab.js';
import { labRequirements } from '../lab/requirements.js';
import { ms } from '../src/core/duration.js';

const requirements = labRequirements();
if (!requirements.ok) console.warn(`agent-bgp tests skipped: ${requirements.reason}`);

const V4 = '203.0.113.10/32';
const V6 = '2001:db8:10::10/128';

describe.skipIf(!requirements.ok)('agent with its own gobgpd, seen from BIRD', () => {
  let lab: AgentLab;
  let agent: AgentProcess;

  beforeAll(async () => {
    lab = await AgentLab.create({ tag: 'agbgp', speaker: 'run' });
    agent = await lab.startAgent(await lab.writeConfig(lab.baseConfig()));
    await lab.waitSessions();
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('a. announces a healthy service with every configured attribute (eBGP and iBGP, IPv4 and IPv6)', async () => {
    for (const [prefix, nextHop] of [[V4, SERVER_V4], [V6, SERVER_V6]] as const) {
      const [ebgp] = await lab.waitRoutes(prefix, 1, EBGP);
      expect(ebgp!.bgp).toMatchObject({
        origin: 'igp',
        asPath: [SERVER_AS],
        med: 10,
        // The node's communities and the service's, together.
        communities: [community(65001, 10), community(65001, 100)],
        largeCommunities: [{ global: 65001, local1: 1, local2: 10 }],
      });
      expect(ebgp!.bgp.nextHop).toContain(nextHop);
      const [ibgp] = await lab.waitRoutes(prefix, 1, IBGP);
      expect(ibgp!.bgp).toMatchObject({ localPref: 200, asPath: [], med: 10, communities: [community(65001, 10), community(65001, 100)] });
      expect(ibgp!.bgp.nextHop).toContain(nextHop);
    }
  });

  it('a. prepends the local AS as configured (eBGP)', async () => {
    for (const prefix of ['203.0.113.30/32', '2001:db8:10::30/128']) {
      const [ebgp] = await lab.waitRoutes(prefix, 1, EBGP);
      // gobgpd puts its AS in front once on eBGP; the agent prepended it twice (as-path-prepend: 2).
      expect(ebgp!.bgp).toMatchObject({ origin: 'igp', asPath: [SERVER_AS, SERVER_AS, SERVER_AS], communities: [community(65001, 100)] });
    }
  });

  it('b. withdraws when the service dies, c. announces again after `rise` passes when it is back', async () => {
    await lab.waitRoutes(V4, 2);
    await lab.service.kill();
    await lab.waitRoutes(V4, 0);
    await lab.waitRoutes(V6, 0);
    const down = await agent.waitForLog(/^withdrawing web:/);
    expect(down.reason).toBe('checks failing');

    const from = agent.logs.length;
    lab.service = await lab.service.restart();
    await lab.waitRoutes(V4, 2);
    await lab.waitRoutes(V6, 2);
    // The service came back only after `rise` (2) passes in a row.
    const up = await agent.waitForLog((l) => l.msg === 'service healthy' && l.service === 'web', ms(1000), from);
    expect(up.cause).toMatch(/HTTP 200, 2 passes in a row \(rise 2\)$/);
  });

  it('g. corrects a managed path changed or removed by hand with the gobgp CLI, and leaves other paths alone', async () => {
    await lab.waitRoutes(V4, 2);
    // Changed by hand: MED 999, no communities. The reconciler puts the configured path back.
    await lab.gobgp(['global', 'rib', 'add', '-a', 'ipv4', V4, 'nexthop', SERVER_V4, 'med', '999']);
    await lab.bird.control.waitFor(async () => {
      const [route] = await lab.routes(V4, EBGP);
      return route?.bgp.med === 10 && route.bgp.communities.length === 2 ? route : undefined;
    }, ms(10_000), { what: 'the configured path back at BIRD' });
    // Removed by hand: re-added.
    await lab.gobgp(['global', 'rib', 'del', '-a', 'ipv6', V6]);
    await lab.waitRoutes(V6, 2);
    expect((await lab.routes(V6, EBGP))[0]!.bgp.med).toBe(10);
    // A path the agent does not manage stays as the operator left it.
    await lab.gobgp(['global', 'rib', 'add', '-a', 'ipv4', '198.51.100.77/32', 'nexthop', SERVER_V4, 'med', '5']);
    await lab.waitRoutes('198.51.100.77/32', 2);
    await agent.waitForLog(/drifted/, ms(5000));
    // Once the repairs' log lines have come through the pipe, three more reconcile periods
    // must find nothing to repair: the configured paths are stable and the foreign one is not ours.
    await new Promise((r) => setTimeout(r, 500));
    const before = agent.logs.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await lab.routes('198.51.100.77/32', EBGP))[0]!.bgp.med).toBe(5);
    expect(agent.logs.slice(before).filter((l) => /drifted/.test(l.msg))).toEqual([]);
    await lab.gobgp(['global', 'rib', 'del', '-a', 'ipv4', '198.51.100.77/32']);
  });

  it('d. gobgpd killed: the agent restarts it and the routes come back; the agent itself is untouched', async () => {
    await lab.waitRoutes(V4, 2);
    const started = agent.logs.find((l) => l.msg === 'gobgpd started under guard');
    const gobgpdPid = started?.gobgpdPid as number;
    expect(gobgpdPid).toBeGreaterThan(0);
    const from = agent.logs.length;
    process.kill(gobgpdPid, 'SIGKILL');
    await lab.waitRoutes(V4, 0);
    await lab.waitSessions();
    await lab.waitRoutes(V4, 2);
    await lab.waitRoutes(V6, 2);
    expect(agent.process.running).toBe(true);
    const restarted = await agent.waitForLog(/^gobgpd started under guard$/, ms(1000), from);
    expect(restarted.gobgpdPid).not.toBe(gobgpdPid);
  });

  it('e. agent SIGSTOP: gobgpd dies within the stall deadline and the routes leave BIRD; on SIGCONT it recovers', async () => {
    await lab.waitRoutes(V4, 2);
    agent.process.kill('SIGSTOP');
    try {
      // stall-timeout 500ms: the guard kills gobgpd, the sessions close, BIRD drops the routes.
      await lab.waitRoutes(V4, 0, undefined, ms(3000));
      await lab.waitRoutes(V6, 0, undefined, ms(1000));
    } finally {
      agent.process.kill('SIGCONT');
    }
    await agent.waitForLog(/gobgpd exited/);
    await lab.waitSessions();
    await lab.waitRoutes(V4, 2);
  });

  it('f. SIGTERM: withdraws everything, then exits 0', async () => {
    await lab.waitRoutes(V4, 2);
    agent.process.kill('SIGTERM');
    const status = await agent.process.exited;
    expect(status).toEqual({ code: 0, signal: null });
    expect(await lab.routes(V4)).toEqual([]);
    expect(await lab.routes(V6)).toEqual([]);
    const order = agent.logs.map((l) => l.msg).filter((m) => /withdrawn|^stopped$/.test(m));
    expect(order).toEqual(['all announcements withdrawn', 'stopped']);
  });

  it('e. agent SIGKILL: gobgpd dies with it and BIRD drops the routes within 1 s', async () => {
    agent = await lab.startAgent(await lab.writeConfig(lab.baseConfig()));
    await lab.waitSessions();
    await lab.waitRoutes(V4, 2);
    await lab.waitRoutes(V6, 2);
    agent.process.kill('SIGKILL');
    await agent.process.exited;
    await lab.waitRoutes(V4, 0, undefined, ms(1000));
    await lab.waitRoutes(V6, 0, undefined, ms(1000));
  });
});
