/**
 * (issue 3, benchmark c) the quorum server end to end over mutual TLS: `quorate server` as a
 * child process, and a load generator in another process (bench/quorum-load-main.ts) with
 * 1,000 clusters, one node and one certificate each, every node on its own channel renewing
 * its lease every second. Reported: the answer time seen by the generator (target p99 < 10 ms)
 * and the share of the 2 cores that the generator and the server each took over the measured
 * window. 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { ms, type Millis } from '../src/core/duration.js';
import { AgentProcess, quorateBin } from '../lab/agent-lab.js';
import { LabProcess } from '../lab/process.js';
import type { BenchContext, Teardownable } from './context.js';
import { row, type BenchmarkResult, type Row } from './measurement.js';
import { freeLoopbackPort } from './free-port.js';
import { processCpuMs } from './process-cpu.js';
import type { LoadPlan, LoadReport } from './quorum-load-main.js';
import { ensureE2eCerts, type E2eCerts } from './quorum-e2e-certs.js';

const CLUSTERS = 1000;
const RENEW_EVERY: Millis = ms(1000);
/** After every channel is connected: every cluster's settle window (1.5 s) and the first grants fall before the window. */
const WARMUP: Millis = ms(4000);
const WINDOW: Millis = ms(20_000);
const LEASE: Millis = ms(4000);
const SETTLE: Millis = ms(1500);
const CORES = 2;

/** The server and the generator as one teardown unit for the runner (Ctrl-C, failures). */
class E2eRig implements Teardownable {
  server?: AgentProcess;
  generator?: ChildProcess;
  private constructor(readonly dir: string) {}

  /** `base`: where its temp dir (server config and state file) goes. */
  static async create(base: string): Promise<E2eRig> {
    return new E2eRig(await mkdtemp(join(base, 'quorate-bench-e2e-')));
  }

  async teardown(): Promise<void> {
    const gen = this.generator;
    if (gen && gen.exitCode === null && gen.signalCode === null) {
      const exited = new Promise((r) => gen.once('exit', r));
      gen.kill('SIGKILL');
      await exited;
    }
    await this.server?.process.stop(ms(5000));
    await rm(this.dir, { recursive: true, force: true });
  }
}

export async function quorumE2eBench(ctx: BenchContext): Promise<BenchmarkResult> {
  const clusters = Array.from({ length: CLUSTERS }, (_, i) => `bench-${String(i).padStart(4, '0')}`);
  const certs = await ensureE2eCerts(clusters, ctx.progress);
  ctx.progress(`quorum-e2e: certificates in ${certs.dir} (${certs.created} made in this run, ${(certs.tookMs / 1000).toFixed(1)} s)`);
  const disk = await measureSeries(ctx, certs, clusters, VARIANTS[0]);
  const tmpfs = await measureSeries(ctx, certs, clusters, VARIANTS[1]);
  return {
    name: 'quorum-e2e',
    settings: { ...disk.settings, variants: VARIANTS.map((v) => `${v.label}: ${v.base}`) },
    rows: [disk.row, tmpfs.row],
    notes: [...disk.notes, ...tmpfs.notes, `Certificates cached in ${certs.dir}: ${certs.created} made in this run (${(certs.tookMs / 1000).toFixed(1)} s).`],
    facts: { [VARIANTS[0].label]: disk.facts, [VARIANTS[1].label]: tmpfs.facts },
  };
}

interface Variant {
  label: string;
  /** Where the server's state file lives. */
  base: string;
  /** Whether the row carries the target (the diagnostic does not). */
  target: boolean;
}

/**
 * The state file is flushed (fsync) before a grant or renewal is answered: the same load once
 * with it on the disk, as deployed, and once on tmpfs, where a flush costs nearly nothing, to
 * show how much of the answer time is the disk.
 */
const VARIANTS: readonly [Variant, Variant] = [
  { label: 'state file on disk', base: tmpdir(), target: true },
  { label: 'diagnostic: state file on tmpfs', base: '/dev/shm', target: false },
];

interface Series {
  row: Row;
  notes: string[];
  facts: Record<string, unknown>;
  settings: Record<string, unknown>;
}

