/**
 * Reload (SIGHUP), on real daemons: a config with an error is rejected whole and the running
 * one stays in force; a valid one changes announcements live without withdrawing what did
 * not change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentLab, EBGP, type AgentProcess } from '../lab/agent-lab.js';
import { labRequirements } from '../lab/requirements.js';
import { ms } from '../src/core/duration.js';

const requirements = labRequirements();
if (!requirements.ok) console.warn(`agent-reload tests skipped: ${requirements.reason}`);

const V4 = '203.0.113.10/32';
const V4B = '203.0.113.30/32';

type Service = { name: string; prefixes: string[]; bgp: Record<string, unknown> };

describe.skipIf(!requirements.ok)('agent config reload (SIGHUP)', () => {
  let lab: AgentLab;
  let agent: AgentProcess;
  let configPath: string;

  beforeAll(async () => {
    lab = await AgentLab.create({ tag: 'agrel', speaker: 'run' });
    configPath = await lab.writeConfig(lab.baseConfig());
    agent = await lab.startAgent(configPath);
    await lab.waitSessions();
    await lab.waitRoutes(V4, 2);
    await lab.waitRoutes(V4B, 1);
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('rejects a config with an error, names it as FILE:LINE:COL, and keeps announcing', async () => {
    const from = agent.logs.length;
    const bad = lab.baseConfig();
    ((bad.services as Service[])[0]!.bgp).medd = 20; // a typo
    await lab.writeConfig(bad);
    agent.process.kill('SIGHUP');
    await agent.waitForLog(/^reload rejected/, ms(10_000), from);
    const diagnostic = agent.logs.slice(from).find((l) => /unknown key "medd"/.test(l.msg));
    expect(diagnostic?.msg).toMatch(new RegExp(`^config: ${configPath}:\\d+:\\d+: unknown key "medd"`));
    expect((await lab.routes(V4, EBGP))[0]!.bgp.med).toBe(10);
    expect(agent.process.running).toBe(true);
  });

  it('a reload withdraws nothing that did not change, not for an instant: BIRD receives no withdrawal, only the changed paths', async () => {
    const before = await lab.bird.control.importStats(EBGP);
    const from = agent.logs.length;
    const next = lab.baseConfig();
    (next.services as Service[])[0]!.bgp.med = 15; // web changes; web-prepended does not
    await lab.writeConfig(next);
    agent.process.kill('SIGHUP');
    await agent.waitForLog(/^config reloaded$/, ms(10_000), from);
    await lab.bird.control.waitFor(async () => ((await lab.routes(V4, EBGP))[0]?.bgp.med === 15 ? true : undefined), ms(10_000), { what: 'MED 15 at BIRD' });
    // Let two full syncs (every 500 ms here) pass too: they must not disturb anything either.
    await new Promise((r) => setTimeout(r, 1200));
    const after = await lab.bird.control.importStats(EBGP);
    console.info(`reload: BIRD received ${after.updates - before.updates} updates, ${after.withdraws - before.withdraws} withdrawals`);
    expect(after.withdraws - before.withdraws).toBe(0);
    // web's two paths (IPv4 and IPv6) and nothing else: web-prepended was not even re-sent.
    expect(after.updates - before.updates).toBe(2);
  });

  it('applies a valid config live: changed attributes re-announced without a withdrawal, a removed service withdrawn', async () => {
    const from = agent.logs.length;
    const next = lab.baseConfig();
    const services = next.services as Service[];
    services[0]!.bgp.med = 20;
    next.services = [services[0]!]; // web-prepended removed
    await lab.writeConfig(next);
    agent.process.kill('SIGHUP');
    await agent.waitForLog(/^config reloaded$/, ms(10_000), from);
    await lab.bird.control.waitFor(async () => ((await lab.routes(V4, EBGP))[0]?.bgp.med === 20 ? true : undefined), ms(10_000), { what: 'MED 20 at BIRD' });
    await lab.waitRoutes(V4B, 0);
    // web's checks did not change: it kept its health and was never withdrawn.
    expect(agent.logs.slice(from).filter((l) => /^withdrawing web$|^withdrawing web:/.test(l.msg))).toEqual([]);
    expect(agent.logs.slice(from).map((l) => l.msg)).toContain('withdrawing web-prepended: no longer configured');
  });
});
