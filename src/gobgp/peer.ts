import type { Peer__Output } from './generated/apipb/Peer.js';
import type { _apipb_PeerState_SessionState__Output as SessionStateName } from './generated/apipb/PeerState.js';

/** BGP FSM states as gobgpd names them. */
export type SessionState = SessionStateName;

/** One configured neighbor of gobgpd, as the agent reports and checks it. */
export interface PeerInfo {
  /** The neighbor's address (configured). */
  address: string;
  /** The neighbor's AS. */
  asn: number;
  localAsn: number;
  state: SessionState;
  established: boolean;
  adminDown: boolean;
  description: string;
  /** The neighbor's BGP identifier once a session has been up; '' before. */
  routerId: string;
  /** Hold time agreed with the neighbor in seconds (0 while not established). */
  negotiatedHoldTime: number;
}

export function peerInfoOf(peer: Peer__Output): PeerInfo {
  const state: SessionState = peer.state?.session_state ?? 'UNKNOWN';
  return {
    address: peer.conf?.neighbor_address || peer.state?.neighbor_address || '',
    asn: peer.conf?.peer_asn || peer.state?.peer_asn || 0,
    localAsn: peer.conf?.local_asn || peer.state?.local_asn || 0,
    state,
    established: state === 'ESTABLISHED',
    adminDown: peer.state?.admin_state === 'DOWN' || (peer.conf?.admin_down ?? false),
    description: peer.conf?.description || peer.state?.description || '',
    routerId: peer.state?.router_id ?? '',
    negotiatedHoldTime: peer.timers?.state?.negotiated_hold_time ?? 0,
  };
}
