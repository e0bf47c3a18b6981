// Original file: proto/quorate/v1/peer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { HeartbeatReply as _quorate_v1_HeartbeatReply, HeartbeatReply__Output as _quorate_v1_HeartbeatReply__Output } from '../../quorate/v1/HeartbeatReply.js';
import type { HeartbeatRequest as _quorate_v1_HeartbeatRequest, HeartbeatRequest__Output as _quorate_v1_HeartbeatRequest__Output } from '../../quorate/v1/HeartbeatRequest.js';

export interface PeerClient extends grpc.Client {
  Heartbeat(argument: _quorate_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorate_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _quorate_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorate_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _quorate_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorate_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _quorate_v1_HeartbeatRequest, callback: grpc.requestCallback<_quorate_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _quorate_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorate_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _quorate_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorate_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _quorate_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorate_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _quorate_v1_HeartbeatRequest, callback: grpc.requestCallback<_quorate_v1_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  
}

export interface PeerHandlers extends grpc.UntypedServiceImplementation {
  Heartbeat: grpc.handleUnaryCall<_quorate_v1_HeartbeatRequest__Output, _quorate_v1_HeartbeatReply>;
  
}

export interface PeerDefinition extends grpc.ServiceDefinition {
  Heartbeat: MethodDefinition<_quorate_v1_HeartbeatRequest, _quorate_v1_HeartbeatReply, _quorate_v1_HeartbeatRequest__Output, _quorate_v1_HeartbeatReply__Output>
}
