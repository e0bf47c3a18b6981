/**
 * The guard program on its own (dist/src/speaker/guard.js guarding a plain `sleep`), and the
 * small parsers the speaker relies on (pipe protocol, API targets, /proc/net tables).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { grpcTarget, parseApiTarget } from '../src/speaker/api-target.js';
import { findExecutable } from '../src/speaker/find-executable.js';
import { encodeMessage, encodeSpec, parseRenew, parseReport, parseSpec, type GuardReport } from '../src/speaker/guard-protocol.js';
import { isRunning, waitUntilGone } from '../src/speaker/process-state.js';
import { tcpListenersFor, unixListenersAt } from '../src/speaker/socket-owner.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const guardScript = join(root, 'dist/src/speaker/guard.js');

describe('guard pipe protocol', () => {
  it('round-trips every message and rejects malformed ones', () => {
    expect(parseRenew(encodeMessage({ renew: 250 }))).toEqual({ renew: 250 });
    expect(parseReport(encodeMessage({ started: 1234 }))).toEqual({ started: 1234 });
    expect(parseReport(encodeMessage({ exited: null, signal: 'SIGKILL', reason: 'stalled' }))).toEqual({ exited: null, signal: 'SIGKILL', reason: 'stalled' });
    for (const bad of ['', 'renew', '{"renew":-1}', '{"renew":"5"}', '[1]', 'null']) expect(parseRenew(bad)).toBeUndefined();
    for (const bad of ['{"started":0}', '{"exited":0,"signal":null,"reason":"bored"}', '{"exited":"0","signal":null,"reason":"stalled"}']) {
      expect(parseReport(bad)).toBeUndefined();
    }
  });

  it('parses the launch spec, refusing incomplete ones', () => {
    const spec = { command: ['gobgpd', '-f', '/x.toml'], setpriv: '/usr/bin/setpriv', deadlineMs: 1000, termGraceMs: 3000, agentPid: 42 };
    expect(parseSpec(encodeSpec(spec))).toEqual(spec);
    expect(parseSpec(JSON.stringify({ ...spec, command: [] }))).toBeUndefined();
    expect(parseSpec(JSON.stringify({ ...spec, deadlineMs: 0 }))).toBeUndefined();
    expect(parseSpec(undefined)).toBeUndefined();
  });
});

describe('API targets', () => {
  it('parses unix sockets and IP:port, and spells them for gRPC', () => {
    expect(parseApiTarget('unix:///run/q/api.sock')).toEqual({ kind: 'unix', path: '/run/q/api.sock' });
    expect(parseApiTarget('unix:/run/q/api.sock')).toEqual({ kind: 'unix', path: '/run/q/api.sock' });
    expect(parseApiTarget('127.0.0.1:50051')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 50051 });
    expect(parseApiTarget('localhost:50051')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 50051 });
    expect(grpcTarget(parseApiTarget('[::1]:50051'))).toBe('[::1]:50051');
    expect(grpcTarget(parseApiTarget('unix:///run/q/api.sock'))).toBe('unix:///run/q/api.sock');
    expect(() => parseApiTarget('unix://relative.sock')).toThrow(/absolute path/);
    expect(() => parseApiTarget('gobgp.example:50051')).toThrow(/IP address/);
    expect(() => parseApiTarget(':50051')).toThrow();
    expect(() => parseApiTarget('127.0.0.1:70000')).toThrow(/port/);
  });
});

describe('/proc/net tables', () => {
  it('finds listening unix sockets by path, ignoring connected ones', () => {
    const table = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 4711 /tmp/q dir/api.sock',
      '0000000000000000: 00000003 00000000 00000000 0001 03 4712 /tmp/q dir/api.sock',
      '0000000000000000: 00000002 00000000 00010000 0001 01 4713 /tmp/other.sock',
      '0000000000000000: 00000002 00000000 00000000 0002 01 4714',
    ].join('\n');
    expect(unixListenersAt(table, '/tmp/q dir/api.sock')).toEqual([4711]);
  });

  it('finds TCP listeners a client could reach: exact, wildcard and v4-mapped, on the right port only', () => {
    const v4 = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:C383 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101 1 0 100 0 0 10 0',
      '   1: 00000000:C383 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 102 1 0 100 0 0 10 0',
      '   2: 0200007F:C383 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 103 1 0 100 0 0 10 0',
      '   3: 0100007F:C384 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 104 1 0 100 0 0 10 0',
      '   4: 0100007F:C383 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 105 1 0 100 0 0 10 0',
    ].join('\n');
    expect(tcpListenersFor(v4, '127.0.0.1', 50051)).toEqual([101, 102]);
    const v6 = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000000000000000000001000000:C383 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 201 1 0',
      '   1: 00000000000000000000000000000000:C383 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 202 1 0',
      '   2: 0000000000000000FFFF00000100007F:C383 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 203 1 0',
    ].join('\n');
    expect(tcpListenersFor(v6, '::1', 50051)).toEqual([201, 202]);
    expect(tcpListenersFor(v6, '127.0.0.1', 50051)).toEqual([202, 203]);
  });
});

const setpriv = await findExecutable('setpriv');
const sleepBinary = await findExecutable('sleep');
const guardSkip = !setpriv || !sleepBinary ? 'needs setpriv (util-linux) and sleep (coreutils)' : undefined;
if (guardSkip) console.warn(`speaker-guard: guard program tests skipped: ${guardSkip}`);

/** The guard guarding `sleep 600`, spawned the way the speaker spawns it. */
class GuardUnderTest {
  readonly process: ChildProcess;
  readonly reports: GuardReport[] = [];

