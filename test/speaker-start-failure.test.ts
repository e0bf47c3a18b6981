/**
 * A gobgpd that dies while GuardedSpeaker.start() waits for it, with real gobgpd processes.
 *
 * gobgpd serves its API before it binds its BGP port, so when the bind fails it dies while
 * start() is at any of its steps (waiting for the socket, reading /proc for the listener's
 * owner, asking the API) — or start() even resolved before it died. Whatever the timing, the
 * operator must read one reason: gobgpd's exit and its own words about the bind. Each case
 * starts the failing gobgpd several times in a row, so a timing-dependent answer shows up.
 *
 * - a BGP port already taken on 127.0.0.1 (a listener this file opens): needs gobgpd and setpriv;
 *   also through the real agent (`quorate agent`), whose fatal line must carry the same reason;
 * - port 179 without CAP_NET_BIND_SERVICE (gobgpd run as `nobody`, in a namespace this file
 *   creates), the deployment case: needs root as well.
 */
import { chmod, chown, mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AgentProcess, quorateBin } from '../lab/agent-lab.js';
import { Lab, type Namespace } from '../lab/netns.js';
import { ms } from '../src/core/duration.js';
import { findExecutable } from '../src/speaker/find-executable.js';
import { isRunning } from '../src/speaker/process-state.js';
import { GuardedSpeaker, type SpeakerExit } from '../src/speaker/speaker.js';
import { GobgpdExitedWhileStarting } from '../src/speaker/start-failure.js';

const missing = (
  await Promise.all(['gobgpd', 'setpriv', 'ip'].map(async (tool) => ((await findExecutable(tool)) ? undefined : tool)))
).filter((tool): tool is string => tool !== undefined);
const skipReason = missing.length ? `needs ${missing.join(', ')} (Debian packages gobgpd, util-linux, iproute2)` : undefined;
if (skipReason) console.warn(`speaker-start-failure: skipped: ${skipReason}`);
const rootSkipReason = skipReason ?? (process.getuid?.() === 0 ? undefined : 'needs root (a network namespace, and setpriv to become nobody)');
if (rootSkipReason) console.warn(`speaker-start-failure (port 179 as nobody): skipped: ${rootSkipReason}`);

/** How many failing starts each case makes in a row. */
const ATTEMPTS = 6;
const NOBODY = { uid: 65534, gid: 65534 };

const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

interface Attempt {
  error: unknown;
  /** 'exit' events seen: a failed start must be reported by its rejection alone. */
  exits: SpeakerExit[];
}

/** One start() of a speaker that must fail; returns its error (undefined: it started). */
async function failingStart(speaker: GuardedSpeaker): Promise<Attempt> {
  const exits: SpeakerExit[] = [];
  speaker.on('exit', (exit) => exits.push(exit));
  try {
    await speaker.start();
  } catch (error) {
    return { error, exits };
  }
  await speaker.stop();
  return { error: undefined, exits };
}

/** The checks every failed start must pass: one clear reason, nothing left running. */
async function expectExitedWithGobgpdWords(attempt: Attempt, gobgpdWords: RegExp): Promise<void> {
  expect(attempt.error).toBeInstanceOf(GobgpdExitedWhileStarting);
  const failure = attempt.error as GobgpdExitedWhileStarting;
  expect(failure.message).toMatch(/^gobgpd exited \(code 1\) while starting: /);
  expect(failure.message).toMatch(gobgpdWords);
  expect(failure.exit).toMatchObject({ reason: 'child-exited', code: 1, signal: null });
  expect(failure.pid).toBeGreaterThan(0);
  expect(await isRunning(failure.pid!)).toBe(false);
  expect(attempt.exits).toEqual([]);
}

