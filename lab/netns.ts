/**
 * Network namespaces for labs and tests: namespaces, veth pairs, addresses, and a `Lab`
 * that remembers everything it made so that one `teardown()` removes it all, even after a
 * failed test (and, as a last resort, when the test process exits without tearing down).
 *
 * Names carry a per-file prefix `qt-<tag>-<pid>-…` so that test files running in parallel
 * never collide, and so that leftovers of a crashed run can be recognised and swept.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIPv6 } from 'node:net';
import type { Millis } from '../src/core/duration.js';
import { LabProcess, type SpawnOptions } from './process.js';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  /** Return a non-zero exit as a result instead of throwing. */
  allowFailure?: boolean;
  timeout?: Millis;
  env?: Record<string, string>;
}

/** Runs a command to completion. Throws (with its stderr) on a non-zero exit unless allowed. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        timeout: options.timeout ?? 30_000,
        maxBuffer: 64 * 1024 * 1024,
        env: options.env ? { ...process.env, ...options.env } : process.env,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        if (error && !options.allowFailure) {
          reject(new Error(`${command} ${args.join(' ')} failed (${error.message.split('\n')[0]}): ${stderr.trim()}`));
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
  });
}

/** Tags become part of interface-independent names; keep them short and shell-safe. */
const TAG_RE = /^[a-z0-9][a-z0-9-]{0,15}$/;
/** Linux limits interface names to 15 bytes (IFNAMSIZ − 1). */
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

/** One network namespace the lab created. */
export class Namespace {
  constructor(
    readonly lab: Lab,
    /** The full name, as `ip netns` knows it. */
    readonly name: string,
  ) {}

  /** Runs a command inside this namespace (`ip netns exec NAME …`). */
  exec(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  /** `ip …` inside this namespace (`ip -n NAME …`), which needs no exec. */
  ip(args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return run('ip', ['-n', this.name, ...args], options);
  }

  /**
   * Starts a long-running process inside this namespace and records it with the lab, so
   * teardown stops it. `ip netns exec` execs the command, so the PID is the daemon's own.
   */
  spawn(label: string, command: string, args: readonly string[], options?: SpawnOptions): Promise<LabProcess> {
    return this.lab.spawn(this, label, command, args, options);
  }

  async linkUp(device: string): Promise<void> {
    await this.ip(['link', 'set', 'dev', device, 'up']);
  }

  /**
   * Adds `address/len` to a device. IPv6 addresses get `nodad`: duplicate address detection
   * would keep them unusable for a second or two.
   */
  async addAddress(device: string, cidr: string): Promise<void> {
    const address = cidr.split('/')[0] ?? '';
    const extra = isIPv6(address) ? ['nodad'] : [];
    await this.ip(['addr', 'add', cidr, 'dev', device, ...extra]);
  }

  /**
   * A Linux bridge in this namespace: one Ethernet segment that several namespaces join
   * through veths (`VethEnd.bridge`). The `dummy` link type is missing on these kernels;
   * bridges and veths are not.
   */
  async addBridge(name: string): Promise<void> {
    if (!IFNAME_RE.test(name)) throw new Error(`bridge name "${name}" must be 1–15 characters`);
    await this.ip(['link', 'add', 'name', name, 'type', 'bridge']);
    await this.linkUp(name);
  }

  async deleteAddress(device: string, cidr: string): Promise<void> {
    await this.ip(['addr', 'del', cidr, 'dev', device]);
  }

  /** Adds a route inside the namespace, e.g. `addRoute('203.0.113.0/24', 'via', '192.0.2.1')`. */
  async addRoute(...spec: string[]): Promise<void> {
    await this.ip(['route', 'add', ...spec]);
  }

  /** PIDs of every process currently inside this namespace. */
  async pids(): Promise<number[]> {
    const { stdout } = await run('ip', ['netns', 'pids', this.name], { allowFailure: true });
    return parsePids(stdout);
  }
}

/** One end of a veth pair: its namespace, its interface name there, its addresses. */
export interface VethEnd {
  ns: Namespace;
  /** Interface name inside `ns` (≤ 15 characters). Only needs to be unique inside `ns`. */
  device: string;
  /** `address/len`, IPv4 or IPv6. */
  addresses?: string[];
  /** Enslave this end to a bridge of `ns` (made with `addBridge`). */
  bridge?: string;
}

/**
 * Everything one test file (or one demo run) made: namespaces, processes, temp dirs.
 * Create one per file with `Lab.create('tag')`, call `teardown()` in `afterAll`.
 */
export class Lab {
  /** `qt-<tag>-<pid>`: the start of every namespace name this lab makes. */
  readonly prefix: string;
  private readonly namespaceList: Namespace[] = [];
  private readonly processList: LabProcess[] = [];
  private readonly dirList: string[] = [];
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private tornDown = false;
  private readonly exitGuard = (): void => this.teardownSync();

  private constructor(readonly tag: string) {
    this.prefix = `qt-${tag}-${process.pid}`;
    process.once('exit', this.exitGuard);
  }

  /**
   * A new lab. First removes what a crashed earlier run with the same tag left behind
   * (namespaces `qt-<tag>-<pid>-…` whose pid no longer runs) so stale state cannot make a
   * test fail, or pass, by accident.
   */
  static async create(tag: string): Promise<Lab> {
    if (!TAG_RE.test(tag)) throw new Error(`lab tag "${tag}" must match ${TAG_RE}`);
    await sweepStaleNamespaces(tag);
    return new Lab(tag);
  }

