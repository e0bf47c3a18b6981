/**
 * Starting, killing and restarting the demo service (lab/service-main.ts) by PID, inside a
 * namespace or in the test's own one.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Millis } from '../src/core/duration.js';
import type { Lab, Namespace } from './netns.js';
import type { LabProcess } from './process.js';

export interface ServiceOptions {
  /** Address to bind (an address of the namespace, or 127.0.0.1). */
  host: string;
  /** 0 picks a free port; `port` on the instance tells which. */
  port: number;
  /** What `GET /` answers, e.g. the node's name. */
  body: string;
  /** Default 10 s. */
  startTimeout?: Millis;
}

export interface ServiceInstance {
  readonly process: LabProcess;
  readonly pid: number;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** `http://HOST:PORT` */
  readonly url: string;
  /** Makes /healthz answer 503 (SIGUSR1) while the process keeps running. */
  failHealth(): void;
  /** Makes /healthz answer 200 again (SIGUSR2). */
  restoreHealth(): void;
  /** SIGKILL by PID: the service dies as in a crash. Resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
  /** Stops it (if running) and starts a new process with the same options and port. */
  restart(): Promise<ServiceInstance>;
}

/** The compiled entry point; the lab runs compiled code, so `npx tsc` must have run. */
export function serviceScriptPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  // From lab/ (vitest runs sources) or dist/lab/ (the demo runs compiled code): find the root.
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the project root above lab/service.ts');
    dir = up;
  }
  const script = join(dir, 'dist', 'lab', 'service-main.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: build first (npx tsc -p tsconfig.json)`);
  return script;
}

/** Starts the service and resolves once it listens. The lab stops it at teardown. */
export async function startService(lab: Lab, ns: Namespace | undefined, options: ServiceOptions): Promise<ServiceInstance> {
  const listen = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  const args = [serviceScriptPath(), '--listen', listen, '--body', options.body];
  const proc = await lab.spawn(ns, 'service', process.execPath, args);
  const match = await proc.waitForOutput(/^listening (.*):(\d+)$/m, options.startTimeout ?? (10_000 as Millis));
  const port = Number(match[2]);
  const url = `http://${match[1]}:${port}`;
  const instance: ServiceInstance = {
    process: proc,
    pid: proc.pid,
    port,
    url,
    failHealth: () => void proc.kill('SIGUSR1'),
    restoreHealth: () => void proc.kill('SIGUSR2'),
    kill: async () => {
      proc.kill('SIGKILL');
      await proc.exited;
    },
    stop: async () => void (await proc.stop()),
    restart: async () => {
      await proc.stop();
      return startService(lab, ns, { ...options, port });
    },
  };
  return instance;
}
