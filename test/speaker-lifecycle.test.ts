/**
 * GuardedSpeaker in this process against a real gobgpd (no BGP listener: `port = -1`, API on
 * unix sockets in this file's own temp dir), so it runs beside other test files.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { parseApiTarget } from '../src/speaker/api-target.js';
import { findExecutable } from '../src/speaker/find-executable.js';
import { isRunning, waitUntilGone } from '../src/speaker/process-state.js';
import { GuardedSpeaker, type SpeakerExit } from '../src/speaker/speaker.js';
import { SocketOwnershipError, verifyListenerOwner } from '../src/speaker/socket-owner.js';

const run = promisify(execFile);

const missing = (
  await Promise.all(['gobgpd', 'gobgp', 'setpriv'].map(async (tool) => ((await findExecutable(tool)) ? undefined : tool)))
).filter((tool): tool is string => tool !== undefined);
const skipReason = missing.length ? `needs ${missing.join(', ')} (Debian packages gobgpd, util-linux)` : undefined;
if (skipReason) console.warn(`speaker-lifecycle: skipped: ${skipReason}`);

const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

/** ppid of a process, from /proc (the guard is gobgpd's parent). */
async function parentOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function nextExit(speaker: GuardedSpeaker): Promise<SpeakerExit> {
  return new Promise((resolve) => speaker.once('exit', resolve));
}

