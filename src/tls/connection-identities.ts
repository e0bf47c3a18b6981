/**
 * The identity of each live connection a mutual-TLS listener accepted, read once from its
 * certificate when the handshake completes. grpc-js's getAuthContext() parses the peer
 * certificate anew on every call; at a quorum server's thousand renewals a second that was
 * the largest share of its per-call work and garbage (bench/quorum-e2e).
 *
 * Keyed as grpc-js names a call's peer (`address:port`, call.getPeer()): while a connection
 * lives no other can have its address and port, and the entry goes when it closes (only its
 * own entry: a late close must not remove a newer connection's).
 */
import type { TLSSocket } from 'node:tls';
import { identifyCertificate, type PeerIdentity, type Refusal } from './peer-identity.js';

export class ConnectionIdentities {
  private readonly byPeer = new Map<string, { socket: TLSSocket; identity: PeerIdentity | Refusal }>();

  /** Call for a connection whose certificate has been verified (chain, dates). */
  remember(socket: TLSSocket): void {
    const peer = grpcPeerName(socket);
    if (!peer) return;
    this.byPeer.set(peer, { socket, identity: identifyCertificate(socket.getPeerCertificate()) });
    socket.once('close', () => {
      if (this.byPeer.get(peer)?.socket === socket) this.byPeer.delete(peer);
    });
  }

  /** The identity of the live connection `peer` (as call.getPeer() gives it), if this listener accepted it. */
  lookup(peer: string): PeerIdentity | Refusal | undefined {
    return this.byPeer.get(peer)?.identity;
  }

  get size(): number {
    return this.byPeer.size;
  }
}

/** The peer name grpc-js gives a call on this socket (server-interceptors: `${remoteAddress}:${remotePort}`). */
function grpcPeerName(socket: TLSSocket): string | undefined {
  if (!socket.remoteAddress || !socket.remotePort) return undefined;
  return `${socket.remoteAddress}:${socket.remotePort}`;
}
