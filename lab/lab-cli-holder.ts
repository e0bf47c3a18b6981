/**
 * The process that holds a routed lab for `lab up` (foreground, or detached as `lab serve`):
 * builds the lab, starts the client's prober, then answers on the state dir's unix socket —
 * `status` (a snapshot, the core's OSPF table, the client's last second), `fault NAME` (apply
 * and watch for the expected outcome; faults stay until `fault heal`), `down`. Requests run one
 * at a time. On `down`, SIGINT or SIGTERM the lab is torn down, the socket and PID file removed.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { ms } from '../src/core/duration.js';
import { labPidPath, labSocketPath, labStateDir, type LabRequest, type LabResponse } from './lab-cli-wire.js';
import { LAB_SERVICES, SITES, RoutedLab } from './routed-lab.js';
import { ClientProber } from './show-client.js';
import { faultByName, SHOW_FAULTS } from './show-faults.js';
import { coreTableLines, expectedText, runFault } from './show.js';

/** Probe results older than this are dropped: a held lab may run for hours. */
const KEEP_PROBES = 10 * 60_000;

export async function holdLab(log: (line: string) => void = (l) => console.log(l)): Promise<void> {
  const dir = labStateDir();
  await mkdir(dir, { recursive: true });
  let lab: RoutedLab | undefined;
  let closing: Promise<void> | undefined;
  const server = createServer();
  const close = (why: string): Promise<void> => {
    closing ??= (async () => {
      log(`${why}: removing the lab …`);
      server.close();
      try {
        await lab?.teardown();
      } finally {
        await rm(labSocketPath(dir), { force: true });
        await rm(labPidPath(dir), { force: true });
        log('the lab is down');
      }
    })();
    return closing;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    void close(signal).finally(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  log('building the routed lab on network namespaces …');
  lab = await RoutedLab.up({ tag: 'lab' });
  const prober = await ClientProber.start(lab);
  const forgetTimer = setInterval(() => prober.forget(Date.now() - KEEP_PROBES), 60_000);
  forgetTimer.unref();

  let queue: Promise<unknown> = Promise.resolve();
  const handle = async (req: LabRequest): Promise<LabResponse> => {
    const held = lab!;
    switch (req.cmd) {
      case 'ping':
        return { ok: true, text: 'up' };
      case 'status': {
        const snap = await held.snapshot();
        const now = Date.now();
        const lines = ['the core\'s OSPF table:', ...(await coreTableLines(held)).map((l) => `    ${l}`), 'the client, last second:'];
        for (const svc of LAB_SERVICES) {
          const a = prober.answers(svc, now - 1300, now - 300);
          lines.push(`    ${svc}: ${SITES.map((s) => `${s} ${a[s]}`).join(', ')}, unanswered ${a.none}`);
        }
        lines.push('BGP sessions at the site routers:');
        for (const site of SITES) {
          const s = snap.sessions[site];
          lines.push(`    ${site}-rtr ↔ ${s.neighbor}: ${s.state}, ${s.prefixesReceived} prefixes${s.lastResetReason ? `, last reset: ${s.lastResetReason}` : ''}`);
        }
        const r = snap.running;
        lines.push(`processes: quorum server ${r.quorumServer ? 'up' : 'DOWN'}; ${SITES.map((s) => `${s}: agent ${r.agents[s] ? 'up' : 'DOWN'}, web ${r.services[s].web ? 'up' : 'DOWN'}, db ${r.services[s].db ? 'up' : 'DOWN'}`).join('; ')}`);
        lines.push(`namespaces: ${held.lab.prefix}-*`);
        return { ok: true, text: lines.join('\n') };
      }
      case 'fault': {
        const fault = faultByName(req.name);
        if (!fault) return { ok: false, text: `no fault "${req.name}"; faults: ${SHOW_FAULTS.map((f) => f.name).join(', ')}` };
        const expectation = await fault.expect(held);
        const lines: string[] = [`${fault.title}: ${fault.demonstrates}`, `expected (from a healed lab): ${expectedText(expectation)}`];
        const row = await runFault(held, prober, fault, expectation, { short: true, print: (l) => lines.push(l), outcomeTimeout: ms(30_000) });
        lines.push(`${row.ok ? 'as expected' : 'NOT as expected'}: ${row.observed}`);
        if (fault.name !== 'heal') lines.push('the fault stays: `lab fault heal` undoes every fault');
        return { ok: row.ok, text: lines.join('\n') };
      }
      case 'down':
        setImmediate(() => void close('lab down').finally(() => process.exit(0)));
        return { ok: true, text: 'tearing the lab down' };
    }
  };
  server.on('connection', (conn: Socket) => {
    let buffer = '';
    conn.setEncoding('utf8');
    conn.on('error', () => undefined);
    conn.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      const line = buffer.slice(0, nl);
      const reply = (queue = queue.then(async () => {
        try {
          return await handle(JSON.parse(line) as LabRequest);
        } catch (err) {
          return { ok: false, text: err instanceof Error ? err.message : String(err) };
        }
      })) as Promise<LabResponse>;
      void reply.then((res) => conn.end(`${JSON.stringify(res)}\n`));
    });
  });
  await rm(labSocketPath(dir), { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(labSocketPath(dir), () => resolve());
  });
  await writeFile(labPidPath(dir), `${process.pid}\n`);
  log(`the lab is up; listening on ${labSocketPath(dir)}`);
}
