/**
 * Notify hooks with a real shell script that appends its environment to a file: first the
 * Notifier alone (order, environment, failures, the timeout, the bounded queue, stop), then
 * the agent on real daemons (a health change down and up, and a hanging script that is killed
 * while the agent keeps withdrawing and answering /status).
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AgentLab, type AgentProcess } from '../lab/agent-lab.js';
import { labRequirements } from '../lab/requirements.js';
import { ms, type Millis } from '../src/core/duration.js';
import { clusterName, nodeId, serviceName } from '../src/core/ids.js';
import { Notifier, type NotifyEvent, type NotifyResult } from '../src/observe/notify.js';

/** Fields of one line the script writes, in this order. */
const FIELDS = ['QUORATE_EVENT', 'QUORATE_NODE', 'QUORATE_CLUSTER', 'QUORATE_SERVICE', 'QUORATE_STATE', 'QUORATE_METHOD', 'QUORATE_REASON', 'QUORATE_TIME'] as const;
type Line = Record<(typeof FIELDS)[number], string>;

/**
 * Appends one line per run to $1. Hangs (sleep 60 in the background, its PIDs in $2.pids)
 * when the file $2 exists and the event's state is in it; exits 3 with a message on stderr
 * when the reason starts with "fail".
 */
const SCRIPT = `#!/bin/sh
printf '%s\\n' "${FIELDS.map((f) => `\${${f}-}`).join('|')}" >> "$1"
if [ -n "$2" ] && [ -e "$2" ] && grep -qx "$QUORATE_STATE" "$2"; then
  echo $$ > "$2.pids"
  sleep 60 &
  echo $! >> "$2.pids"
  wait
fi
case "$QUORATE_REASON" in fail*) echo "it broke" >&2; exit 3;; esac
exit 0
`;

async function writeScript(dir: string): Promise<string> {
  const path = join(dir, 'notify.sh');
  await writeFile(path, SCRIPT);
  await chmod(path, 0o755);
  return path;
}

async function readLines(path: string): Promise<Line[]> {
  if (!existsSync(path)) return [];
  const text = await readFile(path, 'utf8');
  return text.split('\n').filter(Boolean).map((l) => Object.fromEntries(l.split('|').map((v, i) => [FIELDS[i], v])) as Line);
}

/** Alive means present and not a zombie (a killed orphan may wait a moment for its reaper). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeout: Millis = ms(20_000)): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const pids = async (flag: string): Promise<number[]> => (await readFile(`${flag}.pids`, 'utf8')).split('\n').filter(Boolean).map(Number);

/** Makes the script hang on events whose state is `state`; returns the flag file (the script's $2). */
async function hangOn(dir: string, state: string): Promise<string> {
  const flag = join(dir, 'hang');
  await writeFile(flag, `${state}\n`);
  await rm(`${flag}.pids`, { force: true });
  return flag;
}

/** The PIDs of the hanging script and its sleep, once it has written both. */
const hangingPids = (flag: string): Promise<number[]> => until('the hanging script\'s PIDs', async () => {
  const found = existsSync(`${flag}.pids`) ? await pids(flag) : [];
  return found.length === 2 ? found : undefined;
});

/** Waits until none of `hung` runs any more (killed and reaped). */
const gone = (hung: number[]): Promise<true> => until('the script and its sleep to be gone', () => (hung.some(alive) ? undefined : true));

