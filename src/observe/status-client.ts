/**
 * How `quorate status`, `drain` and `undrain` reach a running agent: its control socket in the
 * state folder first (it always exists, and answers drain), else `status.listen`.
 */
import { request } from 'node:http';
import type { AgentConfig, HostPort } from '../config/types.js';
import { controlSocketPath } from './status-server.js';

export interface AgentAnswer { code: number; body: string; via: string }

/** Undefined when no agent answers on either. */
export async function askAgent(config: AgentConfig, method: 'GET' | 'POST', path: string): Promise<AgentAnswer | undefined> {
  const socketPath = controlSocketPath(config.stateDir);
  const bySocket = await ask({ socketPath, path, method }, socketPath);
  if (bySocket) return bySocket;
  const listen = config.status?.listen;
  return listen ? askListener(listen, method, path) : undefined;
}

/** A status API on `status.listen` (an agent's or a quorum server's); undefined when none answers. */
export function askListener(listen: HostPort, method: 'GET' | 'POST', path: string): Promise<AgentAnswer | undefined> {
  const shown = listen.host.includes(':') ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`;
  return ask({ host: listen.host, port: listen.port, path, method }, `http://${shown}`);
}

function ask(options: { socketPath?: string; host?: string; port?: number; path: string; method: string }, via: string): Promise<AgentAnswer | undefined> {
  return new Promise((resolve) => {
    const req = request({ ...options, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body, via }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
