/**
 * The load generator of benchmark quorum-e2e, run as its own process (so its CPU is not the
 * server's and not the bench runner's): N clusters, each one node with its own certificate and
 * its own HTTP/2 connection and TLS session (quorum-load-h2.ts: gRPC spoken directly, so the
 * generator's own garbage collections do not make the tail it measures), renewing a lease
 * every second on a fixed schedule.
 *
 * Input: one JSON argument (LoadPlan). Output on stdout, one JSON object a line:
 *   {"event":"connected","ms":N} once every channel has answered once, {"event":"window-start"} and {"event":"window-end"} around the measured window (the
 *   parent samples the server's CPU then), and finally writes the LoadReport to plan.resultFile.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ms, type Millis } from '../src/core/duration.js';
import { PROTOCOL_VERSION } from '../src/quorum-server/wire-request.js';
import { H2LeaseClient } from './quorum-load-h2.js';

export interface LoadPlan {
  target: string;
  certDir: string;
  /** Cluster names; the node of each is `n1`, its certificate `<cluster>.pem`. */
  clusters: string[];
  renewEvery: Millis;
  /** Renewals before the measured window: connections made, settle windows over, leases granted. */
  warmup: Millis;
  window: Millis;
  lease: Millis;
  settle: Millis;
  resultFile: string;
}

export interface LoadReport {
  /** Answer time of every request due in the window (ms, from the call to its callback). */
  answers: number[];
  /** For each answer, the whole second of the window it was due in (0-based): shows whether the tail is one burst or spread. */
  secondOf: number[];
  verdicts: Record<string, number>;
  /** The generator's CPU over the window (process.cpuUsage, µs) and the window's wall time (ms). */
  cpuUserMicros: number;
  cpuSystemMicros: number;
  wallMs: number;
  /** How late the schedule fired, at worst (the generator's own event-loop lag). */
  maxScheduleLagMs: number;
  channels: number;
}

const NODE = 'n1';
const DIGEST = Buffer.alloc(32, 7);
const ANSWER_TIMEOUT: Millis = ms(2000);
const CONNECT_PARALLEL = 16;

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '') as LoadPlan;
  const ca = readFileSync(join(plan.certDir, 'ca.pem'));
  const authority = `https://${plan.target}`;
  const clients = plan.clusters.map((cluster) => {
    // One HTTP/2 connection and TLS session per cluster, as N real nodes would have.
    const client = new H2LeaseClient(
      { authority, ca, cert: readFileSync(join(plan.certDir, `${cluster}.pem`)), key: readFileSync(join(plan.certDir, `${cluster}.key`)) },
      {
        protocol_version: PROTOCOL_VERSION, cluster, node: NODE, membership_digest: DIGEST, partition: [NODE],
        partition_votes: 1, total_votes: 2, lease_ms: plan.lease, settle_ms: plan.settle, request_id: `${cluster}-load`,
      },
    );
    return { client };
  });

  // Connect first, a few at a time: 1,000 TLS handshakes at once would be a start-up storm, not
  // the steady renewals this benchmark is about. The first request of each also opens its
  // cluster's settle window, which the warm-up lets run out.
  const connectStarted = performance.now();
  let nextToConnect = 0;
  const connector = async (): Promise<void> => {
    while (nextToConnect < clients.length) {
      const { client } = clients[nextToConnect++]!;
      await client.requestLease(ms(10_000));
    }
  };
  await Promise.all(Array.from({ length: CONNECT_PARALLEL }, connector));
  process.stdout.write(`${JSON.stringify({ event: 'connected', ms: Math.round(performance.now() - connectStarted) })}\n`);

  const origin = performance.now() + 100;
  const windowStart = origin + plan.warmup;
  const windowEnd = windowStart + plan.window;
  const answers: number[] = [];
  const secondOf: number[] = [];
  const verdicts: Record<string, number> = {};
  let maxLag = 0;
  let inFlight = 0;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let cpuAtEnd: NodeJS.CpuUsage | undefined;
  let wallStart = 0;
  let wallEnd = 0;

  // The window's edges on their own timers, so the CPU reading is taken at the edge, not at the next answer.
  setTimeout(() => {
    cpuAtStart = process.cpuUsage();
    wallStart = performance.now();
    process.stdout.write('{"event":"window-start"}\n');
  }, windowStart - performance.now());
  const windowClosed = new Promise<void>((resolve) => setTimeout(() => {
    cpuAtEnd = process.cpuUsage(cpuAtStart);
    wallEnd = performance.now();
    process.stdout.write('{"event":"window-end"}\n');
    resolve();
  }, windowEnd - performance.now()));

  const allDone = clients.map(({ client }, i) => new Promise<void>((resolve) => {
    // Spread evenly over each second, as independent nodes would be.
    const offset = (i * plan.renewEvery) / clients.length;
    let k = 0;
    const fire = (): void => {
      const due = origin + offset + k * plan.renewEvery;
      if (due >= windowEnd) {
        resolve();
        return;
      }
      const sentAt = performance.now();
      // Classified by when it was due, not when it went out: a late schedule must not move requests into the window.
      const inWindow = due >= windowStart;
      if (inWindow) maxLag = Math.max(maxLag, sentAt - due);
      inFlight++;
      void client.requestLease(ANSWER_TIMEOUT).then((outcome) => {
        inFlight--;
        if (inWindow) {
          answers.push(performance.now() - sentAt);
          secondOf.push(Math.floor((due - windowStart) / 1000));
          const verdict = outcome.ok ? outcome.verdict : `failed: ${outcome.reason}`;
          verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;
        }
      });
      k++;
      setTimeout(fire, Math.max(0, origin + offset + k * plan.renewEvery - performance.now()));
    };
    setTimeout(fire, Math.max(0, origin + offset - performance.now()));
  }));
  await Promise.all(allDone);
  await windowClosed;
  // The last requests of the window are still answered (within their deadline).
  const drainUntil = performance.now() + ANSWER_TIMEOUT + 500;
  while (inFlight > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 10));
  for (const { client } of clients) client.close();

  const cpu = cpuAtEnd!;
  const report: LoadReport = {
    answers, secondOf, verdicts, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, wallMs: wallEnd - wallStart,
    maxScheduleLagMs: maxLag, channels: clients.length,
  };
  writeFileSync(plan.resultFile, JSON.stringify(report));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`quorum-load: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
