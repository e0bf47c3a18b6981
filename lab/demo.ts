/**
 * `npm run lab`: the main job, shown. A namespace lab with BIRD (the router), the demo service,
 * and `quorate agent` running its own gobgpd; the service is killed, and the route leaves
 * BIRD's table — with the time it took. Then the service comes back and so does the route.
 * Everything the lab made is removed at the end, and on Ctrl-C.
 */
import { ms } from '../src/core/duration.js';
import { parsePrefix } from '../src/core/prefix.js';
import { AgentLab, EBGP, type AgentProcess } from './agent-lab.js';
import type { BirdRoute } from './bird.js';
import { labRequirements } from './requirements.js';

const PREFIX = '203.0.113.10/32';
const CHECK = { interval: '200ms', rise: 2, fall: 2 } as const;
const now = (): number => performance.timeOrigin + performance.now();

function describeRoute(route: BirdRoute | undefined): string {
  if (!route) return '(no route)';
  const b = route.bgp;
  return `${route.prefix.key} via ${b.nextHop.join(', ')}  as-path [${b.asPath.join(' ')}]  med ${b.med ?? '-'}  communities ${b.communities.map((c) => `${c >>> 16}:${c & 0xffff}`).join(' ')}`;
}

async function main(): Promise<void> {
  const req = labRequirements();
  if (!req.ok) {
    console.error(`The lab cannot run here: ${req.reason}`);
    process.exitCode = 1;
    return;
  }
  console.log('Building the lab: namespaces srv (service, quorate, gobgpd) and rtr (BIRD), joined by a veth …');
  const lab = await AgentLab.create({ tag: 'demo', speaker: 'run' });
  let interrupted = false;
  process.on('SIGINT', () => {
    interrupted = true;
    console.log('\nInterrupted: removing the lab …');
    void lab.teardown().then(() => process.exit(130));
  });
  let agent: AgentProcess | undefined;
  try {
    const config = lab.baseConfig({ checkInterval: CHECK.interval, rise: CHECK.rise, fall: CHECK.fall });
    agent = await lab.startAgent(await lab.writeConfig(config));
    console.log(`quorate agent started (pid ${agent.pid}); it runs gobgpd under its guard.`);
    console.log(`Service check: http GET /healthz every ${CHECK.interval}, timeout 80ms, rise ${CHECK.rise}, fall ${CHECK.fall}.\n`);
    await lab.waitSessions();
    const [route] = await lab.waitRoutes(PREFIX, 1, EBGP);
    console.log(`BIRD's table, while the service is healthy:\n  ${describeRoute(route)}\n`);

    console.log(`Killing the service (pid ${lab.service.pid}) …`);
    const killedAt = now();
    await lab.service.kill();
    const prefix = parsePrefix(PREFIX);
    for (;;) {
      if ((await lab.bird.control.showRoute(prefix)).length === 0) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    const goneAt = now();
    const withdraw = await agent.waitForLog(/^withdrawing web:/);
    const checkEndedAt = typeof withdraw.checkEndedAt === 'number' ? withdraw.checkEndedAt : undefined;
    console.log(`  the agent: ${withdraw.msg} (${String(withdraw.cause)})`);
    console.log(`  BIRD: ${PREFIX} gone from the table ${(goneAt - killedAt).toFixed(1)} ms after the kill`);
    if (checkEndedAt) {
      console.log(`        of which the agent's own share (deciding failed check → route gone at BIRD): ${(goneAt - checkEndedAt).toFixed(1)} ms;`);
      console.log(`        the rest is the checks failing ${CHECK.fall} times in a row, ${CHECK.interval} apart.`);
    }

    console.log('\nStarting the service again …');
    const restartedAt = now();
    lab.service = await lab.service.restart();
    const [back] = await lab.waitRoutes(PREFIX, 1, EBGP, ms(20_000));
    console.log(`  BIRD: back after ${(now() - restartedAt).toFixed(0)} ms (rise ${CHECK.rise} passes):\n  ${describeRoute(back)}`);

    console.log('\nStopping the agent (SIGTERM: it withdraws everything, then exits) …');
    agent.process.kill('SIGTERM');
    const status = await agent.process.exited;
    console.log(`  exited with ${status.code ?? status.signal}; BIRD holds ${(await lab.routes(PREFIX)).length} route(s) for ${PREFIX}.`);
  } catch (err) {
    if (!interrupted) {
      console.error(`The demo failed: ${err instanceof Error ? err.message : String(err)}`);
      if (agent) console.error(`Agent output:\n${agent.process.output()}`);
      process.exitCode = 1;
    }
  } finally {
    if (!interrupted) {
      await lab.teardown();
      console.log('\nLab removed (namespaces, processes, files).');
    }
  }
}

void main();
