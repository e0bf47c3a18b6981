/**
 * The local status API: GET /status (what the agent sees and decided, as JSON), GET /metrics
 * (Prometheus), GET /healthz, POST /drain/<service> and /undrain/<service> (`all` for every
 * service). Meant for 127.0.0.1: it has no authentication.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { HostPort } from '../config/types.js';

export interface StatusSource {
  status(): unknown;
  registry: Registry;
  /** Returns false when the service is unknown. */
  setDrained(service: string, drained: boolean): boolean;
}

export async function startStatusServer(listen: HostPort, source: StatusSource): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://status');
    const send = (code: number, body: string, type = 'application/json') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    const drain = /^\/(drain|undrain)\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && url.pathname === '/status') return send(200, JSON.stringify(source.status(), null, 2) + '\n');
    if (req.method === 'GET' && url.pathname === '/healthz') return send(200, '{"ok":true}\n');
    if (req.method === 'GET' && url.pathname === '/metrics') {
      source.registry.metrics().then(
        (text) => send(200, text, source.registry.contentType),
        (err: unknown) => send(500, JSON.stringify({ error: String(err) })),
      );
      return;
    }
    if (req.method === 'POST' && drain) {
      const service = decodeURIComponent(drain[2]!);
      if (!source.setDrained(service, drain[1] === 'drain')) return send(404, JSON.stringify({ error: `no service "${service}"` }) + '\n');
      return send(200, JSON.stringify({ service, drained: drain[1] === 'drain' }) + '\n');
    }
    send(404, JSON.stringify({ error: 'not found', endpoints: ['GET /status', 'GET /metrics', 'GET /healthz', 'POST /drain/<service|all>', 'POST /undrain/<service|all>'] }) + '\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}
