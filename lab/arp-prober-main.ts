/**
 * The ARP lab's prober, run inside the client namespace: every `--interval` ms (default 10)
 * it sends one UDP datagram to each `--target` (a service address) at `--port`, where the
 * whoami service (lab/arp-whoami-main.ts) of whichever node holds the address answers with its
 * name. It also follows the client's neighbour cache with one long-running
 * `ip monitor neigh` (a change arrives as a netlink event and costs nothing in between)
 * after one initial `ip -j neigh show`. Measured here: one `ip -j neigh show` costs ~2.4 ms
 * of CPU from a shell and ~3.8 ms wall from node, so reading it every 10 ms would take a
 * quarter to a third of one of the two cores; the whole prober (two targets, 10 ms) uses
 * ~5% of a core. iproute2 6.1 ignores `-j` for `monitor`, hence the text parser.
 *
 *   node dist/lab/arp-prober-main.js --port 7000 --target 192.0.2.100 --target 2001:db8:2::100
 *
 * Everything is reported on stdout as JSON lines (lab/arp-prober-wire.ts) stamped with the
 * lab clock. One connected socket per target: the kernel then delivers only datagrams whose
 * source is the target, so every counted answer really came from the service address.
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { epochNow } from './arp-clock.js';
import { parseNeighbourLine, type ProberEvent } from './arp-prober-wire.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string', multiple: true },
    port: { type: 'string' },
    interval: { type: 'string', default: '10' },
  },
});
const targets = values.target ?? [];
const port = Number(values.port);
const interval = Number(values.interval);
if (targets.length === 0 || !Number.isInteger(port) || port <= 0 || port > 65535 || !(interval > 0)) {
  process.stderr.write('arp-prober: needs --port, at least one --target and a positive --interval (ms)\n');
  process.exit(2);
}

function emit(event: ProberEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

let stopping = false;

// The neighbour monitor starts before the snapshot so no change falls between the two.
const monitor = spawn('ip', ['monitor', 'neigh'], { stdio: ['ignore', 'pipe', 'inherit'] });
const watched = new Set(targets);
createInterface({ input: monitor.stdout }).on('line', (line) => {
  const event = parseNeighbourLine(line, epochNow());
  if (event && watched.has(event.dst)) emit(event);
});
monitor.on('exit', (code, signal) => {
  if (!stopping) process.stderr.write(`arp-prober: ip monitor neigh exited (${signal ?? code})\n`);
});

interface NeighbourRow {
  dst?: string;
  lladdr?: string;
  state?: string[];
}

async function snapshotNeighbours(): Promise<void> {
  const child = spawn('ip', ['-j', 'neigh', 'show'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  await new Promise((resolve) => child.once('exit', resolve));
  const at = epochNow();
  const rows = (text.trim() ? JSON.parse(text) : []) as NeighbourRow[];
  for (const row of rows) {
    if (!row.dst || !watched.has(row.dst)) continue;
    emit({ type: 'neigh', at, dst: row.dst, lladdr: row.lladdr?.toLowerCase() ?? null, state: row.state ?? [], deleted: false });
  }
}

interface Probe {
  target: string;
  socket: Socket;
  seq: number;
}

function openProbe(target: string): Promise<Probe> {
  const socket = createSocket({ type: isIPv6(target) ? 'udp6' : 'udp4' });
  const probe: Probe = { target, socket, seq: 0 };
  socket.on('message', (msg) => {
    const received = epochNow();
    try {
      const reply = JSON.parse(msg.toString('utf8')) as Record<string, unknown>;
      const { node, seq, sent, at } = reply;
      if (typeof node !== 'string' || typeof seq !== 'number' || typeof sent !== 'number' || typeof at !== 'number') return;
      emit({ type: 'reply', target, seq, sent, received, node, answered: at });
    } catch {
      // Not ours: ignore.
    }
  });
  // ICMP errors on a connected socket surface here (e.g. EHOSTUNREACH): probes go on.
  socket.on('error', (err) => emit({ type: 'send-error', at: epochNow(), target, seq: probe.seq, message: err.message }));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, target, () => {
      socket.removeListener('error', reject);
      resolve(probe);
    });
  });
}

function send(probe: Probe): void {
  probe.seq += 1;
  const seq = probe.seq;
  probe.socket.send(JSON.stringify({ seq, sent: epochNow() }), (err) => {
    if (err) emit({ type: 'send-error', at: epochNow(), target: probe.target, seq, message: err.message });
  });
}

const probes: Probe[] = [];
for (const target of targets) probes.push(await openProbe(target));
await snapshotNeighbours();
emit({ type: 'ready', at: epochNow() });

// Scheduled against the clock, not as a chain of delays, so timer lateness does not add up.
const start = epochNow();
let tick = 0;
let lastProgress = start;
function loop(): void {
  if (stopping) return;
  for (const probe of probes) send(probe);
  const now = epochNow();
  if (now - lastProgress >= 100) {
    lastProgress = now;
    emit({ type: 'progress', at: now, sent: Object.fromEntries(probes.map((p) => [p.target, p.seq])) });
  }
  tick += 1;
  // After a long stall, skip the missed slots instead of firing a burst.
  while (start + tick * interval < now - interval) tick += 1;
  setTimeout(loop, Math.max(0, start + tick * interval - epochNow()));
}
loop();

const shutdown = (): void => {
  stopping = true;
  monitor.kill('SIGTERM');
  for (const probe of probes) probe.socket.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
