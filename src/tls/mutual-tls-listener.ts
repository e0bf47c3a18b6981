/**
 * A listening port for a grpc.Server that does the TLS handshake itself and hands only
 * verified connections to gRPC (grpc-js's connection injector), so that every refusal —
 * another CA, an expired or missing client certificate, plain TCP, garbage — is counted and
 * logged with its reason. grpc-js's own TLS listener enforces the same rules but closes such
 * connections silently.
 *
 * The rules are those of serverCredentials(): TLS with our certificate, a client certificate
 * that chains to our CA and is within its dates. The node binding is checked per call by the
 * service (identifyCall + checkClaim), because only the call says whom the client speaks for.
 */
import * as grpc from '@grpc/grpc-js';
import { createServer as createTcpServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { ms, type Millis } from '../core/duration.js';
import type { ConnectionIdentities } from './connection-identities.js';
import type { TlsSetup } from './material.js';
import type { RefusalReason, RefusalRecorder } from './refusals.js';
import { reasonForHandshakeError, reasonForVerifyError } from './verify-error.js';

export interface MutualTlsListenOptions {
  host: string;
  /** 0 picks a free port (see the returned `port`). */
  port: number;
  tls: TlsSetup;
  refusals: RefusalRecorder;
  /** A connection that has not finished its handshake by then is dropped (and counted). */
  handshakeTimeout?: Millis;
  /** Filled with each accepted connection's identity, for handlers that look it up per call. */
  identities?: ConnectionIdentities;
}

export interface MutualTlsListener {
  readonly port: number;
  /** Stops accepting and ends every connection this listener accepted (call it after the grpc.Server's own shutdown, for a graceful one). */
  close(): Promise<void>;
}

const DEFAULT_HANDSHAKE_TIMEOUT = ms(10_000);

export async function listenMutualTls(server: grpc.Server, opts: MutualTlsListenOptions): Promise<MutualTlsListener> {
  // The injector speaks plain HTTP/2 over whatever stream it gets; TLS is already done below.
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const accepted = new Set<Socket>();
  let listener: NetServer;

  if (opts.tls.insecure) {
    listener = createTcpServer((socket) => injector.injectConnection(socket));
  } else {
    const { ca, cert, key } = opts.tls.material;
    const tlsServer = createTlsServer({
      ca, cert, key,
      requestCert: true,
      // Verified below, so that a refusal can be told apart and counted; nothing unverified
      // reaches gRPC.
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      handshakeTimeout: opts.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
    });
    tlsServer.on('secureConnection', (socket: TLSSocket) => {
      const refusal = verifyClient(socket);
      if (refusal) {
        opts.refusals.refuse(refusal.reason, refusal.detail, peerOf(socket));
        socket.on('error', () => {}); // the peer may reset first; it is already counted
        socket.destroy();
        return;
      }
      opts.identities?.remember(socket);
      injector.injectConnection(socket);
    });
    tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      opts.refusals.refuse(reasonForHandshakeError(err), `TLS handshake failed: ${err.code ?? ''} ${err.message}`.trim(), peerOf(socket));
      // Node reports a handshake timeout but leaves the connection open: close it ourselves.
      socket.destroy();
    });
    listener = tlsServer;
  }

  listener.on('connection', (raw: Socket) => {
    accepted.add(raw);
    raw.once('close', () => accepted.delete(raw));
  });

  const port = await new Promise<number>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(opts.port, opts.host, () => {
      listener.off('error', reject);
      // After the bind, an accept error (EMFILE, …) must not take the process down with it.
      listener.on('error', (err) => opts.refusals.logger.error({ err }, `listener on ${opts.host}:${opts.port} failed to accept: ${err.message}`));
      const address = listener.address();
      resolve(typeof address === 'object' && address ? address.port : opts.port);
    });
  });

  return {
    port,
    close: () => new Promise<void>((resolve) => {
      for (const socket of accepted) socket.destroy();
      injector.destroy();
      listener.close(() => resolve());
    }),
  };
}

function verifyClient(socket: TLSSocket): { reason: RefusalReason; detail: string } | undefined {
  const peer = socket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0) return { reason: 'no-certificate', detail: 'the client presented no certificate' };
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'unknown');
    return {
      reason: reasonForVerifyError(code),
      detail: `client certificate "${peer.subject?.CN ?? '?'}" (issuer "${peer.issuer?.CN ?? '?'}", valid ${peer.valid_from} – ${peer.valid_to}): ${code}`,
    };
  }
  if (socket.alpnProtocol !== 'h2') return { reason: 'handshake', detail: 'the client did not negotiate HTTP/2 (ALPN h2)' };
  return undefined;
}

function peerOf(socket: Socket | undefined): string | undefined {
  if (!socket?.remoteAddress) return undefined;
  return socket.remoteAddress.includes(':') ? `[${socket.remoteAddress}]:${socket.remotePort}` : `${socket.remoteAddress}:${socket.remotePort}`;
}
