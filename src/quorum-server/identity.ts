/**
 * Who is calling. With mutual TLS the certificate binds a cluster and a node id (src/tls
 * provides the function that reads them from the call); a request must be for exactly that
 * cluster and node. In insecure mode (labs and tests) there is nothing to check against, and
 * the request's own fields are taken as the identity.
 */
import type * as grpc from '@grpc/grpc-js';

export interface CallerIdentity {
  cluster: string;
  node: string;
}

/** The request fields an identity is compared with (both of the protocol's requests have them). */
export interface IdentifiedFields {
  cluster: string;
  node: string;
}

/** Returns the caller's bound identity, or undefined when it has none (the call is refused). */
export type IdentifyCaller = (call: grpc.ServerUnaryCall<IdentifiedFields, unknown>) => CallerIdentity | undefined;

/** Insecure mode only: the request vouches for itself. */
export const identityFromRequest: IdentifyCaller = (call) => ({ cluster: call.request.cluster, node: call.request.node });
