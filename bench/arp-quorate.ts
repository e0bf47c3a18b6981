/**
 * The quorate half of the ARP benchmark: three ARP-only agents (votingOnly: no quorum server
 * in their chain), CH holding `vip` (priority 300), NY (200) the one to take over, NJ (100)
 * the third vote. Three faults on CH, each followed by a restore that waits until CH holds
 * again (preempt true) and answers:
 *   service  SIGKILL of CH's whoami (its TCP health port is the agent's check);
 *   host     CH's bridge port down in the segment namespace, and its agent and whoami
 *            SIGKILLed at the same instant: link and processes gone;
 *   agent    SIGKILL of CH's agent only: the host and whoami live on, and so does CH's
 *            address until its kernel lifetime ends.
 * Each trial also records NY's agent log lines about the takeover (probe series, address
 * added) for the first trial of each case, to explain the figure.
 */
import { ms } from '../src/core/duration.js';
import { epochNow } from '../lab/arp-clock.js';
import { SITE } from '../lab/cluster-lab.js';
import type { BenchContext } from './context.js';
import { describeTrial, guardedTrial, measureTakeover, randomPhase, waitServedBy, type ArpBenchLab, type TakeoverRecord, type TrialFailure } from './arp-trial.js';

export type QuorateCase = 'service' | 'host' | 'agent';

export interface QuorateArpRun {
  trials: Record<QuorateCase, TakeoverRecord[]>;
  /** NY's log lines (msg and time) from the fault to its takeover, first trial of each case. */
  takeoverLogs: Partial<Record<QuorateCase, string[]>>;
  failures: TrialFailure[];
}

/** How long to keep watching after the takeover (two holders would show up here). */
const OBSERVE = { service: ms(100), host: ms(100), agent: ms(500) } as const;

export async function runQuorateArp(b: ArpBenchLab, ctx: BenchContext, trials: Record<QuorateCase, number>): Promise<QuorateArpRun> {
  const { lab, arp } = b;
  const out: QuorateArpRun = { trials: { service: [], host: [], agent: [] }, takeoverLogs: {}, failures: [] };
  const port = `p-ch`;
  /** After a failed trial: CH back on the segment with its whoami and agent. */
  const recover = async (): Promise<void> => {
    await lab.segment.ip(['link', 'set', 'dev', port, 'up']);
    if (!arp.whoami.ch.process.running) await arp.startService('ch');
    if (!lab.sites.ch.agent?.process.running) await lab.startAgent('ch');
  };

  const trial = async (kind: QuorateCase, fault: () => Promise<void>, restore: () => Promise<void>): Promise<void> => {
    await waitServedBy(b, 'ch');
    await randomPhase(ms(400), ms(100));
    const nyLogFrom = lab.agent('ny').logs.length;
    const name = `arp quorate ${kind} ${out.trials[kind].length + 1}/${trials[kind]}`;
    await guardedTrial(name, out.failures, ctx, async () => {
      const faultAt = epochNow();
      await fault();
      const record = await measureTakeover(b, faultAt, 'ch', OBSERVE[kind], () => `NY's last log lines: ${lab.agent('ny').logs.slice(-3).map((l) => l.msg).join(' | ')}`);
      out.trials[kind].push(record);
      if (!out.takeoverLogs[kind]) out.takeoverLogs[kind] = collapseRepeats(lab.agent('ny').logs.slice(nyLogFrom).map((l) => ({
        at: `+${(Date.parse(l.time) - faultAt).toFixed(0)} ms`,
        msg: l.msg,
        took: l.tookMs !== undefined ? ` [took ${String(l.tookMs)} ms]` : '',
      })));
      ctx.progress(`${name}: ${describeTrial(record)}`);
      await restore();
    }, recover);
  };

  for (let i = 0; i < trials.service; i++) {
    await trial('service', () => arp.killService('ch'), () => arp.startService('ch'));
  }
  for (let i = 0; i < trials.host; i++) {
    await trial('host', async () => {
      await Promise.all([lab.segment.ip(['link', 'set', 'dev', port, 'down']), lab.killAgent('ch'), arp.killService('ch')]);
    }, async () => {
      // The agent first, while CH is still off the segment: a restarted agent removes the
      // address its predecessor left before anything else, so CH's stale copy never meets
      // the segment again.
      await arp.startService('ch');
      await lab.startAgent('ch');
      await lab.segment.ip(['link', 'set', 'dev', port, 'up']);
    });
  }
  for (let i = 0; i < trials.agent; i++) {
    await trial('agent', () => lab.killAgent('ch'), async () => void (await lab.startAgent('ch')));
  }
  await waitServedBy(b, 'ch');
  return out;
}

/** The lab's agents' settings, restated for the bounds and the results file. */
export const QUORATE_ARP_SETTINGS = {
  checkInterval: ms(100), checkTimeout: ms(100), rise: 2, fall: 2,
  heartbeatInterval: ms(100), deadAfter: ms(300),
  lifetime: ms(2000),
  priorities: { ch: 300, ny: 200, nj: 100 },
  nodes: { ch: SITE.ch.node, ny: SITE.ny.node, nj: SITE.nj.node },
} as const;

/** Log lines as `+T ms msg`, a run of the same msg written once with its count and span (a probe series every ~20 ms otherwise fills pages). */
function collapseRepeats(lines: readonly { at: string; msg: string; took: string }[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1]!.msg === lines[i]!.msg) j++;
    const line = lines[i]!;
    out.push(j === i ? `${line.at} ${line.msg}${line.took}` : `${line.at} … ${lines[j]!.at} ${line.msg} (×${j - i + 1})`);
    i = j + 1;
  }
  return out;
}
