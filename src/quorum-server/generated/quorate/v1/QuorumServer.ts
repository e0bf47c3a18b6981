// Original file: proto/quorate/v1/quorum.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { LeaseAnswer as _quorate_v1_LeaseAnswer, LeaseAnswer__Output as _quorate_v1_LeaseAnswer__Output } from '../../quorate/v1/LeaseAnswer.js';
import type { LeaseRequest as _quorate_v1_LeaseRequest, LeaseRequest__Output as _quorate_v1_LeaseRequest__Output } from '../../quorate/v1/LeaseRequest.js';
import type { ReleaseAnswer as _quorate_v1_ReleaseAnswer, ReleaseAnswer__Output as _quorate_v1_ReleaseAnswer__Output } from '../../quorate/v1/ReleaseAnswer.js';
import type { ReleaseRequest as _quorate_v1_ReleaseRequest, ReleaseRequest__Output as _quorate_v1_ReleaseRequest__Output } from '../../quorate/v1/ReleaseRequest.js';

export interface QuorumServerClient extends grpc.Client {
  ReleaseLease(argument: _quorate_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorate_v1_ReleaseAnswer__Output>): grpc.ClientUnaryCall;
  ReleaseLease(argument: _quorate_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorate_v1_ReleaseAnswer__Output>): grpc.ClientUnaryCall;
  ReleaseLease(argument: _quorate_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorate_v1_ReleaseAnswer__Output>): grpc.ClientUnaryCall;
  ReleaseLease(argument: _quorate_v1_ReleaseRequest, callback: grpc.requestCallback<_quorate_v1_ReleaseAnswer__Output>): grpc.ClientUnaryCall;
  releaseLease(argument: _quorate_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorate_v1_ReleaseAnswer__Output>): grpc.ClientUnaryCall;
  releaseLease(argument: _quorate_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorate_v1_ReleaseAnswer__Output>): grpc.ClientUnaryCall;
  releaseLease(argument: _quorate_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorate_v1_ReleaseAnswer__Output>): grpc.ClientUnaryCall;
  releaseLease(argument: _quorate_v1_ReleaseRequest, callback: grpc.requestCallback<_quorate_v1_ReleaseAnswer__Output>): grpc.ClientUnaryCall;
  
  RequestLease(argument: _quorate_v1_LeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorate_v1_LeaseAnswer__Output>): grpc.ClientUnaryCall;
  RequestLease(argument: _quorate_v1_LeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorate_v1_LeaseAnswer__Output>): grpc.ClientUnaryCall;
  RequestLease(argument: _quorate_v1_LeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorate_v1_LeaseAnswer__Output>): grpc.ClientUnaryCall;
  RequestLease(argument: _quorate_v1_LeaseRequest, callback: grpc.requestCallback<_quorate_v1_LeaseAnswer__Output>): grpc.ClientUnaryCall;
  requestLease(argument: _quorate_v1_LeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorate_v1_LeaseAnswer__Output>): grpc.ClientUnaryCall;
  requestLease(argument: _quorate_v1_LeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorate_v1_LeaseAnswer__Output>): grpc.ClientUnaryCall;
  requestLease(argument: _quorate_v1_LeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorate_v1_LeaseAnswer__Output>): grpc.ClientUnaryCall;
  requestLease(argument: _quorate_v1_LeaseRequest, callback: grpc.requestCallback<_quorate_v1_LeaseAnswer__Output>): grpc.ClientUnaryCall;
  
}

export interface QuorumServerHandlers extends grpc.UntypedServiceImplementation {
  ReleaseLease: grpc.handleUnaryCall<_quorate_v1_ReleaseRequest__Output, _quorate_v1_ReleaseAnswer>;
  
  RequestLease: grpc.handleUnaryCall<_quorate_v1_LeaseRequest__Output, _quorate_v1_LeaseAnswer>;
  
}

export interface QuorumServerDefinition extends grpc.ServiceDefinition {
  ReleaseLease: MethodDefinition<_quorate_v1_ReleaseRequest, _quorate_v1_ReleaseAnswer, _quorate_v1_ReleaseRequest__Output, _quorate_v1_ReleaseAnswer__Output>
  RequestLease: MethodDefinition<_quorate_v1_LeaseRequest, _quorate_v1_LeaseAnswer, _quorate_v1_LeaseRequest__Output, _quorate_v1_LeaseAnswer__Output>
}
