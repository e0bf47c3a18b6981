/**
 * What one node tells its peers about itself in every heartbeat (request and reply), in the
 * agent's own types. heartbeat-wire.ts turns it into the protocol message and back.
 */
import type { Millis } from '../core/duration.js';
import type { ClusterName, NodeId, ServiceName } from '../core/ids.js';
import type { Method } from '../config/types.js';
import type { PeerServiceView } from '../decide.js';
import type { MembershipDigest } from './membership-digest.js';

/** decide()'s view of a peer's service, plus the exclusive handover's `released`. */
export interface ServiceState extends PeerServiceView {
  /** The node stopped serving the service and its withdrawal completed. */
  released: boolean;
  /** While holding: by which method (undefined: not said, as from an older node). */
  method?: Method;
}

export interface QuorumSummary {
  quorate: boolean;
  /** For operators only: nobody decides on another node's quorum. */
  reason: string;
}

export interface NodeState {
  cluster: ClusterName;
  node: NodeId;
  digest: MembershipDigest;
  /** The peers the node sees (complete round trips), itself not included. */
  seenPeers: ReadonlySet<NodeId>;
  quorum: QuorumSummary;
  services: ReadonlyMap<ServiceName, ServiceState>;
  /** The longest it may go on serving once it must stop (0: not said; use this node's own). */
  withdrawBound: Millis;
}

/**
 * The part of this node's state that the agent knows (the rest — cluster, id, digest and the
 * seen peers — Membership fills in). Asked for at every heartbeat, so it must be cheap.
 */
export interface LocalNodeState {
  quorum: QuorumSummary;
  services: ReadonlyMap<ServiceName, ServiceState>;
  withdrawBound: Millis;
}
