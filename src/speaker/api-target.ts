/**
 * Where gobgpd's gRPC API listens: a unix socket path, or an IP address and port.
 * A speaker the agent runs itself should use a private unix socket: gobgpd's default
 * (`:50051`, every interface) is reachable from the network, and Debian's own
 * gobgpd.service may already hold 127.0.0.1:50051.
 */
import { connect, isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import type { Millis } from '../core/duration.js';

export type ApiTarget =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/**
 * Parses `unix:///abs/path` (also `unix:/abs/path`) or `IP:port` / `[IPv6]:port`.
 * Host names are refused (except `localhost`): the ownership check compares addresses.
 */
export function parseApiTarget(text: string): ApiTarget {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length).replace(/^\/\//, '');
    if (!isAbsolute(path)) throw new Error(`API target "${text}": a unix socket needs an absolute path (unix:///path)`);
    return { kind: 'unix', path };
  }
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) throw new Error(`API target "${text}" is neither unix:///path nor IP:port`);
  const host = match[1] ?? (match[2] === 'localhost' ? '127.0.0.1' : match[2]!);
  const port = Number(match[3]);
  if (isIP(host) === 0) throw new Error(`API target "${text}": use an IP address, not a host name`);
  if (port < 1 || port > 65535) throw new Error(`API target "${text}": port must be 1..65535`);
  return { kind: 'tcp', host, port };
}

/** The target as gRPC clients (grpc-js, the gobgp CLI's --target) spell it. */
export function grpcTarget(target: ApiTarget): string {
  if (target.kind === 'unix') return `unix://${target.path}`;
  return isIP(target.host) === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/** The value of gobgpd's `--api-hosts` (gobgpd 3.10 accepts the same spelling as gRPC). */
export const apiHostsArgument = grpcTarget;

/** True when something accepts a connection at the target right now. */
export function acceptsConnections(target: ApiTarget, timeout: Millis): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = target.kind === 'unix' ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
    const done = (accepted: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(accepted);
    };
    const timer = setTimeout(() => done(false), timeout);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
