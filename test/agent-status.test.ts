/**
 * The status API and the operator's commands, as an operator uses them inside the server's
 * namespace: `quorate status`, `quorate drain` / `undrain` (the real CLI), curl on
 * status.listen from the server and from the router — each outcome seen at BIRD.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentLab, EBGP, IBGP, SERVER_V4, quorateBin, type AgentProcess } from '../lab/agent-lab.js';
import { community } from '../lab/bird-route.js';
import { labRequirements } from '../lab/requirements.js';
import type { AgentStatusReport } from '../src/observe/status-report.js';
import { ms } from '../src/core/duration.js';

const requirements = labRequirements({ programs: { curl: 'curl' } });
if (!requirements.ok) console.warn(`agent-status tests skipped: ${requirements.reason}`);

const V4 = '203.0.113.10/32';
const OTHER_V4 = '203.0.113.30/32';
// Listens on every address: /metrics may face a Prometheus server; drain must not.
const LOCAL_STATUS = 'http://127.0.0.1:7482';
const GRACEFUL_SHUTDOWN = community(65535, 0);
const REMOTE_STATUS = `http://${SERVER_V4}:7482`;

describe.skipIf(!requirements.ok)('agent status API and operator commands', () => {
  let lab: AgentLab;
  let agent: AgentProcess;
  let configPath: string;
  let stateDir: string;

  const curl = async (method: 'GET' | 'POST', url: string): Promise<string> =>
    (await lab.server.exec('curl', ['-sS', '--fail-with-body', '-X', method, url])).stdout;
  const code = async (ns: 'server' | 'router', method: 'GET' | 'POST', url: string): Promise<string> =>
    (await lab[ns].exec('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', method, url])).stdout;
  const cli = (...args: string[]) => lab.server.exec(process.execPath, [quorateBin(), ...args, '--config', configPath], { allowFailure: true });

  beforeAll(async () => {
    lab = await AgentLab.create({ tag: 'agstat', speaker: 'run' });
    const base = lab.baseConfig();
    stateDir = base['state-dir'] as string;
    configPath = await lab.writeConfig({ ...base, status: { listen: '0.0.0.0:7482' } });
    agent = await lab.startAgent(configPath);
    await lab.waitSessions();
    await lab.waitRoutes(V4, 2);
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('GET /status says what the agent sees and decided: checks with latency, quorum, sessions', async () => {
    const status = JSON.parse(await curl('GET', `${LOCAL_STATUS}/status`)) as AgentStatusReport;
    expect(status.node).toBe('srv-1');
    expect(status.quorum).toMatchObject({ quorate: true, reason: 'voting: 1 of 1 votes visible' });
    expect(status.quorum.leaseRemainingMs).toBeUndefined(); // a majority is not bounded by a lease
    const web = status.services.find((s) => s.name === 'web')!;
    expect(web).toMatchObject({ healthy: true, serving: true, method: 'bgp', drained: false, reason: 'healthy and quorate', prefixes: [V4, '2001:db8:10::10/128'] });
    expect(web.checks).toHaveLength(1);
    expect(web.checks[0]).toMatchObject({ kind: 'http', up: true, last: { ok: true } });
    expect(web.checks[0]!.last!.latencyMs).toBeGreaterThan(0);
    expect(web.checks[0]!.recent.length).toBeGreaterThanOrEqual(2);
    expect(status.bgp).toMatchObject({ speaker: 'run', inSync: true });
    expect(status.bgp!.announced).toContain(V4);
    expect(status.bgp!.sessions.filter((s) => s.established)).toHaveLength(2);
  });

  it('`quorate status` prints it as a table', async () => {
    const out = await cli('status');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^node srv-1 of cluster lab, up /m);
    expect(out.stdout).toMatch(/^quorum: held \(voting: 1 of 1 votes visible\)$/m);
    expect(out.stdout).toMatch(/^web +anycast +healthy +serving +bgp +- +203\.0\.113\.10\/32 2001:db8:10::10\/128 +healthy and quorate$/m);
    expect(out.stdout).toMatch(/^web: http .* +up \(\d+ ok\) +ok +\d+\.\dms +\++$/m);
    expect(out.stdout).toMatch(/^192\.0\.2\.2 +65000 +ESTABLISHED$/m);
  });

  it('GET /metrics is Prometheus text with the agent\'s state, also from the router', async () => {
    const metrics = await curl('GET', `${LOCAL_STATUS}/metrics`);
    expect(metrics).toMatch(/^quorate_service_serving\{service="web"\} 1$/m);
    expect(metrics).toMatch(/^quorate_service_drained\{service="web"\} 0$/m);
    expect(metrics).toMatch(/^quorate_service_transitions_total\{service="web",to="serving"\} 1$/m);
    expect(metrics).toMatch(/^quorate_quorum 1$/m);
    expect(metrics).toMatch(/^quorate_bgp_peers_established 2$/m);
    expect(metrics).toMatch(/^quorate_bgp_in_sync 1$/m);
    expect(metrics).toMatch(/^quorate_check_duration_seconds_count\{service="web",kind="http",result="ok"\} [1-9]/m);
    expect(await code('router', 'GET', `${REMOTE_STATUS}/metrics`)).toBe('200');
  });

  it('drain is refused from a non-loopback address, and changes nothing', async () => {
    expect(await code('router', 'POST', `${REMOTE_STATUS}/drain/web`)).toBe('403');
    expect(existsSync(join(stateDir, 'maintenance', 'web'))).toBe(false);
    expect(await lab.routes(V4)).toHaveLength(2);
  });

  it('`quorate drain web` withdraws it at BIRD by a maintenance file that survives a restart; `undrain` brings it back', async () => {
    const drained = await cli('drain', 'web');
    expect(drained.code, drained.stderr).toBe(0);
    // A single node: nobody else serves web now, and the command says so.
    expect(drained.stdout).toMatch(/^web: drained \(agent on .*control\.sock\); no other node serves it now$/m);
    await lab.waitRoutes(V4, 0);
    expect(await lab.routes(OTHER_V4)).toHaveLength(1); // the other service stays
    await agent.waitForLog(/^withdrawing web: drained by the operator$/);
    expect(existsSync(join(stateDir, 'maintenance', 'web'))).toBe(true);
    expect((await cli('status')).stdout).toMatch(/^web +anycast +healthy +drained /m);

    // Restart: web must not be announced for an instant. BIRD is sampled until the other
    // service is back, and the agent's own log says it never decided to announce web.
    await agent.process.stop();
    await lab.waitRoutes(OTHER_V4, 0);
    agent = await lab.startAgent(configPath);
    await agent.waitForLog(/^starting with web drained \(maintenance files\)$/);
    let webSeen = 0;
    await lab.bird.control.waitFor(async () => {
      webSeen += (await lab.routes(V4)).length;
      return (await lab.routes(OTHER_V4)).length === 1 ? true : undefined;
    }, ms(30_000), { what: 'the other service announced after the restart' });
    expect(webSeen).toBe(0);
    expect(agent.logs.some((l) => l.msg === 'announcing web')).toBe(false);

    // Without an agent the CLI writes the file itself; with one it goes through the socket.
    const undrained = await cli('undrain', 'web');
    expect(undrained.code, undrained.stderr).toBe(0);
    await lab.waitRoutes(V4, 2);
    expect(existsSync(join(stateDir, 'maintenance', 'web'))).toBe(false);
    const metrics = await curl('GET', `${LOCAL_STATUS}/metrics`);
    expect(metrics).toMatch(/^quorate_service_drained\{service="web"\} 0$/m);
  });

  it('a maintenance file an operator touches drains the service too', async () => {
    await lab.server.exec('touch', [join(stateDir, 'maintenance', 'web')]);
    await lab.waitRoutes(V4, 0);
    await agent.waitForLog(/^web drained .*maintenance/);
    await lab.server.exec('rm', [join(stateDir, 'maintenance', 'web')]);
    await lab.waitRoutes(V4, 2);
  });

  it('unknown services: the CLI says which exist, the API answers 404', async () => {
    const out = await cli('drain', 'nope');
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/no service "nope" in .* \(services: web, web-prepended\)/);
    expect(await code('server', 'POST', `${LOCAL_STATUS}/drain/nope`)).toBe('404');
  });

  it('with bgp.graceful-shutdown, a drained anycast service is first marked GRACEFUL_SHUTDOWN (65535:0, local-pref 0) at BIRD, then withdrawn', async () => {
    const from = agent.logs.length;
    const base = lab.baseConfig();
    await lab.writeConfig({ ...base, status: { listen: '0.0.0.0:7482' }, bgp: { ...(base.bgp as object), 'graceful-shutdown': '2s' } });
    agent.process.kill('SIGHUP');
    await agent.waitForLog(/^config reloaded$/, ms(10_000), from);
    expect((await lab.routes(V4, EBGP))[0]!.bgp.communities).not.toContain(GRACEFUL_SHUTDOWN);

    expect((await cli('drain', 'web')).code).toBe(0);
    const [marked] = await lab.bird.control.waitFor(async () => {
      const routes = await lab.routes(V4, EBGP);
      return routes[0]?.bgp.communities.includes(GRACEFUL_SHUTDOWN) ? routes : undefined;
    }, ms(10_000), { what: `${V4} marked GRACEFUL_SHUTDOWN at BIRD` });
    expect(marked!.bgp.communities).toEqual(expect.arrayContaining([community(65001, 10), community(65001, 100)])); // the rest kept
    expect((await lab.routes(V4, IBGP))[0]?.bgp.localPref).toBe(0);
    await agent.waitForLog(/^draining web: announced with GRACEFUL_SHUTDOWN for 2s, then withdrawn$/, ms(10_000), from);
    await lab.waitRoutes(V4, 0);
    await agent.waitForLog(/^withdrawing web: drained by the operator$/, ms(10_000), from);

    expect((await cli('undrain', 'web')).code).toBe(0);
    const [back] = await lab.waitRoutes(V4, 2);
    expect(back!.bgp.communities).not.toContain(GRACEFUL_SHUTDOWN);
  });

  it('on stop the agent leaves no control socket behind', async () => {
    await agent.process.stop();
    expect(existsSync(join(stateDir, 'control.sock'))).toBe(false);
    const out = await cli('status');
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/no agent answers/);
  });
});
