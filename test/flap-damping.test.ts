/**
 * Flap damping, as a pure function of the changes fed to it: a table of histories with the
 * hold-down each must produce, and properties over random histories. Then the agent on real
 * daemons: a real HTTP service made to flap is held down (withdrawn at BIRD, /status says until
 * when) and announced again once it has been steady for the hold-down.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentLab, type AgentProcess } from '../lab/agent-lab.js';
import { labRequirements } from '../lab/requirements.js';
import type { FlapDampingConfig, ServiceConfig } from '../src/config/types.js';
import { ms } from '../src/core/duration.js';
import { serviceName } from '../src/core/ids.js';
import { FlapDamper, FlapDamping } from '../src/health/flap-damping.js';

const config = (changes: number, within: number, holdDown: number): FlapDampingConfig => ({ changes, within: ms(within), holdDown: ms(holdDown) });

/** Alternating health from unhealthy: the first report (healthy) is a change. */
function feed(damper: FlapDamper, times: number[]): (ReturnType<FlapDamper['record']>)[] {
  return times.map((t, i) => damper.record(ms(t), i % 2 === 0));
}

describe('FlapDamper', () => {
  const table: { name: string; config: FlapDampingConfig; changes: number[]; at: number; heldUntil: number | undefined }[] = [
    { name: 'exactly `changes` changes: not held', config: config(3, 10_000, 5000), changes: [0, 1000, 2000], at: 2000, heldUntil: undefined },
    { name: 'one more than `changes` within the window: held from the last', config: config(3, 10_000, 5000), changes: [0, 1000, 2000, 3000], at: 3000, heldUntil: 8000 },
    { name: 'still held just before the end', config: config(3, 10_000, 5000), changes: [0, 1000, 2000, 3000], at: 7999, heldUntil: 8000 },
    { name: 'released at the end', config: config(3, 10_000, 5000), changes: [0, 1000, 2000, 3000], at: 8000, heldUntil: undefined },
    { name: 'changes spread wider than the window: not held', config: config(3, 10_000, 5000), changes: [0, 4000, 8000, 12_000], at: 12_000, heldUntil: undefined },
    { name: 'a change exactly `within` old has left the window', config: config(1, 1000, 500), changes: [0, 1000], at: 1000, heldUntil: undefined },
    { name: 'a change during the hold-down extends it', config: config(3, 10_000, 5000), changes: [0, 1000, 2000, 3000, 6000], at: 10_000, heldUntil: 11_000 },
    { name: 'after a release the count starts afresh (one change does not hold again)', config: config(2, 60_000, 1000), changes: [0, 100, 200, 5000], at: 5000, heldUntil: undefined },
    { name: 'after a release, flapping again holds again', config: config(2, 60_000, 1000), changes: [0, 100, 200, 5000, 5100, 5200], at: 5200, heldUntil: 6200 },
  ];
  for (const row of table) {
    it(row.name, () => {
      const damper = new FlapDamper(row.config);
      feed(damper, row.changes);
      expect(damper.heldUntil(ms(row.at))).toBe(row.heldUntil);
    });
  }

  it('reports the start of a hold-down once, with the count and the window', () => {
    const damper = new FlapDamper(config(2, 10_000, 3000));
    const results = feed(damper, [0, 100, 200, 300, 400]);
    expect(results).toEqual([undefined, undefined, { changes: 3, within: 10_000, holdDown: 3000, until: 3200 }, undefined, undefined]);
    expect(damper.heldUntil(ms(400))).toBe(3400);
  });

  it('a repeated report of the same health is not a change', () => {
    const damper = new FlapDamper(config(1, 10_000, 3000));
    expect(damper.record(ms(0), true)).toBeUndefined();
    expect(damper.record(ms(10), true)).toBeUndefined();
    expect(damper.record(ms(20), true)).toBeUndefined();
    expect(damper.heldUntil(ms(20))).toBeUndefined();
    expect(damper.record(ms(30), false)).toEqual({ changes: 2, within: 10_000, holdDown: 3000, until: 3030 });
  });

  it('a reconfigured damper applies the new limits to the next change, keeping what it counted', () => {
    const damper = new FlapDamper(config(5, 10_000, 1000));
    feed(damper, [0, 100, 200]);
    damper.reconfigure(config(3, 10_000, 2000));
    expect(damper.record(ms(300), false)).toEqual({ changes: 4, within: 10_000, holdDown: 2000, until: 2300 });
  });

  it('properties: held exactly when the rule says so, never longer than hold-down past the last change', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.array(fc.integer({ min: 1, max: 2000 }), { maxLength: 30 }),
      fc.integer({ min: 0, max: 10_000 }),
      (changes, within, holdDown, gaps, after) => {
        const damper = new FlapDamper(config(changes, within, holdDown));
        let t = 0;
        const times = gaps.map((g) => (t += g));
        const starts = feed(damper, times);
        const last = times.at(-1);
        const at = ms((last ?? 0) + after);
        const until = damper.heldUntil(at);
        // Held only within hold-down of the last change, and only if some change began a hold.
        if (until !== undefined) {
          expect(until).toBe(last! + holdDown);
          expect(at).toBeLessThan(until);
          expect(starts.some((s) => s !== undefined)).toBe(true);
        }
        // A hold-down begins only when more than `changes` changes fell within `within`.
        starts.forEach((s, i) => {
          if (!s) return;
          expect(s.changes).toBeGreaterThan(changes);
          expect(times.filter((x) => x > times[i]! - within && x <= times[i]!).length).toBeGreaterThanOrEqual(s.changes);
        });
        // Never held with no more than `changes` changes in all.
        if (times.length <= changes) expect(starts.every((s) => s === undefined)).toBe(true);
      },
    ));
  });
});