  constructor(deadlineMs: number, termGraceMs = 2000, command = [sleepBinary!, '600']) {
    const spec = { command, setpriv: setpriv!, deadlineMs, termGraceMs, agentPid: process.pid };
    this.process = spawn(setpriv!, ['--pdeathsig', 'KILL', '--', process.execPath, guardScript, encodeSpec(spec)], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.process.stdin!.on('error', () => undefined);
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      const report = parseReport(line);
      if (report) this.reports.push(report);
    });
  }

  async report<K extends 'started' | 'exited'>(kind: K, timeout = 10_000): Promise<Extract<GuardReport, Record<K, unknown>>> {
    const until = performance.now() + timeout;
    for (;;) {
      const found = this.reports.find((r) => kind in r);
      if (found) return found as Extract<GuardReport, Record<K, unknown>>;
      if (performance.now() > until) throw new Error(`guard sent no "${kind}" within ${timeout} ms: ${JSON.stringify(this.reports)}`);
      await new Promise((wake) => setTimeout(wake, 20));
    }
  }

  async gone(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    await new Promise((resolveExit) => this.process.once('exit', resolveExit));
  }
}

describe.skipIf(guardSkip !== undefined)('the guard program', () => {
  const guards: GuardUnderTest[] = [];
  const children: number[] = [];

  const startGuard = async (...args: ConstructorParameters<typeof GuardUnderTest>): Promise<{ guard: GuardUnderTest; child: number }> => {
    const guard = new GuardUnderTest(...args);
    guards.push(guard);
    const { started } = await guard.report('started');
    children.push(started);
    return { guard, child: started };
  };

  afterEach(async () => {
    for (const guard of guards.splice(0)) {
      guard.process.kill('SIGKILL');
      await guard.gone();
    }
    for (const pid of children.splice(0)) expect(await waitUntilGone(pid, ms(3000))).toBe(true);
  });

  it('keeps its child while renewals arrive, and kills it once they stop', async () => {
    const { guard, child } = await startGuard(1000);
    for (let i = 0; i < 15; i++) {
      guard.process.stdin!.write(encodeMessage({ renew: 1000 }));
      await new Promise((wake) => setTimeout(wake, 100));
    }
    // 1.5 s of renewals every ~100 ms, each promising 1 s: the deadline never came near.
    expect(await isRunning(child)).toBe(true);
    const exited = await guard.report('exited');
    expect(exited).toMatchObject({ reason: 'stalled', signal: 'SIGKILL' });
    expect(await isRunning(child)).toBe(false);
    await guard.gone();
    expect(guard.process.exitCode).toBe(0);
  });

  it('kills its child at once when its stdin closes (the agent is gone)', async () => {
    const { guard, child } = await startGuard(60_000);
    guard.process.stdin!.end();
    expect(await guard.report('exited')).toMatchObject({ reason: 'agent-gone', signal: 'SIGKILL' });
    expect(await waitUntilGone(child, ms(3000))).toBe(true);
  });

  it('on SIGTERM stops its child with SIGTERM first', async () => {
    const { guard, child } = await startGuard(60_000);
    guard.process.kill('SIGTERM');
    expect(await guard.report('exited')).toMatchObject({ reason: 'terminated', signal: 'SIGTERM' });
    expect(await waitUntilGone(child, ms(3000))).toBe(true);
  });

  it('SIGKILLs a child that ignores SIGTERM after the grace', async () => {
    // bash ignoring TERM, exec'ing nothing: the guard must escalate.
    const bash = await findExecutable('bash');
    const { guard, child } = await startGuard(60_000, 300, [bash ?? '/bin/bash', '-c', "trap '' TERM; while :; do sleep 0.1; done"]);
    // Wait until bash really ignores SIGTERM (SigIgn bit 15 in /proc/PID/status), or it would just die of it.
    const ignoresTerm = async (): Promise<boolean> => {
      const status = await readFile(`/proc/${child}/status`, 'utf8').catch(() => '');
      const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(status);
      return mask !== null && (BigInt(`0x${mask[1]}`) & (1n << 14n)) !== 0n;
    };
    for (let i = 0; i < 200 && !(await ignoresTerm()); i++) await new Promise((wake) => setTimeout(wake, 20));
    expect(await ignoresTerm()).toBe(true);
    guard.process.kill('SIGTERM');
    expect(await guard.report('exited')).toMatchObject({ reason: 'terminated', signal: 'SIGKILL' });
    expect(await waitUntilGone(child, ms(3000))).toBe(true);
  });

  it('its child dies with it when the guard itself is SIGKILLed (parent-death signal)', async () => {
    const { guard, child } = await startGuard(60_000);
    guard.process.kill('SIGKILL');
    await guard.gone();
    expect(await waitUntilGone(child, ms(3000))).toBe(true);
  });

  it('reports a child that exits by itself', async () => {
    const { guard } = await startGuard(60_000, 2000, [sleepBinary!, '0.1']);
    expect(await guard.report('exited')).toMatchObject({ exited: 0, signal: null, reason: 'child-exited' });
  });
});
