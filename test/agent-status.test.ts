/**
 * The status API, as an operator uses it (curl inside the server's namespace): what the agent
 * sees and decided, its metrics, and drain/undrain — seen at BIRD.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentLab, type AgentProcess } from '../lab/agent-lab.js';
import { labRequirements } from '../lab/requirements.js';

const requirements = labRequirements({ programs: { curl: 'curl' } });
if (!requirements.ok) console.warn(`agent-status tests skipped: ${requirements.reason}`);

const V4 = '203.0.113.10/32';
const STATUS = 'http://127.0.0.1:7482';

describe.skipIf(!requirements.ok)('agent status API', () => {
  let lab: AgentLab;
  let agent: AgentProcess;

  const curl = async (method: 'GET' | 'POST', path: string): Promise<string> =>
    (await lab.server.exec('curl', ['-sS', '--fail-with-body', '-X', method, `${STATUS}${path}`])).stdout;

  beforeAll(async () => {
    lab = await AgentLab.create({ tag: 'agstat', speaker: 'run' });
    agent = await lab.startAgent(await lab.writeConfig({ ...lab.baseConfig(), status: { listen: '127.0.0.1:7482' } }));
    await lab.waitSessions();
    await lab.waitRoutes(V4, 2);
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('GET /status says what the agent sees and decided', async () => {
    const status = JSON.parse(await curl('GET', '/status')) as {
      node: string; quorum: { quorate: boolean; reason: string };
      services: { name: string; healthy: boolean; serving: boolean; reason: string; prefixes: string[] }[];
      bgp: { speaker: string; inSync: boolean; announced: string[] };
    };
    expect(status.node).toBe('srv-1');
    expect(status.quorum).toMatchObject({ quorate: true, reason: 'voting: 1 of 1 votes visible' });
    expect(status.services.find((s) => s.name === 'web')).toMatchObject({ healthy: true, serving: true, reason: 'healthy and quorate', prefixes: [V4, '2001:db8:10::10/128'] });
    expect(status.bgp).toMatchObject({ speaker: 'run', inSync: true });
    expect(status.bgp.announced).toContain(V4);
  });

  it('GET /metrics is Prometheus text with the agent\'s state', async () => {
    const metrics = await curl('GET', '/metrics');
    expect(metrics).toMatch(/^quorate_service_serving\{service="web"\} 1$/m);
    expect(metrics).toMatch(/^quorate_quorum 1$/m);
    expect(metrics).toMatch(/^quorate_bgp_peers_established 2$/m);
  });

  it('POST /drain/web withdraws it at BIRD; /undrain/web brings it back; an unknown service is a 404', async () => {
    expect(JSON.parse(await curl('POST', '/drain/web'))).toEqual({ service: 'web', drained: true });
    await lab.waitRoutes(V4, 0);
    expect((await lab.routes('203.0.113.30/32')).length).toBe(1); // the other service stays
    await agent.waitForLog(/^withdrawing web: drained by the operator$/);
    await curl('POST', '/undrain/web');
    await lab.waitRoutes(V4, 2);
    const missing = await lab.server.exec('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', `${STATUS}/drain/nope`]);
    expect(missing.stdout).toBe('404');
  });
});