describe('FlapDamping (every service)', () => {
  const service = (name: string, flapDamping?: FlapDampingConfig): ServiceConfig => ({
    name: serviceName(name), prefixes: [], mode: 'anycast', priority: 100, preempt: true, via: ['bgp'], checks: [],
    bgp: { origin: 'igp', communities: [], largeCommunities: [], asPathPrepend: 0 },
    ...(flapDamping ? { flapDamping } : {}),
  });
  const web = serviceName('web');
  const db = serviceName('db');
  const flap = (damping: FlapDamping, name: typeof web, from: number, count: number): void => {
    for (let i = 0; i < count; i++) damping.record(name, ms(from + i * 10), i % 2 === 0);
  };

  it('damps only the services that have it configured', () => {
    const damping = new FlapDamping();
    damping.configure([service('web', config(2, 1000, 500)), service('db')]);
    flap(damping, web, 0, 4);
    flap(damping, db, 0, 4);
    expect(damping.heldUntil(web, ms(40))).toBe(530);
    expect(damping.heldUntil(db, ms(40))).toBeUndefined();
  });

  it('reports each release once, and the next release time to wake up for', () => {
    const damping = new FlapDamping();
    damping.configure([service('web', config(2, 1000, 500)), service('db', config(2, 1000, 800))]);
    flap(damping, web, 0, 3);
    flap(damping, db, 0, 3);
    expect(damping.nextRelease(ms(100))).toBe(520);
    expect(damping.released(ms(100))).toEqual([]);
    expect(damping.released(ms(520))).toEqual([web]);
    expect(damping.released(ms(600))).toEqual([]);
    expect(damping.nextRelease(ms(600))).toBe(820);
    expect(damping.released(ms(1000))).toEqual([db]);
    expect(damping.nextRelease(ms(1000))).toBeUndefined();
  });

  it('a service whose damping is removed by a reload is released at once (and said so)', () => {
    const damping = new FlapDamping();
    damping.configure([service('web', config(2, 1000, 60_000))]);
    flap(damping, web, 0, 3);
    damping.configure([service('web')]);
    expect(damping.heldUntil(web, ms(100))).toBeUndefined();
    expect(damping.released(ms(100))).toEqual([web]);
  });
});

const requirements = labRequirements({ programs: { curl: 'curl' } });
if (!requirements.ok) console.warn(`flap damping agent test skipped: ${requirements.reason}`);

const V4 = '203.0.113.10/32';
const STATUS = 'http://127.0.0.1:7493';

interface StatusService { name: string; healthy: boolean; serving: boolean; reason: string; heldDownUntil?: string }