describe('Notifier (a real script, no agent)', () => {
  let dir: string;
  let script: string;
  let out: string;
  let logs: { msg: string; [k: string]: unknown }[];
  let results: NotifyResult[];
  const web = serviceName('web');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quorate-notify-'));
    script = await writeScript(dir);
    out = join(dir, 'events');
    logs = [];
    results = [];
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const notifier = (command: string[], timeout: number, queueLimit?: number): Notifier => new Notifier({
    config: { command, timeout: ms(timeout) },
    node: nodeId('n1'),
    cluster: clusterName('c1'),
    logger: pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string }) }),
    onResult: (r) => results.push(r),
    ...(queueLimit !== undefined ? { queueLimit } : {}),
  });

  it('runs the command once per event, in order, with the state in its environment', async () => {
    const n = notifier([script, out], 5000);
    const events: NotifyEvent[] = [
      { event: 'quorum', state: 'quorate', reason: 'voting: 1 of 1 votes visible' },
      { event: 'service', service: web, state: 'healthy', reason: 'tcp 127.0.0.1:80: connected' },
      { event: 'holding', service: web, state: 'serving', method: 'bgp', reason: 'healthy and quorate' },
      { event: 'service', service: web, state: 'held-down', reason: '4 health changes within 10s' },
      { event: 'holding', service: web, state: 'withdrawn', reason: 'checks failing' },
    ];
    const before = new Date();
    for (const e of events) n.notify(e);
    await n.idle();
    const lines = await readLines(out);
    expect(lines.map((l) => [l.QUORATE_EVENT, l.QUORATE_SERVICE, l.QUORATE_STATE, l.QUORATE_METHOD, l.QUORATE_REASON])).toEqual([
      ['quorum', '', 'quorate', '', 'voting: 1 of 1 votes visible'],
      ['service', 'web', 'healthy', '', 'tcp 127.0.0.1:80: connected'],
      ['holding', 'web', 'serving', 'bgp', 'healthy and quorate'],
      ['service', 'web', 'held-down', '', '4 health changes within 10s'],
      ['holding', 'web', 'withdrawn', '', 'checks failing'],
    ]);
    for (const l of lines) {
      expect(l).toMatchObject({ QUORATE_NODE: 'n1', QUORATE_CLUSTER: 'c1' });
      expect(new Date(l.QUORATE_TIME).getTime()).toBeGreaterThanOrEqual(before.getTime() - 1);
    }
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    await n.stop();
  });

  it('a failing or missing command is logged and counted, and the next event still runs', async () => {
    const failing = notifier([script, out], 5000);
    failing.notify({ event: 'quorum', state: 'no-quorum', reason: 'failing on purpose' });
    failing.notify({ event: 'quorum', state: 'quorate', reason: 'fine' });
    await failing.idle();
    expect((await readLines(out)).map((l) => l.QUORATE_REASON)).toEqual(['failing on purpose', 'fine']);
    expect(results).toEqual(['failed', 'ok']);
    expect(logs.find((l) => l.msg === 'notify command failed')).toMatchObject({ code: 3, stderr: 'it broke' });
    await failing.stop();

    const missing = notifier([join(dir, 'no-such-script')], 5000);
    expect(() => missing.notify({ event: 'quorum', state: 'quorate', reason: 'x' })).not.toThrow();
    await missing.idle();
    expect(results.slice(2)).toEqual(['failed']);
    expect(logs.filter((l) => l.msg === 'notify command failed').at(-1)?.err).toMatch(/ENOENT/);
    await missing.stop();
  });

  it('a hanging command is killed with its process group after the timeout; the caller never waits', async () => {
    const flag = await hangOn(dir, 'unhealthy');
    const n = notifier([script, out, flag], 300);
    n.notify({ event: 'service', service: web, state: 'unhealthy', reason: 'hang' });
    n.notify({ event: 'service', service: web, state: 'healthy', reason: 'after the hang' });
    // Both notify() calls returned at once; the script hangs meanwhile.
    const hung = await hangingPids(flag);
    await n.idle();
    expect(results).toEqual(['timeout', 'ok']);
    expect(logs.find((l) => /^notify command killed after 300 ms$/.test(l.msg))).toBeDefined();
    expect((await readLines(out)).map((l) => l.QUORATE_REASON)).toEqual(['hang', 'after the hang']);
    await gone(hung);
    await n.stop();
  });

  it('the queue is bounded: when full, the oldest waiting event is dropped and counted', async () => {
    const flag = await hangOn(dir, 'unhealthy');
    const n = notifier([script, out, flag], 500, 3);
    n.notify({ event: 'service', service: web, state: 'unhealthy', reason: 'hang' });
    for (let i = 1; i <= 6; i++) n.notify({ event: 'quorum', state: 'quorate', reason: `event ${i}` });
    await n.idle();
    // The first runs (and is killed); of the six waiting, the three oldest were dropped.
    expect((await readLines(out)).map((l) => l.QUORATE_REASON)).toEqual(['hang', 'event 4', 'event 5', 'event 6']);
    expect(results.filter((r) => r === 'dropped')).toHaveLength(3);
    expect(logs.filter((l) => l.msg === 'notify queue full: oldest event dropped')).toHaveLength(3);
    await n.stop();
  });

  it('stop() waits only a short grace, then kills the running command and drops the rest', async () => {
    const flag = await hangOn(dir, 'unhealthy');
    const n = notifier([script, out, flag], 60_000);
    n.notify({ event: 'service', service: web, state: 'unhealthy', reason: 'hang' });
    n.notify({ event: 'quorum', state: 'quorate', reason: 'never runs' });
    const hung = await hangingPids(flag);
    await n.stop(ms(200));
    expect(results).toEqual(['dropped', 'failed']);
    await gone(hung);
    n.notify({ event: 'quorum', state: 'quorate', reason: 'after stop' });
    await n.idle();
    expect((await readLines(out)).map((l) => l.QUORATE_REASON)).toEqual(['hang']);
  });
});

