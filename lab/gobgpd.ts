/**
 * A plain gobgpd in a lab namespace (not the agent's own): its API on a private unix socket,
 * pprof off, and the `gobgp` CLI pointed at it. Tests use it to play the speaker directly,
 * benchmarks to build a baseline.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Millis } from '../src/core/duration.js';
import { gobgpdConfig, type GobgpdConfigOptions } from './gobgpd-config.js';
import { run, type Lab, type Namespace, type RunResult } from './netns.js';
import type { LabProcess } from './process.js';
import { waitUntil } from './wait.js';

export interface GobgpdInstance {
  process: LabProcess;
  configPath: string;
  /** gRPC target for clients: `unix:///…/gobgpd.sock`. */
  apiTarget: string;
  /** Runs `gobgp --target … ARGS` (the CLI talks over the socket, so no namespace needed). */
  cli(args: readonly string[]): Promise<RunResult>;
  stop(): Promise<void>;
}

/** Starts gobgpd in `ns` and waits until its API answers. */
export async function startGobgpd(
  lab: Lab,
  ns: Namespace,
  options: GobgpdConfigOptions & { startTimeout?: Millis; /** Reuse a socket path (a restart clients reconnect to). */ apiSocketPath?: string },
): Promise<GobgpdInstance> {
  const dir = await lab.tempDir('gobgpd');
  const configPath = join(dir, 'gobgpd.toml');
  const apiTarget = `unix://${options.apiSocketPath ?? join(dir, 'gobgpd.sock')}`;
  await writeFile(configPath, gobgpdConfig(options));
  const proc = await ns.spawn('gobgpd', 'gobgpd', ['-f', configPath, '--api-hosts', apiTarget, '--pprof-disable', '--log-plain']);
  const cli = (args: readonly string[]): Promise<RunResult> => run('gobgp', ['--target', apiTarget, ...args]);
  await proc.untilReady(
    waitUntil(() => cli(['global']), { timeout: options.startTimeout ?? (10_000 as Millis), what: `gobgpd API at ${apiTarget}` }),
    `its API answered at ${apiTarget}`,
  );
  return { process: proc, configPath, apiTarget, cli, stop: async () => void (await proc.stop()) };
}
