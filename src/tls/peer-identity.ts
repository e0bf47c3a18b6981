/**
 * Who is calling: the node binding of the client certificate that the TLS handshake already
 * verified (chain to our CA, validity dates). A handler calls identifyCall, then checkClaim
 * against the cluster and node the request speaks for, so a node can neither act for another
 * cluster nor pose as another node of its own.
 */
import type { PeerCertificate } from 'node:tls';
import type { ClusterName, NodeId } from '../core/ids.js';
import { describeBinding, parseBindings } from './binding.js';
import type { ConnectionIdentities } from './connection-identities.js';
import type { RefusalReason, RefusalRecorder } from './refusals.js';

export interface PeerIdentity { readonly cluster: ClusterName; readonly node: NodeId }
export interface Refusal { readonly refused: string; readonly reason: RefusalReason }

/** What identifyCall needs of a grpc-js server call (every kind of call has it). */
export interface CallWithAuthContext {
  getAuthContext(): { sslPeerCertificate?: PeerCertificate } | null;
  getPeer?(): string;
}

export function identifyCall(call: CallWithAuthContext): PeerIdentity | Refusal {
  // grpc-js fills sslPeerCertificate only for a TLS connection whose certificate verified.
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (!cert) return { refused: 'no verified client certificate on this connection', reason: 'no-certificate' };
  return identifyCertificate(cert);
}

/** The node binding of a verified certificate: exactly one, or a refusal saying what is wrong. */
export function identifyCertificate(cert: Pick<PeerCertificate, 'subjectaltname' | 'subject'>): PeerIdentity | Refusal {
  const { bindings, malformed } = parseBindings(cert.subjectaltname);
  const who = `certificate "${cert.subject?.CN ?? '?'}"`;
  if (malformed.length > 0) return { refused: `${who} carries a malformed binding ${malformed.join(', ')}`, reason: 'no-binding' };
  const nodes = bindings.filter((b) => b.kind === 'node');
  if (nodes.length === 0) {
    const other = bindings.length > 0 ? ` (it binds ${bindings.map(describeBinding).join(', ')})` : '';
    return { refused: `${who} binds no node${other}`, reason: 'no-binding' };
  }
  if (nodes.length > 1 || bindings.length > 1) {
    return { refused: `${who} binds more than one identity (${bindings.map(describeBinding).join(', ')})`, reason: 'no-binding' };
  }
  const [only] = nodes;
  return { cluster: only!.cluster, node: only!.node };
}

export function isRefusal(x: PeerIdentity | Refusal): x is Refusal {
  return 'refused' in x;
}

/**
 * The caller's certificate must bind exactly the cluster and node its request claims.
 * Returns undefined when it does.
 */
export function checkClaim(identity: PeerIdentity, claimed: { cluster: string; node: string }): Refusal | undefined {
  if (identity.cluster !== claimed.cluster) {
    return { refused: `node ${identity.node} of cluster ${identity.cluster} spoke for cluster ${claimed.cluster}`, reason: 'wrong-cluster' };
  }
  if (identity.node !== claimed.node) {
    return { refused: `node ${identity.node} of cluster ${identity.cluster} claimed to be node ${claimed.node}`, reason: 'wrong-node' };
  }
  return undefined;
}

/**
 * For services that only need "who, or nobody" (the quorum server's `identify` hook): the
 * bound identity, or undefined after recording why the certificate was refused. The service
 * still compares it with the request (as checkClaim does). With `known` (the listener's
 * record of its connections) the certificate is not parsed again for every call.
 */
export function identifyCaller(refusals: RefusalRecorder, known?: ConnectionIdentities): (call: CallWithAuthContext) => PeerIdentity | undefined {
  return (call) => {
    const peer = call.getPeer?.();
    const identity = (peer !== undefined ? known?.lookup(peer) : undefined) ?? identifyCall(call);
    if (!isRefusal(identity)) return identity;
    refusals.refuse(identity.reason, identity.refused, call.getPeer?.());
    return undefined;
  };
}
