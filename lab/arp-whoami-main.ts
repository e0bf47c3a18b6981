/**
 * The ARP lab's whoami service: a UDP responder that answers every datagram with the name
 * of the node it runs on, so a client probing a moving service address every 10 ms can
 * tell which node answered (HTTP per probe would be far too heavy at that rate).
 *
 *   node dist/lab/arp-whoami-main.js --name a --port 7000 --address 192.0.2.100 --address 2001:db8:2::100
 *
 * One socket per service address, bound to that address even while the node does not hold
 * it (the namespace must allow non-local binds: net.ipv4/ipv6.ip_nonlocal_bind, set by
 * lab/arp-whoami.ts). Binding the exact address, rather than 0.0.0.0, makes every reply leave
 * from the address the client sent to, so a connected client socket accepts it.
 *
 * `--health-port P` also listens on TCP 127.0.0.1:P (accepts and closes): the agent's `tcp`
 * check of the service, so that killing whoami is a service death the agent sees.
 *
 * Request: JSON `{"seq":N,"sent":T}`. Reply: the request's fields echoed, plus
 * `node` (this node's name) and `at` (when it answered, lab clock). Anything else is
 * ignored. Prints `listening ADDR PORT` per socket, then `ready`; exits 0 on SIGTERM.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer } from 'node:net';
import { isIPv6 } from 'node:net';
import { parseArgs } from 'node:util';
import { epochNow } from './arp-clock.js';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    port: { type: 'string' },
    address: { type: 'string', multiple: true },
    'health-port': { type: 'string' },
  },
});
const name = values.name ?? '';
const port = Number(values.port);
const addresses = values.address ?? [];
if (!name || !Number.isInteger(port) || port <= 0 || port > 65535 || addresses.length === 0) {
  process.stderr.write('whoami: needs --name, --port (1–65535) and at least one --address\n');
  process.exit(2);
}

interface Request {
  seq: number;
  sent: number;
}

function parseRequest(msg: Buffer): Request | undefined {
  try {
    const value: unknown = JSON.parse(msg.toString('utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const { seq, sent } = value as Record<string, unknown>;
    if (typeof seq !== 'number' || typeof sent !== 'number') return undefined;
    return { seq, sent };
  } catch {
    return undefined;
  }
}

function open(address: string): Promise<Socket> {
  const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
  socket.on('message', (msg, from) => {
    const request = parseRequest(msg);
    if (!request) return;
    const reply = JSON.stringify({ node: name, seq: request.seq, sent: request.sent, at: epochNow() });
    socket.send(reply, from.port, from.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.removeListener('error', reject);
      // A send error (the address just left the interface) must not end the service.
      socket.on('error', (err) => process.stderr.write(`whoami ${address}: ${err.message}\n`));
      resolve(socket);
    });
  });
}

const sockets: Socket[] = [];
try {
  for (const address of addresses) {
    sockets.push(await open(address));
    process.stdout.write(`listening ${address} ${port}\n`);
  }
} catch (err) {
  process.stderr.write(`whoami: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
if (values['health-port'] !== undefined) {
  const healthPort = Number(values['health-port']);
  const health = createServer((conn) => conn.end());
  await new Promise<void>((resolve, reject) => {
    health.once('error', reject);
    health.listen(healthPort, '127.0.0.1', () => resolve());
  }).catch((err: unknown) => {
    process.stderr.write(`whoami: health port ${healthPort}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
  process.stdout.write(`health 127.0.0.1 ${healthPort}\n`);
}
process.stdout.write('ready\n');

const shutdown = (): void => {
  for (const socket of sockets) socket.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
