/**
 * The lab's demo service: a tiny HTTP server a node of the demo "serves". Run as its own
 * process (`node dist/lab/service-main.js --listen 192.0.2.10:8080 --body node-a`) so tests
 * can kill and restart it by PID like a real service.
 *
 *   GET /         → 200, the configured body (say, the node's name) and a newline
 *   GET /healthz  → 200 `ok`, or 503 `unhealthy` after SIGUSR1 (SIGUSR2 makes it healthy again)
 *
 * Prints `listening HOST:PORT` on stdout once bound; exits 0 on SIGTERM / SIGINT.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    listen: { type: 'string' },
    body: { type: 'string', default: 'quorate lab service' },
  },
});
const listen = values.listen ?? '127.0.0.1:8080';
const split = listen.lastIndexOf(':');
const host = listen.slice(0, split).replace(/^\[(.*)\]$/, '$1');
const port = Number(listen.slice(split + 1));
if (split < 0 || !host || !Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`service: --listen must be HOST:PORT (IPv6 as [ADDR]:PORT), got "${listen}"\n`);
  process.exit(2);
}

// Health can be failed without killing the process, to test "unhealthy but alive".
let healthy = true;
process.on('SIGUSR1', () => (healthy = false));
process.on('SIGUSR2', () => (healthy = true));

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(healthy ? 'ok\n' : 'unhealthy\n');
    return;
  }
  if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${values.body}\n`);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});

server.on('error', (err) => {
  process.stderr.write(`service: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, host, () => {
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  process.stdout.write(`listening ${host.includes(':') ? `[${host}]` : host}:${bound}\n`);
});

const shutdown = (): void => {
  server.close(() => process.exit(0));
  // Keep-alive connections would hold close() open; a service being stopped drops them.
  server.closeAllConnections();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
