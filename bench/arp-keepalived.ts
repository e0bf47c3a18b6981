/**
 * The keepalived half of the ARP benchmark, on the same namespaces after the quorate agents
 * stopped: keepalived 2.2.7 (Debian) at every site, VRRPv3, `advert_int 0.01`, one
 * `vrrp_script` per site run every second (keepalived's fastest: its interval is whole
 * seconds) that connects to whoami's health port, as the agents' tcp check does. Priorities
 * CH 250 > NY 200 > NJ 100 (keepalived stops at 254), so CH is master and NY takes over.
 * The same faults, plus the two ways keepalived can die (lab/keepalived.ts):
 *   service      SIGKILL of CH's whoami;
 *   host         CH's bridge port down, keepalived (parent and VRRP child) and whoami SIGKILLed;
 *   agent-kill   SIGKILL of keepalived's parent: its VRRP child releases the address cleanly
 *                (like `systemctl stop`);
 *   agent-crash  parent and child SIGKILLed: the address stays on CH with nobody to remove it.
 * A restore removes any copy CH was left with, brings back what the fault took, and waits
 * until CH holds again and answers.
 */
import { ms } from '../src/core/duration.js';
import { epochNow } from '../lab/arp-clock.js';
import { VIP_V4, VIP_V6, WHOAMI_HEALTH_PORT } from '../lab/cluster-lab-arp.js';
import type { Site } from '../lab/cluster-lab.js';
import { startKeepalived, type KeepalivedInstance } from '../lab/keepalived.js';
import type { BenchContext } from './context.js';
import { describeTrial, guardedTrial, measureTakeover, randomPhase, waitServedBy, type ArpBenchLab, type TakeoverRecord, type TrialFailure } from './arp-trial.js';

export type KeepalivedCase = 'service' | 'host' | 'agent-kill' | 'agent-crash';

export const KEEPALIVED_PRIORITY: Record<Site, number> = { ch: 250, ny: 200, nj: 100 };
export const KEEPALIVED_VRID = 51;
/** The health check: a TCP connect to whoami's health port, by bash alone (exit 0 = connected). */
export const KEEPALIVED_CHECK = `/bin/bash -c 'exec 3<>/dev/tcp/127.0.0.1/${WHOAMI_HEALTH_PORT}'`;

const OBSERVE = { service: ms(100), host: ms(100), 'agent-kill': ms(500), 'agent-crash': ms(500) } as const;

export interface KeepalivedArpRun {
  trials: Record<KeepalivedCase, TakeoverRecord[]>;
  failures: TrialFailure[];
}

export async function runKeepalivedArp(b: ArpBenchLab, ctx: BenchContext, trials: Record<KeepalivedCase, number>): Promise<KeepalivedArpRun> {
  const { lab, arp } = b;
  const out: Record<KeepalivedCase, TakeoverRecord[]> = { service: [], host: [], 'agent-kill': [], 'agent-crash': [] };
  const failures: TrialFailure[] = [];
  const daemons = {} as Record<Site, KeepalivedInstance>;
  const start = async (site: Site): Promise<void> => {
    daemons[site] = await startKeepalived(lab.lab, lab.sites[site].ns, {
      name: site, vip: { v4: VIP_V4, v6: VIP_V6 }, priority: KEEPALIVED_PRIORITY[site], virtualRouterId: KEEPALIVED_VRID,
      checkScript: KEEPALIVED_CHECK, scriptInterval: 1, advertInterval: '0.01',
    });
  };
  /** What a crashed keepalived leaves on CH: nobody else would ever remove it. */
  const removeLeftovers = async (site: Site = 'ch'): Promise<void> => {
    const ns = lab.sites[site].ns;
    await ns.ip(['addr', 'del', `${VIP_V4}/32`, 'dev', 'eth0'], { allowFailure: true });
    await ns.ip(['addr', 'del', `${VIP_V6}/128`, 'dev', 'eth0'], { allowFailure: true });
  };
  /** keepalived's view, for a failure message: every site's latest VRRP states and whether it runs. */
  const diagnose = (): string => lab.members.map((s) => {
    const d = daemons[s];
    return `${s}: keepalived ${d.process.running ? 'running' : 'exited'}, states ${d.states().slice(-3).map((c) => c.state).join('→') || 'none'}`;
  }).join('; ');
  /** After a failed trial: every keepalived stopped, every copy of the address removed, everything started again. */
  const recover = async (): Promise<void> => {
    for (const s of lab.members) if (daemons[s].process.running) await daemons[s].stop();
    for (const s of lab.members) await removeLeftovers(s);
    await lab.segment.ip(['link', 'set', 'dev', 'p-ch', 'up']);
    if (!arp.whoami.ch.process.running) await arp.startService('ch');
    for (const s of lab.members) await start(s);
  };
  for (const site of lab.members) await start(site);

  const trial = async (kind: KeepalivedCase, fault: () => Promise<void>, restore: () => Promise<void>): Promise<void> => {
    await waitServedBy(b, 'ch');
    // Over a whole script interval: the kill lands anywhere in keepalived's 1 s check schedule.
    await randomPhase(ms(300), kind === 'service' ? ms(1000) : ms(100));
    const name = `arp keepalived ${kind} ${out[kind].length + 1}/${trials[kind]}`;
    await guardedTrial(name, failures, ctx, async () => {
      const faultAt = epochNow();
      await fault();
      const record = await measureTakeover(b, faultAt, 'ch', OBSERVE[kind], diagnose);
      out[kind].push(record);
      ctx.progress(`${name}: ${describeTrial(record)}`);
      await restore();
    }, recover);
  };

  for (let i = 0; i < trials.service; i++) {
    await trial('service', () => arp.killService('ch'), () => arp.startService('ch'));
  }
  for (let i = 0; i < trials.host; i++) {
    await trial('host', async () => {
      await Promise.all([lab.segment.ip(['link', 'set', 'dev', 'p-ch', 'down']), daemons.ch.crash(), arp.killService('ch')]);
    }, async () => {
      await removeLeftovers();
      await lab.segment.ip(['link', 'set', 'dev', 'p-ch', 'up']);
      await arp.startService('ch');
      await start('ch');
    });
  }
  for (let i = 0; i < trials['agent-kill']; i++) {
    await trial('agent-kill', () => daemons.ch.kill(), () => start('ch'));
  }
  for (let i = 0; i < trials['agent-crash']; i++) {
    await trial('agent-crash', () => daemons.ch.crash(), async () => {
      await removeLeftovers();
      await start('ch');
    });
  }
  await waitServedBy(b, 'ch');
  for (const site of lab.members) await daemons[site].stop();
  return { trials: out, failures };
}