describe.skipIf(skipReason !== undefined)('gobgpd dies while starting: start() says why, every time', () => {
  let lab: Lab;
  let holder: Server;
  let dir: string;
  let config: string;
  let port: number;

  beforeAll(async () => {
    lab = await Lab.create('spkfail');
    dir = await lab.tempDir('taken');
    // Whoever holds the port: this file, on loopback, on a port the kernel hands out.
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    port = typeof address === 'object' && address ? address.port : 0;
    config = join(dir, 'gobgpd.toml');
    await writeFile(
      config,
      `[global.config]\n  as = 64512\n  router-id = "192.0.2.1"\n  port = ${port}\n  local-address-list = ["127.0.0.1"]\n`,
    );
  });

  afterAll(async () => {
    await new Promise((resolve) => holder?.close(resolve));
    await lab?.teardown();
  });

  it(`a taken BGP port: ${ATTEMPTS} starts in a row each reject with gobgpd's exit code and its bind error, leaving nothing`, async () => {
    for (let i = 0; i < ATTEMPTS; i++) {
      const speaker = new GuardedSpeaker({ run: { config, binary: 'gobgpd', stallTimeout: ms(2000) }, runtimeParent: dir, logger });
      await expectExitedWithGobgpdWords(
        await failingStart(speaker),
        new RegExp(`failed to set global config: listen tcp4? 127\\.0\\.0\\.1:${port}: bind: address already in use`),
      );
      expect(speaker.pid).toBeUndefined();
    }
    expect((await readdir(dir)).filter((name) => name.startsWith('quorate-gobgpd-'))).toEqual([]);
    // The holder of the port was never touched.
    expect(holder.listening).toBe(true);
  });

  it('the agent (`quorate agent`) exits 1, and its fatal line gives gobgpd\'s exit and bind error', async () => {
    const agentConfig = join(dir, 'agent.yaml');
    await writeFile(
      agentConfig,
      stringify({
        node: { id: 'edge-1' },
        cluster: { name: 'edge' },
        'state-dir': join(dir, 'state'),
        bgp: { gobgp: { run: { config } }, 'next-hop': { ipv4: '192.0.2.1' } },
        services: [{ name: 'web', prefixes: ['203.0.113.80/32'], mode: 'anycast', checks: [{ tcp: { host: '127.0.0.1', port } }] }],
      }),
    );
    const agent = new AgentProcess(await lab.spawn(undefined, 'agent', process.execPath, [quorateBin(), 'agent', '--config', agentConfig]));
    const exited = await Promise.race([agent.process.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 30_000))]);
    if (exited === 'still running') throw new Error(`the agent did not exit within 30 s:\n${agent.process.output()}`);
    expect(exited).toEqual({ code: 1, signal: null });
    const fatal = agent.logs.find((line) => line.msg === 'agent could not start');
    expect(fatal?.['err']).toMatch(
      new RegExp(`^gobgpd exited \\(code 1\\) while starting: failed to set global config: listen tcp4? 127\\.0\\.0\\.1:${port}: bind: address already in use`),
    );
  });
});

describe.skipIf(rootSkipReason !== undefined)('gobgpd without CAP_NET_BIND_SERVICE: start() says why, every time', () => {
  let lab: Lab;
  let ns: Namespace;
  let config: string;
  let socketDir: string;

  beforeAll(async () => {
    lab = await Lab.create('spkfail179');
    ns = await lab.namespace('a');
    // nobody must read the config and create the API socket; nothing else here is theirs.
    const dir = await lab.tempDir('nobody');
    await chmod(dir, 0o755);
    config = join(dir, 'gobgpd.toml');
    await writeFile(config, '[global.config]\n  as = 64512\n  router-id = "192.0.2.1"\n');
    await chmod(config, 0o644);
    socketDir = join(dir, 'api');
    await mkdir(socketDir, { mode: 0o700 });
    await chown(socketDir, NOBODY.uid, NOBODY.gid);
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it(`port 179 as nobody: ${ATTEMPTS} starts in a row each reject with gobgpd's exit code and "179: bind: permission denied"`, async () => {
    // Both wrappers exec: the guard still watches gobgpd's own pid.
    const wrap = [
      'ip', 'netns', 'exec', ns.name,
      'setpriv', `--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', '--inh-caps=-all', '--no-new-privs', '--',
    ];
    for (let i = 0; i < ATTEMPTS; i++) {
      const speaker = new GuardedSpeaker({
        run: { config, binary: 'gobgpd', stallTimeout: ms(2000) },
        apiTarget: `unix://${join(socketDir, 'api.sock')}`,
        wrap,
        logger,
      });
      await expectExitedWithGobgpdWords(await failingStart(speaker), /failed to set global config: listen tcp4? [^ ]*:179: bind: permission denied/);
    }
    expect(await ns.pids()).toEqual([]);
  });
});
