/**
 * (c) sigkill: SIGKILL of `quorate agent` (running its own gobgpd under the guard) until
 * BIRD has dropped the service's route; beside it, SIGKILL of exabgp itself (its session
 * closes the same way). And once, for the record: SIGKILL of ExaBGP's *healthcheck* process,
 * watched for a bounded time, to show whether the route stays announced.
 */
import { ms, type Millis } from '../src/core/duration.js';
import { parsePrefix } from '../src/core/prefix.js';
import { AgentLab } from '../lab/agent-lab.js';
import { between, epochNow, sleep } from './clock.js';
import { holdsRouteFor, untilRouteGone, untilRouteHeld } from './bird-watch.js';
import { benchAgentConfig } from './agent-config.js';
import type { BenchContext } from './context.js';
import { EXA_SESSION, ExabgpLab } from './exabgp-lab.js';
import { row, type BenchmarkResult } from './measurement.js';

const PREFIX = '203.0.113.20/32';
const GONE_TIMEOUT = ms(10_000);
const BACK_TIMEOUT = ms(30_000);
/** How long the route is watched after the healthcheck's SIGKILL. */
const CHECKER_WATCH: Millis = ms(5000);

export async function sigkillBench(ctx: BenchContext): Promise<BenchmarkResult> {
  const prefix = parsePrefix(PREFIX);
  const agentKill: Millis[] = [];
  await ctx.withLab(
    () => AgentLab.create({ tag: 'bkill', speaker: 'run' }),
    async (lab) => {
      const configPath = await lab.writeConfig(
        benchAgentConfig(lab, { name: 'web', prefixes: [PREFIX], interval: '100ms', timeout: '90ms', rise: 2, fall: 2 }),
      );
      for (let i = 0; i < ctx.trials; i++) {
        const agent = await lab.startAgent(configPath);
        await lab.waitSessions();
        await untilRouteHeld(lab.bird.control, prefix, BACK_TIMEOUT);
        await sleep(ms(200));
        const killedAt = epochNow();
        agent.process.kill('SIGKILL');
        const goneAt = await untilRouteGone(lab.bird.control, prefix, GONE_TIMEOUT);
        await agent.process.exited;
        agentKill.push(between(killedAt, goneAt));
        ctx.progress(`sigkill quorate ${i + 1}/${ctx.trials}: ${agentKill.at(-1)!.toFixed(1)} ms`);
      }
    },
  );

  const exaKill: Millis[] = [];
  let checkerKill = { routeStayed: false, absentPolls: 0, polls: 0, watchedMs: CHECKER_WATCH as number, respawned: false };
  await ctx.withLab(
    () => ExabgpLab.create('bkex', { interval: 0.1, rise: 2, fall: 2, timeout: 1 }, PREFIX),
    async (exa) => {
      // Once: the healthcheck process killed, exabgp left running.
      await exa.waitSession();
      await untilRouteHeld(exa.bird.control, prefix, BACK_TIMEOUT);
      const checkers = exa.healthcheckPids();
      if (checkers.length !== 1) throw new Error(`expected one exabgp healthcheck process, found ${checkers.length}`);
      process.kill(checkers[0]!, 'SIGKILL');
      const until = epochNow() + CHECKER_WATCH;
      let polls = 0;
      let absent = 0;
      while (epochNow() < until) {
        polls++;
        if (!(await holdsRouteFor(exa.bird.control, prefix))) absent++;
        await sleep(ms(1));
      }
      const after = exa.healthcheckPids();
      checkerKill = {
        routeStayed: absent === 0,
        absentPolls: absent,
        polls,
        watchedMs: CHECKER_WATCH,
        respawned: after.length > 0 && after[0] !== checkers[0],
      };
      ctx.progress(`exabgp healthcheck SIGKILL: route ${absent === 0 ? 'stayed announced' : `absent in ${absent}/${polls} polls`} for ${CHECKER_WATCH} ms`);

      for (let i = 0; i < ctx.trials; i++) {
        if (i > 0) await exa.startExabgp();
        await exa.waitSession();
        await untilRouteHeld(exa.bird.control, prefix, BACK_TIMEOUT);
        await sleep(ms(200));
        const orphans = exa.healthcheckPids();
        const killedAt = epochNow();
        exa.exabgp.process.kill('SIGKILL');
        const goneAt = await untilRouteGone(exa.bird.control, prefix, GONE_TIMEOUT);
        await exa.exabgp.process.exited;
        exaKill.push(between(killedAt, goneAt));
        // The orphaned checker leaves by itself once it sees its parent gone; the next exabgp
        // must start alone, so wait for that (and kill it by PID if it lingers).
        await reapOrphans(orphans);
        ctx.progress(`sigkill exabgp ${i + 1}/${ctx.trials}: ${exaKill.at(-1)!.toFixed(1)} ms`);
        // BIRD must see the session down before the next exabgp connects.
        await exa.bird.control.waitFor(async (b) => !(await b.protocolState(EXA_SESSION))?.established, ms(10_000));
      }
    },
  );

  return {
    name: 'sigkill',
    settings: {
      prefix: PREFIX,
      quorate: 'quorate agent with bgp.gobgp.run (gobgpd under the guard); SIGKILL of the agent’s PID',
      exabgp: 'SIGKILL of the exabgp process (its healthcheck child orphaned); hold-time 3',
      bird: 'graceful restart off, hold 3 s (lab/bird.ts)',
      poll: 'BIRD `show route for PREFIX` every 1 ms',
    },
    rows: [
      row('SIGKILL agent → route gone at BIRD', 'quorate', agentKill, [{ stat: 'median', below: 50 }]),
      row('SIGKILL exabgp → route gone at BIRD', 'exabgp', exaKill),
    ],
    notes: [
      `SIGKILL of ExaBGP's healthcheck process (exabgp itself left running), watched ${CHECKER_WATCH} ms: ` +
        (checkerKill.routeStayed
          ? `the route stayed announced the whole time (absent in 0 of ${checkerKill.polls} polls)`
          : `the route was absent in ${checkerKill.absentPolls} of ${checkerKill.polls} polls`) +
        `; exabgp ${checkerKill.respawned ? 'respawned the checker' : 'did not respawn the checker'}.`,
    ],
    facts: { healthcheckSigkill: checkerKill },
  };
}

/** Waits up to 2 s for these PIDs (a killed exabgp's checker) to exit, then SIGKILLs any left. */
async function reapOrphans(pids: readonly number[]): Promise<void> {
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = epochNow() + 2000;
  while (pids.some(alive) && epochNow() < deadline) await sleep(ms(20));
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
}
