/**
 * The agent with an external gobgpd (one it does not run): what it leaves in the speaker's
 * table across its own restarts, config changes, SIGTERM and a restarted gobgpd.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentLab, SERVER_V4, type AgentProcess } from '../lab/agent-lab.js';
import { labRequirements } from '../lab/requirements.js';
import { ms } from '../src/core/duration.js';

const requirements = labRequirements();
if (!requirements.ok) console.warn(`agent-external tests skipped: ${requirements.reason}`);

const V4 = '203.0.113.10/32';
const V6 = '2001:db8:10::10/128';
/** The lab config's second service (web-prepended). */
const V4B = '203.0.113.30/32';
const V6B = '2001:db8:10::30/128';

interface RibEntry { prefix: string; paths: number }

describe.skipIf(!requirements.ok)('agent with an external gobgpd', () => {
  let lab: AgentLab;
  let agent: AgentProcess | undefined;

  /** What gobgpd's global table holds, per prefix, as its own CLI reports it. */
  async function rib(family: 'ipv4' | 'ipv6'): Promise<RibEntry[]> {
    const { stdout } = await lab.gobgp(['global', 'rib', '-a', family, '-j']);
    const table = JSON.parse(stdout || '{}') as Record<string, unknown[]>;
    return Object.entries(table).map(([prefix, paths]) => ({ prefix, paths: paths.length })).sort((a, b) => a.prefix.localeCompare(b.prefix));
  }

  async function waitRib(family: 'ipv4' | 'ipv6', expected: RibEntry[]): Promise<void> {
    let last: RibEntry[] = [];
    await lab.bird.control.waitFor(async () => {
      last = await rib(family);
      return JSON.stringify(last) === JSON.stringify(expected) ? last : undefined;
    }, ms(10_000), { what: `gobgpd's ${family} table to be ${JSON.stringify(expected)}` }).catch((err: Error) => {
      throw new Error(`${err.message}; it holds ${JSON.stringify(last)}`);
    });
  }

  beforeAll(async () => {
    lab = await AgentLab.create({ tag: 'agext', speaker: 'external' });
    await lab.waitSessions();
  });

  afterAll(async () => {
    agent?.process.kill('SIGKILL');
    await lab?.teardown();
  });

  it('f. SIGTERM: the paths are gone from gobgpd before the agent has exited', async () => {
    agent = await lab.startAgent(await lab.writeConfig(lab.baseConfig()));
    await waitRib('ipv4', [{ prefix: V4, paths: 1 }, { prefix: V4B, paths: 1 }]);
    await lab.waitRoutes(V4, 2);
    agent.process.kill('SIGTERM');
    expect(await agent.process.exited).toEqual({ code: 0, signal: null });
    // gobgpd keeps running: whatever the agent had not withdrawn would still be here.
    expect(await rib('ipv4')).toEqual([]);
    expect(await rib('ipv6')).toEqual([]);
    await lab.waitRoutes(V4, 0);
    agent = undefined;
  });

  it('h. restarted twice (SIGKILL, and with a changed config) → exactly one path per prefix; unmanaged paths untouched', async () => {
    // An operator's own path in the same gobgpd: never the agent's to touch.
    await lab.gobgp(['global', 'rib', 'add', '-a', 'ipv4', '198.51.100.77/32', 'nexthop', SERVER_V4]);
    const config = lab.baseConfig();
    const twoPrefixes = structuredClone(config);
    ((twoPrefixes.services as { prefixes: string[] }[])[0]!).prefixes.push('203.0.113.11/32');

    for (let round = 0; round < 2; round++) {
      agent = await lab.startAgent(await lab.writeConfig(twoPrefixes));
      // A starting agent first removes its leftovers, then announces once the checks pass:
      // wait for that, or the previous run's paths would pass for this one's.
      await agent.waitForLog(/^announcing web$/);
      await agent.waitForLog(/^announcing web-prepended$/);
      await waitRib('ipv4', [{ prefix: '198.51.100.77/32', paths: 1 }, { prefix: V4, paths: 1 }, { prefix: '203.0.113.11/32', paths: 1 }, { prefix: V4B, paths: 1 }]);
      await waitRib('ipv6', [{ prefix: V6, paths: 1 }, { prefix: V6B, paths: 1 }]);
      // Killed without a chance to withdraw: its paths stay in the external gobgpd.
      agent.process.kill('SIGKILL');
      await agent.process.exited;
    }
    expect(await rib('ipv4')).toEqual([{ prefix: '198.51.100.77/32', paths: 1 }, { prefix: V4, paths: 1 }, { prefix: '203.0.113.11/32', paths: 1 }, { prefix: V4B, paths: 1 }]);

    // Restarted with 203.0.113.11/32 gone from the config: its leftover path is removed (the
    // state directory remembers it was ours), the others stay single.
    agent = await lab.startAgent(await lab.writeConfig(config));
    await agent.waitForLog(/^announcing web$/);
    await agent.waitForLog(/^announcing web-prepended$/);
    await waitRib('ipv4', [{ prefix: '198.51.100.77/32', paths: 1 }, { prefix: V4, paths: 1 }, { prefix: V4B, paths: 1 }]);
    await waitRib('ipv6', [{ prefix: V6, paths: 1 }, { prefix: V6B, paths: 1 }]);
    await lab.waitRoutes('203.0.113.11/32', 0);
    await lab.waitRoutes(V4, 2);
  });

  it('d. gobgpd killed and restarted: the agent puts its paths back by itself and keeps running', async () => {
    const pid = agent!.pid;
    lab.gobgpd!.process.kill('SIGKILL');
    await lab.gobgpd!.process.exited;
    await lab.waitRoutes(V4, 0);
    // Same config, same socket (the dead one's file removed, as a service manager would): a
    // new gobgpd with an empty table.
    rmSync(lab.apiTarget.slice('unix://'.length), { force: true });
    const { startGobgpd } = await import('../lab/gobgpd.js');
    const { gobgpdConfigOptions } = lab;
    lab.gobgpd = await startGobgpd(lab.lab, lab.server, { ...gobgpdConfigOptions, apiSocketPath: lab.apiTarget.slice('unix://'.length) });
    // The operator's own path died with that gobgpd; the agent's come back.
    await waitRib('ipv4', [{ prefix: V4, paths: 1 }, { prefix: V4B, paths: 1 }]);
    await waitRib('ipv6', [{ prefix: V6, paths: 1 }, { prefix: V6B, paths: 1 }]);
    await lab.waitSessions();
    await lab.waitRoutes(V4, 2);
    expect(agent!.process.running).toBe(true);
    expect(agent!.pid).toBe(pid);
  });
});
