// Original file: proto/quorate/v1/peer.proto

import type { NodeState as _quorate_v1_NodeState, NodeState__Output as _quorate_v1_NodeState__Output } from '../../quorate/v1/NodeState.js';
import type { Long } from '@grpc/proto-loader';

export interface HeartbeatRequest {
  'protocol_version'?: (number);
  'sequence'?: (number | string | Long);
  'sender'?: (_quorate_v1_NodeState | null);
}

export interface HeartbeatRequest__Output {
  'protocol_version': (number);
  'sequence': (number);
  'sender': (_quorate_v1_NodeState__Output | null);
}