const requirements = labRequirements({ programs: { curl: 'curl' } });
if (!requirements.ok) console.warn(`notify agent tests skipped: ${requirements.reason}`);

const V4 = '203.0.113.10/32';
const STATUS = 'http://127.0.0.1:7491';

describe.skipIf(!requirements.ok)('agent notify hooks (real agent, gobgpd and BIRD)', () => {
  let lab: AgentLab;
  let agent: AgentProcess;
  let out: string;
  let flag: string;

  const curlStatus = async (): Promise<{ services: { name: string; serving: boolean }[] }> =>
    JSON.parse((await lab.server.exec('curl', ['-sS', '--fail-with-body', `${STATUS}/status`])).stdout) as { services: { name: string; serving: boolean }[] };
  const webLines = async (): Promise<string[]> =>
    (await readLines(out)).filter((l) => l.QUORATE_EVENT === 'quorum' || l.QUORATE_SERVICE === 'web').map((l) => [l.QUORATE_EVENT, l.QUORATE_SERVICE, l.QUORATE_STATE, l.QUORATE_METHOD].filter(Boolean).join(' '));
  const waitLines = (count: number): Promise<string[]> => until(`${count} notify lines`, async () => {
    const lines = await webLines();
    return lines.length >= count ? lines : undefined;
  });

  beforeAll(async () => {
    lab = await AgentLab.create({ tag: 'agntfy', speaker: 'run' });
    const script = await writeScript(lab.dir);
    out = join(lab.dir, 'events');
    flag = join(lab.dir, 'hang');
    const config = lab.baseConfig({ rise: 1, fall: 1 });
    config.services = (config.services as unknown[]).slice(0, 1);
    agent = await lab.startAgent(await lab.writeConfig({ ...config, status: { listen: '127.0.0.1:7491' }, notify: { command: [script, out, flag], timeout: '3s' } }));
    await lab.waitSessions();
    await lab.waitRoutes(V4, 2);
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('notifies quorum, health and holding changes in order, with the method', async () => {
    expect(await waitLines(3)).toEqual(['quorum quorate', 'service web healthy', 'holding web serving bgp']);
    lab.service.failHealth();
    await lab.waitRoutes(V4, 0);
    expect((await waitLines(5)).slice(3)).toEqual(['service web unhealthy', 'holding web withdrawn']);
    lab.service.restoreHealth();
    await lab.waitRoutes(V4, 2);
    expect((await waitLines(7)).slice(5)).toEqual(['service web healthy', 'holding web serving bgp']);
    const last = (await readLines(out)).at(-1)!;
    expect(last).toMatchObject({ QUORATE_NODE: 'srv-1', QUORATE_CLUSTER: 'lab', QUORATE_REASON: 'healthy and quorate' });
  });

  it('a hanging script is killed after its timeout while the agent keeps withdrawing and answering', async () => {
    const from = agent.logs.length;
    await hangOn(lab.dir, 'unhealthy');
    lab.service.failHealth();
    // The withdrawal does not wait for the script that hangs on the "unhealthy" event.
    await lab.waitRoutes(V4, 0);
    expect((await curlStatus()).services.find((s) => s.name === 'web')).toMatchObject({ serving: false });
    const killed = await agent.waitForLog(/^notify command killed after 3000 ms$/, ms(20_000), from);
    const withdrawn = agent.logs.slice(from).findIndex((l) => /^withdrawing web/.test(l.msg));
    expect(withdrawn).toBeGreaterThanOrEqual(0);
    expect(withdrawn).toBeLessThan(agent.logs.slice(from).indexOf(killed));
    const hung = await hangingPids(flag);
    await gone(hung);
    // The event queued behind the hanging one ran after it.
    expect((await waitLines(9)).slice(7)).toEqual(['service web unhealthy', 'holding web withdrawn']);
    const metrics = (await lab.server.exec('curl', ['-sS', `${STATUS}/metrics`])).stdout;
    expect(metrics).toMatch(/^quorate_notify_runs_total\{result="timeout"\} 1$/m);
    await rm(flag);
    lab.service.restoreHealth();
    await lab.waitRoutes(V4, 2);
  });

  it('on stop, a running command is killed and nothing is left behind', async () => {
    await hangOn(lab.dir, 'unhealthy');
    lab.service.failHealth();
    const hung = await hangingPids(flag);
    agent.process.kill('SIGTERM');
    await agent.process.exited;
    expect(agent.logs.at(-1)?.msg).toBe('stopped');
    await gone(hung);
  });
});