async function measureSeries(ctx: BenchContext, certs: E2eCerts, clusters: string[], variant: Variant): Promise<Series> {
  ctx.progress(`quorum-e2e: ${variant.label}`);
  return ctx.withLab(() => E2eRig.create(variant.base), async (rig) => {
    const stateFile = join(rig.dir, 'state.json');
    // A server that ran before and granted nothing: no start-up wait of one lease.max.
    await writeFile(stateFile, JSON.stringify({ format: 'quorate-quorum-server-state', version: 1, writtenAt: Date.now(), leases: [] }));
    const configPath = join(rig.dir, 'server.yaml');
    await writeFile(configPath, stringify({
      // The config wants a real port (1..65535); the small race with another listener is harmless here.
      listen: `127.0.0.1:${await freeLoopbackPort()}`,
      tls: { ca: join(certs.dir, 'ca.pem'), cert: join(certs.dir, 'quorum-server.pem'), key: join(certs.dir, 'quorum-server.key') },
      lease: { max: '10s' },
      'state-file': stateFile,
    }));
    const proc = await LabProcess.start('quorum-server', process.execPath, [...nodeFlags('QUORUM_E2E_SERVER_NODE_FLAGS'), quorateBin(), 'server', '--config', configPath]);
    rig.server = new AgentProcess(proc);
    const listening = await rig.server.waitForLog(/^quorum server listening$/);
    const target = String(listening.address);

    const resultFile = join(rig.dir, 'load.json');
    const plan: LoadPlan = { target, certDir: certs.dir, clusters, renewEvery: RENEW_EVERY, warmup: WARMUP, window: WINDOW, lease: LEASE, settle: SETTLE, resultFile };
    const script = join(dirname(fileURLToPath(import.meta.url)), 'quorum-load-main.js');
    const generator = spawn(process.execPath, [...nodeFlags('QUORUM_E2E_GENERATOR_NODE_FLAGS'), script, JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'pipe'] });
    rig.generator = generator;
    let stderr = '';
    generator.stderr!.on('data', (b: Buffer) => { stderr = (stderr + b.toString('utf8')).slice(-8192); });
    const serverPid = rig.server.pid;
    let serverCpuStart = 0;
    let serverCpuEnd = 0;
    let serverWallStart = 0;
    let serverWallEnd = 0;
    let pending = '';
    let connectMs = NaN;
    generator.stdout!.on('data', (b: Buffer) => {
      const lines = (pending + b.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('"connected"')) {
          connectMs = Number((JSON.parse(line) as { ms: number }).ms);
          ctx.progress(`quorum-e2e: ${CLUSTERS} channels connected in ${connectMs} ms`);
        } else if (line.includes('"window-start"')) {
          serverCpuStart = processCpuMs(serverPid);
          serverWallStart = performance.now();
          ctx.progress(`quorum-e2e: measuring for ${WINDOW / 1000} s`);
        } else if (line.includes('"window-end"')) {
          serverCpuEnd = processCpuMs(serverPid);
          serverWallEnd = performance.now();
        }
      }
    });
    const exit = await new Promise<number | null>((resolve) => generator.once('exit', (code) => resolve(code)));
    if (exit !== 0) throw new Error(`quorum-e2e: the load generator exited ${exit}: ${stderr}`);
    const report = JSON.parse(await readFile(resultFile, 'utf8')) as LoadReport;

    const generatorCpuMs = (report.cpuUserMicros + report.cpuSystemMicros) / 1000;
    const generatorShare = generatorCpuMs / (CORES * report.wallMs);
    const serverCpuMs = serverCpuEnd - serverCpuStart;
    const serverWall = serverWallEnd - serverWallStart;
    const serverShare = serverCpuMs / (CORES * serverWall);
    const answered = report.answers.length;
    const answers: Row = {
      ...row(`renewal answer time, generator side (call → callback), ${variant.label}`, 'quorate', report.answers as Millis[], variant.target ? [{ stat: 'p99', below: 10 }] : []),
      samples: [],
    };
    const expected = CLUSTERS * (WINDOW / RENEW_EVERY);
    const verdicts = Object.entries(report.verdicts).map(([v, n]) => `${v} ${n}`).join(', ');
    const perSecond = p99PerSecond(report);
    const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
    const say = (text: string): string => `${variant.label}: ${text}`;
    return {
      settings: {
        clusters: CLUSTERS, renewEveryMs: RENEW_EVERY, warmupMs: WARMUP, windowMs: WINDOW, leaseAskedMs: LEASE, settleMs: SETTLE, leaseMax: '10s',
        target, tls: 'mutual, one certificate and one channel (own TCP + TLS session) per cluster', cores: CORES, nproc: availableParallelism(),
        certCache: certs.dir, certsMadeThisRun: certs.created,
      },
      row: answers,
      notes: [
        say(`${answered} answers in the ${WINDOW / 1000} s window (${expected} scheduled): ${verdicts}.`),
        say(`Generator CPU ${generatorCpuMs.toFixed(0)} ms over ${report.wallMs.toFixed(0)} ms: ${pct(generatorShare)} of ${CORES} cores (process.cpuUsage).`),
        say(`Server CPU ${serverCpuMs.toFixed(0)} ms over ${serverWall.toFixed(0)} ms: ${pct(serverShare)} of ${CORES} cores (/proc/PID/stat, 10 ms ticks).`),
        say(`The generator's schedule ran at most ${report.maxScheduleLagMs.toFixed(1)} ms late; an answer time includes the generator's own event-loop delay in handling the callback.`),
        say(`Before the window: ${CLUSTERS} channels connected (mutual TLS handshake and a first request each, 16 at a time) in ${connectMs} ms, then ${WARMUP / 1000} s of renewals.`),
        say(`p99 per second of the window (ms): ${perSecond.map((v) => v.toFixed(0)).join(' ')}.`),
      ],
      facts: {
        answered, expected, verdicts: report.verdicts, generatorCpuMs: Math.round(generatorCpuMs), generatorShareOfCores: Math.round(generatorShare * 1000) / 1000,
        p99PerSecondMs: perSecond.map((v) => Math.round(v * 10) / 10),
        serverCpuMs: Math.round(serverCpuMs), serverShareOfCores: Math.round(serverShare * 1000) / 1000, maxScheduleLagMs: Math.round(report.maxScheduleLagMs * 10) / 10,
      },
    };
  });
}

/** The p99 (nearest rank) of the answers due in each second of the window. */
function p99PerSecond(report: LoadReport): number[] {
  const bySecond: number[][] = [];
  report.answers.forEach((t, i) => (bySecond[report.secondOf[i]!] ??= []).push(t));
  return Array.from(bySecond, (list = []) => {
    if (list.length === 0) return NaN;
    const sorted = [...list].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
  });
}

/** Extra Node flags for one of the two processes, for experiments (e.g. GC settings): space-separated, from the environment. */
function nodeFlags(variable: string): string[] {
  return (process.env[variable] ?? '').split(/\s+/).filter(Boolean);
}
