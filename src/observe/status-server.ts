/**
 * The local status API: GET /status (what the agent sees and decided, as JSON), GET /metrics
 * (Prometheus), GET /healthz, POST /drain/<service> and /undrain/<service> (`all` for every
 * service). Served on `status.listen` (TCP) and always on the control socket in the state
 * folder (`quorate status`, `quorate drain` use it). It has no authentication, so what changes
 * state is answered only on the control socket or from a loopback address: `status.listen`
 * may face a Prometheus server, never an operator's drain.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { rm } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import { join } from 'node:path';
import type { HostPort } from '../config/types.js';

/** The control socket in the state folder: the status API, and drain for `quorate drain`. */
export const controlSocketPath = (stateDir: string): string => join(stateDir, 'control.sock');

export interface StatusSource {
  status(): unknown;
  registry: Registry;
  /** Resolves undefined when the service is unknown. Absent (the quorum server): no drain endpoints. */
  setDrained?(service: string, drained: boolean, by: string): Promise<DrainAnswer[] | undefined>;
}

/** What a drain or undrain did to one service. */
export interface DrainAnswer {
  service: string;
  drained: boolean;
  /** Other nodes that serve it now, or (exclusive) take it over from this one. */
  elsewhere: string[];
}

export type StatusListen = { tcp: HostPort } | { socket: string };

const ENDPOINTS = ['GET /status', 'GET /metrics', 'GET /healthz', 'POST /drain/<service|all>', 'POST /undrain/<service|all>'];

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

function handler(source: StatusSource, local: boolean) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://status');
    const send = (code: number, body: unknown, type = 'application/json') => {
      res.writeHead(code, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body, null, 2) + '\n');
    };
    const drain = /^\/(drain|undrain)\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && url.pathname === '/status') return send(200, source.status());
    if (req.method === 'GET' && url.pathname === '/healthz') return send(200, { ok: true });
    if (req.method === 'GET' && url.pathname === '/metrics') {
      source.registry.metrics().then(
        (text) => send(200, text, source.registry.contentType),
        (err: unknown) => send(500, { error: String(err) }),
      );
      return;
    }
    if (req.method === 'POST' && drain && source.setDrained) {
      if (!local && !isLoopback(req.socket.remoteAddress)) {
        return send(403, { error: 'drain and undrain are answered only from a loopback address or on the control socket' });
      }
      const service = decodeURIComponent(drain[2]!);
      const drained = drain[1] === 'drain';
      const by = local ? 'the control socket' : `the status API (${req.socket.remoteAddress})`;
      source.setDrained(service, drained, by).then(
        (answers) => (answers ? send(200, { services: answers }) : send(404, { error: `no service "${service}"` })),
        (err: unknown) => send(500, { error: `could not ${drain[1]} ${service}: ${String(err)}` }),
      );
      return;
    }
    send(404, { error: 'not found', endpoints: source.setDrained ? ENDPOINTS : ENDPOINTS.filter((e) => e.startsWith('GET')) });
  };
}

export async function startStatusServer(listen: StatusListen, source: StatusSource): Promise<Server> {
  const local = 'socket' in listen;
  if (local) await takeOverSocketPath(listen.socket);
  const server = createServer(handler(source, local));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (local) server.listen(listen.socket, () => resolve());
    else server.listen(listen.tcp.port, listen.tcp.host, () => resolve());
  });
  return server;
}

/**
 * A socket file left by an agent that died is removed; one that answers belongs to a running
 * agent with the same state folder, and two agents there would fight over one record.
 */
async function takeOverSocketPath(path: string): Promise<void> {
  const answered = await new Promise<boolean>((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  if (answered) throw new Error(`another agent answers on ${path}: it uses the same state-dir`);
  await rm(path, { force: true });
}
