/**
 * (a) failover: from the service's death (SIGKILL, the time taken right before the kill) to
 * the route leaving BIRD's table, for quorate and for ExaBGP's healthcheck with the same
 * check interval, timeout, rise and fall; and the agent's own share of it (from the
 * deciding failed check's end, `checkEndedAt` in the agent's log, to the route leaving BIRD).
 */
import { ms, type Millis } from '../src/core/duration.js';
import { parsePrefix } from '../src/core/prefix.js';
import { AgentLab } from '../lab/agent-lab.js';
import { between, epochNow, sleep, type EpochMillis } from './clock.js';
import { untilRouteGone, untilRouteHeld } from './bird-watch.js';
import { benchAgentConfig } from './agent-config.js';
import type { BenchContext } from './context.js';
import { ExabgpLab } from './exabgp-lab.js';
import { row, type BenchmarkResult } from './measurement.js';
import { summarize } from './summary.js';

export const FAILOVER_PREFIX = '203.0.113.10/32';
const SERVICE = 'web';
// ExaBGP's healthcheck takes whole seconds (1 s at least); quorate refuses a timeout not
// shorter than the interval. The stopped service refuses connections at once, so neither
// timeout is ever reached in these trials: the settings are equal where they act.
const CHECK = { intervalMs: 100, timeoutS: 1, quorateTimeoutMs: 90, rise: 2, fall: 2 };
/** Bounds for a stuck lab, not measurements. */
const GONE_TIMEOUT = ms(10_000);
const BACK_TIMEOUT = ms(20_000);

/**
 * A pause before each kill, drawn at random over one check interval, so the kill does not
 * always land at the same point of the check schedule (which would bias the interval part).
 */
function randomPhase(): Millis {
  return ms(300 + Math.random() * CHECK.intervalMs);
}

export async function failoverBench(ctx: BenchContext): Promise<BenchmarkResult> {
  const prefix = parsePrefix(FAILOVER_PREFIX);
  const total: Millis[] = [];
  const share: Millis[] = [];
  const checkPart: Millis[] = [];
  await ctx.withLab(
    () => AgentLab.create({ tag: 'bfail', speaker: 'run' }),
    async (lab) => {
      const config = benchAgentConfig(lab, {
        name: SERVICE,
        prefixes: [FAILOVER_PREFIX],
        interval: `${CHECK.intervalMs}ms`,
        timeout: `${CHECK.quorateTimeoutMs}ms`,
        rise: CHECK.rise,
        fall: CHECK.fall,
      });
      const agent = await lab.startAgent(await lab.writeConfig(config));
      await lab.waitSessions();
      await untilRouteHeld(lab.bird.control, prefix, BACK_TIMEOUT);
      for (let i = 0; i < ctx.trials; i++) {
        await sleep(randomPhase());
        const from = agent.logs.length;
        const killedAt = epochNow();
        const killed = lab.service.kill();
        const goneAt = await untilRouteGone(lab.bird.control, prefix, GONE_TIMEOUT);
        await killed;
        const line = await agent.waitForLog(new RegExp(`^withdrawing ${SERVICE}:`), ms(5000), from);
        const checkEndedAt = line.checkEndedAt;
        if (typeof checkEndedAt !== 'number') throw new Error(`withdraw line without checkEndedAt: ${JSON.stringify(line)}`);
        total.push(between(killedAt, goneAt));
        share.push(between(checkEndedAt as EpochMillis, goneAt));
        checkPart.push(between(killedAt, checkEndedAt as EpochMillis));
        lab.service = await lab.service.restart();
        await untilRouteHeld(lab.bird.control, prefix, BACK_TIMEOUT);
        ctx.progress(`failover quorate ${i + 1}/${ctx.trials}: ${total.at(-1)!.toFixed(1)} ms (agent ${share.at(-1)!.toFixed(2)} ms)`);
      }
    },
  );

  const exaTotal: Millis[] = [];
  await ctx.withLab(
    () => ExabgpLab.create('bfex', { interval: CHECK.intervalMs / 1000, rise: CHECK.rise, fall: CHECK.fall, timeout: CHECK.timeoutS }, FAILOVER_PREFIX),
    async (exa) => {
      await exa.waitSession();
      await untilRouteHeld(exa.bird.control, prefix, BACK_TIMEOUT);
      for (let i = 0; i < ctx.trials; i++) {
        await sleep(randomPhase());
        const killedAt = epochNow();
        const killed = exa.service.kill();
        const goneAt = await untilRouteGone(exa.bird.control, prefix, GONE_TIMEOUT);
        await killed;
        exaTotal.push(between(killedAt, goneAt));
        exa.service = await exa.service.restart();
        await untilRouteHeld(exa.bird.control, prefix, BACK_TIMEOUT);
        ctx.progress(`failover exabgp ${i + 1}/${ctx.trials}: ${exaTotal.at(-1)!.toFixed(1)} ms`);
      }
    },
  );

  return {
    name: 'failover',
    settings: {
      prefix: FAILOVER_PREFIX,
      interval: `${CHECK.intervalMs}ms`,
      timeout: `quorate ${CHECK.quorateTimeoutMs}ms, exabgp ${CHECK.timeoutS}s (never reached: the stopped service refuses at once)`,
      rise: CHECK.rise,
      fall: CHECK.fall,
      quorate: 'http check GET /healthz; gobgpd run by the agent (guarded); reconcile-interval 500ms (the lab’s); BIRD over eBGP + iBGP',
      exabgp: `exabgp 4.2 healthcheck --withdraw-on-down --interval 0.1 --fast-interval 0.1 --rise 2 --fall 2 --timeout 1 --cmd "curl -sf --max-time 1 …/healthz"; its own BIRD over eBGP`,
      poll: 'BIRD `show route for PREFIX` every 1 ms over its control socket',
    },
    rows: [
      row('kill → route gone at BIRD', 'quorate', total, [{ stat: 'median', below: summarize(exaTotal).median }], 'target: median below ExaBGP’s'),
      row('kill → route gone at BIRD', 'exabgp', exaTotal),
      row('agent share: deciding check end → route gone', 'quorate', share, [{ stat: 'median', below: 5 }, { stat: 'p99', below: 20 }]),
      row('check part: kill → deciding check end', 'quorate', checkPart, [], `expected (fall − 1) × interval + U(0, interval) = ${(CHECK.fall - 1) * CHECK.intervalMs}–${CHECK.fall * CHECK.intervalMs} ms`),
    ],
    notes: [
      'The two stacks run one after the other in separate namespace pairs of the same shape (server ns + router ns with BIRD), never at the same time.',
      'The agent share covers: decision, gRPC AddPath/DeletePath to gobgpd, gobgpd’s UPDATE to BIRD, BIRD’s processing, and up to ~1 ms of polling.',
    ],
  };
}
