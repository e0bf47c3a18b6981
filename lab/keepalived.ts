/**
 * keepalived (Debian 2.2.7) as the baseline the ARP benchmark compares quorate with: one
 * daemon per server namespace, moving the service address by VRRPv3 at its fastest settings
 * (lab/keepalived-config.ts). Note: keepalived's health-check interval is whole seconds, so
 * a service death takes up to a second (plus the check itself) to notice; VRRP itself fails
 * over within a few 10 ms adverts.
 *
 * How it runs: `ip netns exec NS keepalived --dont-fork --vrrp --log-console --no-syslog
 * --use-file CONF --pid P --vrrp_pid V --checkers_pid C --bfd_pid B`. Everything lives in a
 * temp dir of the lab (never /run/keepalived/ or /etc/keepalived/): two instances in two
 * namespaces share no file, and none touches a system keepalived. `--vrrp` runs only the
 * VRRP subsystem (no IPVS checker). Even with `--dont-fork` keepalived forks one VRRP child
 * (its PID in the vrrp pid file); the parent only supervises it.
 *
 * Two ways to kill it, because they differ in what happens to the address:
 * - `kill()`: SIGKILL the parent. The child is told by the kernel (parent-death signal) and
 *   shuts down cleanly: removes the address and sends a priority-0 advert, so the backup
 *   takes over at once. Like `systemctl stop` rather than a crash.
 * - `crash()`: freeze the parent (SIGSTOP, so it cannot respawn the child), SIGKILL the child,
 *   then SIGKILL the parent. The address stays on the interface with nobody to remove it:
 *   the backup takes over after 3 missed adverts and both hosts hold the address (the split
 *   brain the issue measures).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ms, type Millis } from '../src/core/duration.js';
import { epochNow, type EpochMillis } from './arp-clock.js';
import { keepalivedConfig, type KeepalivedCheck, type KeepalivedVip } from './keepalived-config.js';
import type { Lab, Namespace } from './netns.js';
import type { LabProcess } from './process.js';
import { waitUntil } from './wait.js';

export interface KeepalivedOptions {
  /** Default `eth0`. */
  interface?: string;
  vip: KeepalivedVip;
  priority: number;
  virtualRouterId: number;
  /** Unicast peers (bare addresses); default VRRP multicast. */
  peers?: readonly string[];
  /** Checked with curl every `scriptInterval` seconds. */
  checkUrl?: string;
  /** A shell command instead of a URL (exit 0 = healthy). */
  checkScript?: string;
  /** Seconds as keepalived writes it; default `0.01`. */
  advertInterval?: string;
  /** Whole seconds; default 1 (keepalived's fastest). */
  scriptInterval?: number;
  preempt?: boolean;
  garpRepeat?: number;
  garpRefresh?: number;
  /** router_id and label; default the namespace's short name. */
  name?: string;
  /** Default 10 s. */
  startTimeout?: Millis;
}

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

/** A state change as logged by keepalived, stamped on arrival with the lab clock. */
export interface StateChange {
  at: EpochMillis;
  state: VrrpState;
}

export interface KeepalivedInstance {
  readonly name: string;
  readonly process: LabProcess;
  /** The supervising parent (the spawned process). */
  readonly pid: number;
  readonly configPath: string;
  readonly dir: string;
  /** The VRRP child's PID (read from its pid file). */
  vrrpPid(): Promise<number>;
  /** State changes so far, in order. */
  states(): readonly StateChange[];
  /** The latest state; undefined before the first. */
  state(): VrrpState | undefined;
  /** Resolves once keepalived logs entering `state` (at or after `since`). */
  waitForState(state: VrrpState, timeout: Millis, since?: EpochMillis): Promise<StateChange>;
  /** SIGKILL the parent: the child then stops cleanly and releases the address. */
  kill(): Promise<void>;
  /** Parent frozen, child and parent SIGKILLed: the address stays behind. */
  crash(): Promise<void>;
  /** SIGTERM (clean stop, address released), SIGKILL after a grace period. */
  stop(): Promise<void>;
}

