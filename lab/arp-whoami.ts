/**
 * Starting the whoami service (lab/arp-whoami-main.ts) inside a server namespace, by PID.
 * The service binds the service addresses before the node holds them, which the kernel
 * allows only with `ip_nonlocal_bind`; both sysctls are per network namespace (checked on
 * this kernel: setting them in a lab namespace leaves the host's at 0), so this sets them
 * in `ns` only.
 */
import type { Millis } from '../src/core/duration.js';
import { compiledLabScript } from './arp-compiled-script.js';
import type { Lab, Namespace } from './netns.js';
import type { LabProcess } from './process.js';

export interface WhoamiOptions {
  /** The service addresses it answers on (bare addresses, IPv4 and/or IPv6). */
  addresses: readonly string[];
  /** UDP port, the same on every node. */
  port: number;
  /** The name it answers with: the node's name. */
  name: string;
  /** A TCP port on 127.0.0.1 that accepts while whoami lives: the agent's `tcp` check. */
  healthPort?: number;
  /** Default 10 s. */
  startTimeout?: Millis;
}

export interface WhoamiInstance {
  readonly process: LabProcess;
  readonly pid: number;
  readonly name: string;
  /** SIGKILL by PID, as in a crash; resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

/** Lets processes in `ns` bind addresses the namespace does not (yet) have. */
export async function allowNonlocalBind(ns: Namespace): Promise<void> {
  await ns.exec('sysctl', ['-q', '-w', 'net.ipv4.ip_nonlocal_bind=1', 'net.ipv6.ip_nonlocal_bind=1']);
}

/** Starts whoami in `ns` and resolves once every socket is bound. The lab stops it at teardown. */
export async function startWhoami(lab: Lab, ns: Namespace, options: WhoamiOptions): Promise<WhoamiInstance> {
  await allowNonlocalBind(ns);
  const args = [compiledLabScript('arp-whoami-main.js'), '--name', options.name, '--port', String(options.port),
    ...options.addresses.flatMap((a) => ['--address', a]),
    ...(options.healthPort !== undefined ? ['--health-port', String(options.healthPort)] : [])];
  const proc = await lab.spawn(ns, `whoami-${options.name}`, process.execPath, args);
  await proc.waitForOutput(/^ready$/m, options.startTimeout ?? (10_000 as Millis));
  return {
    process: proc,
    pid: proc.pid,
    name: options.name,
    kill: async () => {
      proc.kill('SIGKILL');
      await proc.exited;
    },
    stop: async () => void (await proc.stop()),
  };
}