describe.skipIf(!requirements.ok)('agent flap damping (real agent, HTTP service, gobgpd and BIRD)', () => {
  let lab: AgentLab;
  let agent: AgentProcess;
  let events: string;
  let config: Record<string, unknown>;

  const curl = async (path: string): Promise<string> => (await lab.server.exec('curl', ['-sS', '--fail-with-body', `${STATUS}${path}`])).stdout;
  const web = async (): Promise<StatusService> =>
    (JSON.parse(await curl('/status')) as { services: StatusService[] }).services.find((s) => s.name === 'web')!;
  /** Makes the service's /healthz fail or pass, and waits until the agent's checks saw it. */
  const setHealth = async (healthy: boolean): Promise<void> => {
    const from = agent.logs.length;
    if (healthy) lab.service.restoreHealth();
    else lab.service.failHealth();
    await agent.waitForLog((l) => l.msg === `service ${healthy ? 'healthy' : 'unhealthy'}` && l.service === 'web', ms(10_000), from);
  };

  beforeAll(async () => {
    lab = await AgentLab.create({ tag: 'agflap', speaker: 'run' });
    events = join(lab.dir, 'events');
    const base = lab.baseConfig({ rise: 1, fall: 1 });
    config = {
      ...base,
      services: (base.services as unknown[]).slice(0, 1),
      status: { listen: '127.0.0.1:7493' },
      // Top level: every service inherits it. The first healthy report is change 1.
      'flap-damping': { changes: 3, within: '30s', 'hold-down': '5s' },
      notify: { command: ['/bin/sh', '-c', `echo "$QUORATE_EVENT $QUORATE_SERVICE $QUORATE_STATE" >> ${events}`] },
    };
    agent = await lab.startAgent(await lab.writeConfig(config));
    await lab.waitSessions();
    await lab.waitRoutes(V4, 2);
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('a flapping service is held down (withdrawn, even while its checks pass) and served again once steady', async () => {
    const from = agent.logs.length;
    await setHealth(false); // change 2
    await setHealth(true); // change 3
    await setHealth(false); // change 4: more than 3 within 30 s
    const held = await agent.waitForLog(/^web held down for flapping/, ms(10_000), from);
    expect(held.msg).toBe('web held down for flapping: 4 health changes within 30s; released once stable for 5s');
    await setHealth(true); // during the hold-down: extends it, does not serve

    const status = await web();
    expect(status).toMatchObject({ healthy: true, serving: false, reason: 'held down for flapping' });
    expect(Date.parse(status.heldDownUntil!)).toBeGreaterThan(Date.now());
    expect(await lab.routes(V4)).toEqual([]);
    const metrics = await curl('/metrics');
    expect(metrics).toMatch(/^quorate_flap_holddowns_total\{service="web"\} 1$/m);
    expect(metrics).toMatch(/^quorate_service_held_down\{service="web"\} 1$/m);

    // Steady now: the hold-down ends by itself (a timer, no health change) and web is announced.
    await agent.waitForLog(/^web released from flap hold-down \(healthy\)$/, ms(20_000), from);
    await lab.waitRoutes(V4, 2);
    const after = await web();
    expect(after).toMatchObject({ healthy: true, serving: true, reason: 'healthy and quorate' });
    expect(after.heldDownUntil).toBeUndefined();
    expect(await curl('/metrics')).toMatch(/^quorate_service_held_down\{service="web"\} 0$/m);

    // Notify saw the hold-down as the service's state; the healthy report during it stayed hidden.
    const lines = existsSync(events) ? (await readFile(events, 'utf8')).trim().split('\n') : [];
    expect(lines).toEqual([
      'quorum  quorate',
      'service web healthy', 'holding web serving',
      'service web unhealthy', 'holding web withdrawn',
      'service web healthy', 'holding web serving',
      'service web held-down', 'holding web withdrawn',
      'service web healthy', 'holding web serving',
    ]);
  });

  it('a reload that removes flap-damping releases a held-down service at once', async () => {
    const from = agent.logs.length;
    // After a release the count starts afresh: four more changes hold it down again.
    await setHealth(false);
    await setHealth(true);
    await setHealth(false);
    await setHealth(true);
    await agent.waitForLog(/^web held down for flapping: 4 health changes within 30s/, ms(10_000), from);
    expect(await web()).toMatchObject({ healthy: true, serving: false });
    const { 'flap-damping': _removed, ...undamped } = config;
    await lab.writeConfig(undamped);
    agent.process.kill('SIGHUP');
    await agent.waitForLog(/^web released from flap hold-down \(healthy\)$/, ms(10_000), from);
    await lab.waitRoutes(V4, 2);
    expect(await web()).toMatchObject({ healthy: true, serving: true });
  });
});
