import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { HeartbeatReply as _quorate_v1_HeartbeatReply, HeartbeatReply__Output as _quorate_v1_HeartbeatReply__Output } from './quorate/v1/HeartbeatReply.js';
import type { HeartbeatRequest as _quorate_v1_HeartbeatRequest, HeartbeatRequest__Output as _quorate_v1_HeartbeatRequest__Output } from './quorate/v1/HeartbeatRequest.js';
import type { NodeState as _quorate_v1_NodeState, NodeState__Output as _quorate_v1_NodeState__Output } from './quorate/v1/NodeState.js';
import type { PeerClient as _quorate_v1_PeerClient, PeerDefinition as _quorate_v1_PeerDefinition } from './quorate/v1/Peer.js';
import type { ServiceState as _quorate_v1_ServiceState, ServiceState__Output as _quorate_v1_ServiceState__Output } from './quorate/v1/ServiceState.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  quorate: {
    v1: {
      HeartbeatReply: MessageTypeDefinition<_quorate_v1_HeartbeatReply, _quorate_v1_HeartbeatReply__Output>
      HeartbeatRequest: MessageTypeDefinition<_quorate_v1_HeartbeatRequest, _quorate_v1_HeartbeatRequest__Output>
      HoldMethod: EnumTypeDefinition
      NodeState: MessageTypeDefinition<_quorate_v1_NodeState, _quorate_v1_NodeState__Output>
      Peer: SubtypeConstructor<typeof grpc.Client, _quorate_v1_PeerClient> & { service: _quorate_v1_PeerDefinition }
      ServiceState: MessageTypeDefinition<_quorate_v1_ServiceState, _quorate_v1_ServiceState__Output>
    }
  }
}

