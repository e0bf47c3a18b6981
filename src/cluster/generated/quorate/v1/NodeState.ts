// Original file: proto/quorate/v1/peer.proto

import type { ServiceState as _quorate_v1_ServiceState, ServiceState__Output as _quorate_v1_ServiceState__Output } from '../../quorate/v1/ServiceState.js';

export interface NodeState {
  'cluster'?: (string);
  'node'?: (string);
  'membership_digest'?: (Buffer | Uint8Array | string);
  'seen_peers'?: (string)[];
  'quorate'?: (boolean);
  'quorum_reason'?: (string);
  'services'?: (_quorate_v1_ServiceState)[];
  'withdraw_bound_ms'?: (number);
}

export interface NodeState__Output {
  'cluster': (string);
  'node': (string);
  'membership_digest': (Buffer);
  'seen_peers': (string)[];
  'quorate': (boolean);
  'quorum_reason': (string);
  'services': (_quorate_v1_ServiceState__Output)[];
  'withdraw_bound_ms': (number);
}
