/**
 * gRPC credentials for the two sides of every quorate connection (peer heartbeats, quorum
 * requests). Both sides authenticate: the server requires a client certificate from our CA,
 * and the client requires the server's certificate to chain to our CA *and* to carry the
 * binding of the party it meant to reach.
 *
 * Why the client checks the binding and not the host name or IP: servers are addressed by IP,
 * often through NAT or a service address, so the address in the client's config need not be
 * one the certificate lists, and an address check would fail real deployments or push operators
 * to turn verification off. What must hold is "this is the quorum server (or node X of my
 * cluster) of my CA", and only the binding says that: a node's certificate, also from our CA,
 * must not pass for the quorum server. Server certificates still carry DNS/IP SANs of their
 * listen address, so standard tools (openssl s_client -verify_ip) can check them.
 */
import * as grpc from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { ClusterName, NodeId } from '../core/ids.js';
import type { Logger } from '../observe/logger.js';
import { describeBinding, nodeBindingUri, parseBindings, SERVER_BINDING_URI } from './binding.js';
import type { TlsSetup } from './material.js';
import type { RefusalRecorder } from './refusals.js';

/** Whom a client expects to reach. */
export type ExpectedServer =
  | { readonly role: 'quorum-server' }
  | { readonly role: 'node'; readonly cluster: ClusterName; readonly node: NodeId };

/**
 * Server credentials for grpc.Server#bindAsync: client certificate required and verified
 * against the CA by the handshake. Refusals at the handshake are then invisible to us (Node
 * closes the socket silently); listenMutualTls (mutual-tls-listener.ts) accepts with the same
 * rules and also counts and logs each refusal — prefer it for a listening service.
 */
export function serverCredentials(tls: TlsSetup): grpc.ServerCredentials {
  if (tls.insecure) return grpc.ServerCredentials.createInsecure();
  const { ca, cert, key } = tls.material;
  return grpc.ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], true);
}

/**
 * Channel credentials that present our certificate and accept only a server whose certificate
 * chains to our CA and binds `expect`. A refused server is recorded (reason `server-binding`)
 * when a recorder is given; the call fails UNAVAILABLE with the reason in its details.
 */
export function channelCredentials(tls: TlsSetup, expect: ExpectedServer, refusals?: RefusalRecorder): grpc.ChannelCredentials {
  if (tls.insecure) return grpc.credentials.createInsecure();
  const { ca, cert, key } = tls.material;
  return grpc.credentials.createSsl(ca, key, cert, {
    checkServerIdentity: (host, peer) => {
      const problem = serverBindingProblem(peer, expect);
      if (problem === undefined) return undefined;
      refusals?.refuse('server-binding', problem, host);
      return new Error(problem);
    },
  });
}

/** undefined when the server's certificate binds exactly what the client expects. */
export function serverBindingProblem(peer: Pick<PeerCertificate, 'subjectaltname' | 'subject'>, expect: ExpectedServer): string | undefined {
  const { bindings, malformed } = parseBindings(peer.subjectaltname);
  const wanted = expect.role === 'quorum-server' ? SERVER_BINDING_URI : nodeBindingUri(expect.cluster, expect.node);
  const found = bindings.map(describeBinding);
  if (malformed.length === 0 && found.length === 1 && found[0] === wanted) return undefined;
  const has = found.length > 0 || malformed.length > 0 ? [...found, ...malformed].join(', ') : 'no quorate binding';
  return `server certificate "${peer.subject?.CN ?? '?'}" does not bind ${wanted} (it has ${has})`;
}

/**
 * Said at every start of a process running without TLS: anyone who reaches the port can then
 * obtain or release quorum for any cluster, or pose as any node.
 */
export function warnInsecure(logger: Logger, what = 'quorate'): void {
  logger.warn(
    { tls: 'insecure' },
    `${what}: tls.insecure is set — connections are neither encrypted nor authenticated; any host that reaches the port can pose as any node or cluster. For labs and tests only.`,
  );
}
