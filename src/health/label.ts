import type { CheckSpec } from '../config/types.js';

/**
 * How a check is named in logs, causes and the status API: its kind and target, e.g.
 * "http http://127.0.0.1:8080/healthz", "tcp 127.0.0.1:5432", "exec /usr/local/bin/check-dns --quick".
 */
export function checkLabel(spec: CheckSpec): string {
  switch (spec.kind) {
    case 'tcp':
      return `tcp ${hostPort(spec.host, spec.port)}`;
    case 'http':
      return `http ${spec.url}`;
    case 'exec':
      return `exec ${spec.command.join(' ')}`;
    case 'grpc':
      return `grpc ${spec.tls ? 'tls ' : ''}${hostPort(spec.host, spec.port)}${spec.service ? ` service=${spec.service}` : ''}`;
  }
}

/** IPv6 literals get brackets so the port stays readable. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