describe.skipIf(skipReason !== undefined)('GuardedSpeaker with a real gobgpd', () => {
  let dir: string;
  let config: string;
  const foreign: ChildProcess[] = [];
  const speakers: GuardedSpeaker[] = [];

  const newSpeaker = (extra: { apiTarget?: string; config?: string } = {}): GuardedSpeaker => {
    const speaker = new GuardedSpeaker({
      run: { config: extra.config ?? config, binary: 'gobgpd', stallTimeout: ms(2000) },
      ...(extra.apiTarget ? { apiTarget: extra.apiTarget } : {}),
      runtimeParent: dir,
      logger,
    });
    speakers.push(speaker);
    return speaker;
  };

  /** A gobgpd that is not ours: started here, directly, not under any guard. */
  const startForeignGobgpd = async (apiHosts: string): Promise<ChildProcess> => {
    const child = spawn('gobgpd', ['-f', config, '-t', 'toml', '--api-hosts', apiHosts, '--pprof-disable'], { stdio: 'ignore' });
    foreign.push(child);
    for (let i = 0; i < 200; i++) {
      const answered = await run('gobgp', ['--target', apiHosts, 'global']).then(() => true, () => false);
      if (answered) return child;
      await sleep(50);
    }
    throw new Error(`foreign gobgpd at ${apiHosts} did not come up`);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qt-speaker-lifecycle-'));
    config = join(dir, 'gobgpd.toml');
    // port = -1: no BGP listener, so this file never competes for port 179.
    await writeFile(config, '[global.config]\n  as = 64512\n  router-id = "192.0.2.1"\n  port = -1\n');
  });

  afterEach(async () => {
    await Promise.all(speakers.splice(0).map((speaker) => speaker.stop()));
    for (const child of foreign.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts gobgpd whose API answers the gobgp CLI, and stops it leaving nothing behind', async () => {
    const speaker = newSpeaker();
    const exits: SpeakerExit[] = [];
    speaker.on('exit', (exit) => exits.push(exit));

    const { target, pid } = await speaker.start();
    expect(target).toMatch(/^unix:\/\//);
    const runtimeDir = dirname(target.slice('unix://'.length));
    expect(statSync(runtimeDir).mode & 0o777).toBe(0o700);
    const guardPid = await parentOf(pid);
    expect(guardPid).not.toBe(process.pid);

    const { stdout } = await run('gobgp', ['--target', target, 'global']);
    expect(stdout).toMatch(/AS:\s+64512/);
    expect(stdout).toMatch(/Router-ID:\s+192\.0\.2\.1/);

    await speaker.stop();
    expect(await isRunning(pid)).toBe(false);
    expect(await isRunning(guardPid)).toBe(false);
    expect(existsSync(runtimeDir)).toBe(false);
    expect(exits).toEqual([]); // a requested stop is not an unexpected exit
  });

  it('reports gobgpd killed from outside as an exit, and can be started again', async () => {
    const speaker = newSpeaker();
    const first = await speaker.start();
    const exited = nextExit(speaker);
    process.kill(first.pid, 'SIGKILL');
    const exit = await exited;
    expect(exit).toMatchObject({ reason: 'child-exited', signal: 'SIGKILL', pid: first.pid });
    expect(existsSync(dirname(first.target.slice('unix://'.length)))).toBe(false);

    const second = await speaker.start();
    expect(second.pid).not.toBe(first.pid);
    const { stdout } = await run('gobgp', ['--target', second.target, 'global']);
    expect(stdout).toMatch(/AS:\s+64512/);
    await speaker.stop();
    expect(await isRunning(second.pid)).toBe(false);
  });

  it('refuses a second concurrent start, and a stop during start wins', async () => {
    const speaker = newSpeaker();
    const first = speaker.start();
    await expect(speaker.start()).rejects.toThrow(/already started/);
    const { pid } = await first;
    await speaker.stop();
    expect(await isRunning(pid)).toBe(false);

    const starting = speaker.start();
    await speaker.stop();
    await expect(starting).rejects.toThrow(/stopped while starting/);
    expect(speaker.pid).toBeUndefined();
    expect((await readdir(dir)).filter((name) => name.startsWith('quorate-gobgpd-'))).toEqual([]);
  });

  it('rejects a config gobgpd refuses, quoting gobgpd, and leaves nothing running', async () => {
    const bad = join(dir, 'bad.toml');
    await writeFile(bad, '[global.config]\n  as = "not a number"\n');
    const speaker = newSpeaker({ config: bad });
    const exits: SpeakerExit[] = [];
    speaker.on('exit', (exit) => exits.push(exit));
    await expect(speaker.start()).rejects.toThrow(/gobgpd rejects its config .*bad\.toml: .*global\.config\.as/);
    expect(speaker.pid).toBeUndefined();
    // A failed start is reported by the rejection alone, not also as an 'exit' (no restart loop).
    expect(exits).toEqual([]);
    expect((await readdir(dir)).filter((name) => name.startsWith('quorate-gobgpd-'))).toEqual([]);
  });

  it('refuses to start where a foreign gobgpd already serves the configured API socket', async () => {
    const socket = join(dir, 'taken.sock');
    const other = await startForeignGobgpd(`unix://${socket}`);
    const speaker = newSpeaker({ apiTarget: `unix://${socket}` });
    await expect(speaker.start()).rejects.toThrow(/already listens at unix:\/\/.*taken\.sock/);
    // The foreign gobgpd is not ours to touch.
    expect(await isRunning(other.pid!)).toBe(true);
  });

  it('takes over a stale API socket left by a killed gobgpd', async () => {
    const socket = join(dir, 'stale.sock');
    const other = await startForeignGobgpd(`unix://${socket}`);
    other.kill('SIGKILL');
    await waitUntilGone(other.pid!, ms(5000));
    expect(existsSync(socket)).toBe(true); // SIGKILL leaves the socket file behind

    const speaker = newSpeaker({ apiTarget: `unix://${socket}` });
    const { target, pid } = await speaker.start();
    expect(target).toBe(`unix://${socket}`);
    await verifyListenerOwner(pid, parseApiTarget(target));
    await speaker.stop();
  });

  it('verifies listener ownership from the kernel: the real holder passes, any other process is refused', async () => {
    const socket = join(dir, 'owner.sock');
    const unixHolder = await startForeignGobgpd(`unix://${socket}`);
    await verifyListenerOwner(unixHolder.pid!, parseApiTarget(`unix://${socket}`));
    await expect(verifyListenerOwner(process.pid, parseApiTarget(`unix://${socket}`))).rejects.toThrow(SocketOwnershipError);
    await expect(verifyListenerOwner(process.pid, parseApiTarget(`unix://${socket}`))).rejects.toThrow(/does not belong to process/);

    // TCP on loopback, on a port the kernel just handed out (so no clash with other tests).
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const tcpHolder = await startForeignGobgpd(`127.0.0.1:${port}`);
    const tcp = parseApiTarget(`127.0.0.1:${port}`);
    await verifyListenerOwner(tcpHolder.pid!, tcp);
    await expect(verifyListenerOwner(unixHolder.pid!, tcp)).rejects.toThrow(/does not belong to process/);
  });
});
