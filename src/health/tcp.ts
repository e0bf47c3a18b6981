/**
 * tcp check: the service accepts a connection. The socket is closed at once; nothing is sent.
 */
import { Socket } from 'node:net';
import type { CheckSpec } from '../config/types.js';
import { hostPort } from './label.js';
import { abortDescription, type ProbeResult } from './probe.js';

export type TcpCheckSpec = Extract<CheckSpec, { kind: 'tcp' }>;

export function probeTcp(spec: TcpCheckSpec, signal: AbortSignal): Promise<ProbeResult> {
  const target = hostPort(spec.host, spec.port);
  if (signal.aborted) return Promise.resolve({ ok: false, detail: `connect ${target}: ${abortDescription(signal)}` });
  return new Promise<ProbeResult>((resolve) => {
    const socket = new Socket();
    const finish = (result: ProbeResult): void => {
      signal.removeEventListener('abort', onAbort);
      // destroy, not end: a health check must not linger in FIN_WAIT or wait for the peer.
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish({ ok: false, detail: `connect ${target}: ${abortDescription(signal)}` });
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ ok: true, detail: `connected to ${target}` }));
    // Node's message already names the error and the address: "connect ECONNREFUSED 127.0.0.1:5432".
    socket.once('error', (err) => finish({ ok: false, detail: err.message }));
    socket.connect({ host: spec.host, port: spec.port });
  });
}
