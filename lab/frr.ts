/**
 * FRR (8.4, Debian) as a lab router: zebra plus ospfd and/or bgpd inside one namespace, with
 * every path of its own in a temp dir of the lab, so several instances run side by side and
 * none touches the host's FRR (/etc/frr, /var/run/frr):
 *
 *   --vty_socket DIR   the daemons' vty sockets (vtysh finds them there)
 *   -z DIR/zserv.api   zebra's socket, which ospfd and bgpd connect to
 *   -i DIR/NAME.pid    pid files
 *   -f /dev/null       no config read by the daemons themselves: the router's frr.conf (an
 *                      integrated config) is applied through vtysh once all daemons run, as
 *                      Debian's frrinit does with `vtysh -b`. Given to each daemon, the
 *                      integrated file makes each complain about every other daemon's lines.
 *   -P 0               no TCP vty
 *   -u frr -g frr      FRR refuses root unless root is in its vty group; the dir is chowned
 *   --config_dir DIR   (vtysh) an empty vtysh.conf of our own instead of the host's
 *
 * `-N pathspace` would do the same with /etc/frr/NAME and /var/run/frr/NAME: host paths.
 *
 * FRR keeps a crash-log dir /var/tmp/frr/DAEMON.PID while a daemon runs (not configurable)
 * and removes it on a clean exit; after a SIGKILL it stays, so stop() removes the dirs of the
 * PIDs it started, and only those.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ms, type Millis } from '../src/core/duration.js';
import type { Lab, Namespace } from './netns.js';
import { run } from './netns.js';
import type { LabProcess } from './process.js';
import type { FrrDaemon } from './routed-lab-topology.js';
import { waitUntil } from './wait.js';

const FRR_BIN = '/usr/lib/frr';
/** Where FRR keeps its per-daemon crash-log dirs (lib/zlog.c, fixed at build time). */
const FRR_TMP_BASE = '/var/tmp/frr';

export interface StartFrrOptions {
  /** For labels and the temp dir's name. */
  name: string;
  /** The router's integrated frr.conf. */
  configFile: string;
  /** zebra is started first whether listed or not. */
  daemons: readonly FrrDaemon[];
  /** How long the daemons may take to open their vty sockets. Default 15 s. */
  startTimeout?: Millis;
}

export class FrrInstance {
  private constructor(
    readonly name: string,
    readonly ns: Namespace,
    /** The instance's own state dir: vty sockets, zserv.api, pid files, vtysh.conf. */
    readonly dir: string,
    readonly processes: ReadonlyMap<FrrDaemon, LabProcess>,
  ) {}

  /** Starts the daemons in `ns`, applies the config, and resolves once every daemon answers. */
  static async start(lab: Lab, ns: Namespace, options: StartFrrOptions): Promise<FrrInstance> {
    const dir = await lab.tempDir(`frr-${options.name}`);
    await writeFile(join(dir, 'vtysh.conf'), '');
    // The daemons drop to user frr and create their sockets here.
    await run('chown', ['frr:frr', dir]);
    const processes = new Map<FrrDaemon, LabProcess>();
    const instance = new FrrInstance(options.name, ns, dir, processes);
    // Cleanups run before the lab stops its processes: stop FRR here, so its dirs go too.
    lab.onTeardown(() => instance.stop());
    const order: FrrDaemon[] = ['zebra', ...options.daemons.filter((d) => d !== 'zebra')];
    const timeout = options.startTimeout ?? ms(15_000);
    for (const daemon of order) {
      const proc = await ns.spawn(`${daemon}-${options.name}`, join(FRR_BIN, daemon), [
        '-f', '/dev/null',
        '-i', join(dir, `${daemon}.pid`),
        '-z', join(dir, 'zserv.api'),
        '--vty_socket', dir,
        '-P', '0',
        '-u', 'frr', '-g', 'frr',
        '--log', 'stdout',
      ]);
      processes.set(daemon, proc);
      // zebra must listen before the others connect; each must answer before the config goes in.
      await proc.untilReady(
        waitUntil(() => instance.vtysh(['show version'], daemon).then(() => true), { timeout, what: `${daemon} of ${options.name} answering vtysh` }),
        'answering vtysh',
      );
    }
    await instance.vtyshFile(options.configFile);
    return instance;
  }

  /**
   * Runs vtysh commands (each `-c`) against this instance, or one daemon of it; returns the
   * output. Throws on a command FRR rejects.
   */
  async vtysh(commands: readonly string[], daemon?: FrrDaemon): Promise<string> {
    const args = [...this.vtyshBase(), ...(daemon ? ['-d', daemon] : []), ...commands.flatMap((c) => ['-c', c])];
    const { stdout } = await run('vtysh', args, { timeout: ms(10_000) });
    return stdout;
  }

  /** A `show … json` command, parsed. */
  async json<T>(command: string): Promise<T> {
    const out = await this.vtysh([command]);
    return JSON.parse(out.trim() || '{}') as T;
  }

  /** Applies a config file through vtysh (each line goes to the daemon that owns it). */
  async vtyshFile(path: string): Promise<void> {
    await run('vtysh', [...this.vtyshBase(), '-f', path], { timeout: ms(10_000) });
  }

  /** SIGTERM every daemon (zebra last: it removes its routes as it goes), then SIGKILL. */
  async stop(): Promise<void> {
    const others = [...this.processes].filter(([d]) => d !== 'zebra').map(([, p]) => p);
    await Promise.all(others.map((p) => p.stop(ms(3000))));
    await this.processes.get('zebra')?.stop(ms(3000));
    await this.removeCrashDirs();
  }

  /** The crash-log dirs of the daemons this instance started (by name and PID, nothing else). */
  private async removeCrashDirs(): Promise<void> {
    for (const [daemon, proc] of this.processes) {
      if (proc.running) continue;
      await rm(join(FRR_TMP_BASE, `${daemon}.${proc.pid}`), { recursive: true, force: true });
    }
  }

  private vtyshBase(): string[] {
    return ['--config_dir', this.dir, '--vty_socket', this.dir];
  }
}
