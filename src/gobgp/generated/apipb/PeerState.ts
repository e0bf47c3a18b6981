// Original file: proto/gobgp/gobgp.proto

import type { PeerType as _apipb_PeerType, PeerType__Output as _apipb_PeerType__Output } from '../apipb/PeerType.js';

// Original file: proto/gobgp/gobgp.proto

export const _apipb_PeerState_AdminState = {
  UP: 'UP',
  DOWN: 'DOWN',
  PFX_CT: 'PFX_CT',
} as const;

export type _apipb_PeerState_AdminState =
  | 'UP'
  | 0
  | 'DOWN'
  | 1
  | 'PFX_CT'
  | 2

export type _apipb_PeerState_AdminState__Output = typeof _apipb_PeerState_AdminState[keyof typeof _apipb_PeerState_AdminState]

// Original file: proto/gobgp/gobgp.proto

export const _apipb_PeerState_SessionState = {
  UNKNOWN: 'UNKNOWN',
  IDLE: 'IDLE',
  CONNECT: 'CONNECT',
  ACTIVE: 'ACTIVE',
  OPENSENT: 'OPENSENT',
  OPENCONFIRM: 'OPENCONFIRM',
  ESTABLISHED: 'ESTABLISHED',
} as const;

export type _apipb_PeerState_SessionState =
  | 'UNKNOWN'
  | 0
  | 'IDLE'
  | 1
  | 'CONNECT'
  | 2
  | 'ACTIVE'
  | 3
  | 'OPENSENT'
  | 4
  | 'OPENCONFIRM'
  | 5
  | 'ESTABLISHED'
  | 6

export type _apipb_PeerState_SessionState__Output = typeof _apipb_PeerState_SessionState[keyof typeof _apipb_PeerState_SessionState]

export interface PeerState {
  'description'?: (string);
  'local_asn'?: (number);
  'neighbor_address'?: (string);
  'peer_asn'?: (number);
  'type'?: (_apipb_PeerType);
  'session_state'?: (_apipb_PeerState_SessionState);
  'admin_state'?: (_apipb_PeerState_AdminState);
  'flops'?: (number);
  'router_id'?: (string);
}

export interface PeerState__Output {
  'description': (string);
  'local_asn': (number);
  'neighbor_address': (string);
  'peer_asn': (number);
  'type': (_apipb_PeerType__Output);
  'session_state': (_apipb_PeerState_SessionState__Output);
  'admin_state': (_apipb_PeerState_AdminState__Output);
  'flops': (number);
  'router_id': (string);
}