  /** Creates a lab and builds on it with `build`; when building fails, the lab is removed. */
  static async build<T>(tag: string, build: (lab: Lab) => Promise<T>): Promise<T> {
    const lab = await Lab.create(tag);
    try {
      return await build(lab);
    } catch (err) {
      await lab.teardown();
      throw err;
    }
  }

  /** The namespaces this lab made and has not yet removed. */
  get namespaces(): readonly Namespace[] {
    return this.namespaceList;
  }

  get processes(): readonly LabProcess[] {
    return this.processList;
  }

  /** Creates namespace `<prefix>-<short>` with its loopback up. */
  async namespace(short: string): Promise<Namespace> {
    this.assertOpen();
    if (!/^[a-z0-9-]{1,20}$/.test(short)) throw new Error(`namespace name "${short}" must be short, lower case`);
    const ns = new Namespace(this, `${this.prefix}-${short}`);
    await run('ip', ['netns', 'add', ns.name]);
    this.namespaceList.push(ns);
    await ns.linkUp('lo');
    return ns;
  }

  /**
   * A veth pair between two namespaces, created directly inside them (so the names only need
   * to be unique per namespace), with addresses added and both ends up.
   */
  async veth(a: VethEnd, b: VethEnd): Promise<void> {
    this.assertOpen();
    for (const end of [a, b]) {
      if (!IFNAME_RE.test(end.device)) throw new Error(`interface name "${end.device}" must be 1–15 characters`);
    }
    await run('ip', ['link', 'add', a.device, 'netns', a.ns.name, 'type', 'veth', 'peer', 'name', b.device, 'netns', b.ns.name]);
    for (const end of [a, b]) {
      if (end.bridge) await end.ns.ip(['link', 'set', 'dev', end.device, 'master', end.bridge]);
      for (const cidr of end.addresses ?? []) await end.ns.addAddress(end.device, cidr);
      await end.ns.linkUp(end.device);
    }
  }

  /** Starts a process (inside `ns`, or in the test's own namespace when `ns` is undefined). */
  async spawn(ns: Namespace | undefined, label: string, command: string, args: readonly string[], options?: SpawnOptions): Promise<LabProcess> {
    this.assertOpen();
    const proc = ns
      ? await LabProcess.start(`${label}@${ns.name}`, 'ip', ['netns', 'exec', ns.name, command, ...args], options)
      : await LabProcess.start(label, command, args, options);
    this.processList.push(proc);
    return proc;
  }

  /** Records a process started elsewhere (e.g. by a helper) so teardown stops it too. */
  adopt(proc: LabProcess): LabProcess {
    this.processList.push(proc);
    return proc;
  }

  /** A fresh temporary directory, removed at teardown. */
  async tempDir(purpose: string): Promise<string> {
    this.assertOpen();
    const dir = await mkdtemp(join(tmpdir(), `${this.prefix}-${purpose}-`));
    this.dirList.push(dir);
    return dir;
  }

  /** Extra cleanup, run first at teardown (last registered runs first). */
  onTeardown(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup);
  }

  /**
   * Removes everything, in dependency order: extra cleanups, then the processes it started
   * (SIGTERM, SIGKILL after a grace period), then anything else still inside its namespaces,
   * then the namespaces (which takes their veths with them), then temp dirs. Never throws
   * halfway: every step runs, and the errors are reported together at the end.
   */
  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    process.removeListener('exit', this.exitGuard);
    const errors: string[] = [];
    const attempt = async (what: string, step: () => Promise<unknown> | unknown): Promise<void> => {
      try {
        await step();
      } catch (err) {
        errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    for (const cleanup of [...this.cleanups].reverse()) await attempt('cleanup', cleanup);
    await Promise.all(this.processList.map((p) => attempt(`stop ${p.label}`, () => p.stop(2000 as Millis))));
    for (const ns of [...this.namespaceList].reverse()) {
      // Children of our daemons (a health-check script, say) live on in the namespace.
      await attempt(`kill leftovers in ${ns.name}`, async () => killPids(await ns.pids()));
      await attempt(`delete ${ns.name}`, () => run('ip', ['netns', 'del', ns.name]));
    }
    this.namespaceList.length = 0;
    for (const dir of this.dirList) await attempt(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
    if (errors.length) throw new Error(`lab teardown incomplete:\n${errors.join('\n')}`);
  }

  /** The exit-time safety net: no awaiting possible, so kill hard and delete synchronously. */
  private teardownSync(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    for (const p of this.processList) p.kill('SIGKILL');
    for (const ns of this.namespaceList) {
      try {
        killPids(parsePids(execFileSync('ip', ['netns', 'pids', ns.name], { encoding: 'utf8' })));
        execFileSync('ip', ['netns', 'del', ns.name], { stdio: 'ignore' });
      } catch {
        // Exiting anyway: a later Lab.create with the same tag sweeps what is left.
      }
    }
    for (const dir of this.dirList) rmSync(dir, { recursive: true, force: true });
  }

  private assertOpen(): void {
    if (this.tornDown) throw new Error(`lab ${this.prefix} has been torn down`);
  }
}

/** Every namespace name `ip netns list` shows. */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.length > 0);
}

async function sweepStaleNamespaces(tag: string): Promise<void> {
  const pattern = new RegExp(`^qt-${tag}-(\\d+)-`);
  for (const name of await listNamespaces()) {
    const owner = pattern.exec(name)?.[1];
    if (owner === undefined || isAlive(Number(owner))) continue;
    const { stdout } = await run('ip', ['netns', 'pids', name], { allowFailure: true });
    killPids(parsePids(stdout));
    await run('ip', ['netns', 'del', name], { allowFailure: true });
  }
}

/** Whether a process exists (EPERM: it does, owned by another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function parsePids(text: string): number[] {
  return text
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}