const STATE_RE = /\(\w+\) Entering (INIT|BACKUP|MASTER|FAULT|STOP) STATE/;

/** Starts keepalived in `ns`; resolves once it has started its VRRP child. Stopped at lab teardown. */
export async function startKeepalived(lab: Lab, ns: Namespace, options: KeepalivedOptions): Promise<KeepalivedInstance> {
  const name = options.name ?? ns.name.slice(lab.prefix.length + 1);
  const dir = await lab.tempDir(`keepalived-${name}`);
  const configPath = join(dir, 'keepalived.conf');
  let check: KeepalivedCheck | undefined;
  if (options.checkUrl) check = { url: options.checkUrl };
  else if (options.checkScript) check = { script: options.checkScript };
  await writeFile(configPath, keepalivedConfig({
    name, interface: options.interface ?? 'eth0', vip: options.vip, priority: options.priority, virtualRouterId: options.virtualRouterId,
    ...(options.peers ? { peers: options.peers } : {}), ...(check ? { check } : {}),
    ...(options.advertInterval ? { advertInterval: options.advertInterval } : {}),
    ...(options.scriptInterval !== undefined ? { scriptInterval: options.scriptInterval } : {}),
    ...(options.preempt !== undefined ? { preempt: options.preempt } : {}),
    ...(options.garpRepeat !== undefined ? { garpRepeat: options.garpRepeat } : {}),
    ...(options.garpRefresh !== undefined ? { garpRefresh: options.garpRefresh } : {}),
  }));
  const vrrpPidFile = join(dir, 'vrrp.pid');
  const proc = await lab.spawn(ns, `keepalived-${name}`, 'keepalived', [
    '--dont-fork', '--vrrp', '--log-console', '--no-syslog', '--use-file', configPath,
    '--pid', join(dir, 'keepalived.pid'), '--vrrp_pid', vrrpPidFile, '--checkers_pid', join(dir, 'checkers.pid'), '--bfd_pid', join(dir, 'bfd.pid'),
  ]);
  const changes: StateChange[] = [];
  const listeners = new Set<() => void>();
  for (const stream of [proc.child.stdout, proc.child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      const match = STATE_RE.exec(line);
      if (!match) return;
      changes.push({ at: epochNow(), state: match[1] as VrrpState });
      for (const notify of [...listeners]) notify();
    });
  }
  await proc.waitForOutput(/Starting VRRP child process, pid=\d+/, options.startTimeout ?? ms(10_000));

  const vrrpPid = async (): Promise<number> => {
    const pid = await waitUntil(async () => {
      const n = Number((await readFile(vrrpPidFile, 'utf8')).trim());
      return Number.isInteger(n) && n > 0 ? n : undefined;
    }, { timeout: ms(5000), what: `${vrrpPidFile}` });
    return pid;
  };
  const instance: KeepalivedInstance = {
    name, process: proc, pid: proc.pid, configPath, dir,
    vrrpPid,
    states: () => changes,
    state: () => changes[changes.length - 1]?.state,
    waitForState: (state, timeout, since) => new Promise((resolve, reject) => {
      const check = (): void => {
        const found = changes.find((c) => c.state === state && (since === undefined || c.at >= since));
        if (found) finish(() => resolve(found));
        else if (!proc.running) finish(() => reject(new Error(`keepalived ${name} exited before entering ${state}:\n${proc.output()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`keepalived ${name}: not ${state} within ${timeout} ms:\n${proc.output()}`))), timeout);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      proc.exited.then(check, check);
      check();
    }),
    kill: async () => {
      proc.kill('SIGKILL');
      await proc.exited;
    },
    crash: async () => {
      const child = await vrrpPid();
      proc.kill('SIGSTOP');
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        // Already gone.
      }
      proc.kill('SIGKILL');
      await proc.exited;
    },
    stop: async () => void (await proc.stop()),
  };
  return instance;
}
