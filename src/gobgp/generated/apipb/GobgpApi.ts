// Original file: proto/gobgp/gobgp.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddPathRequest as _apipb_AddPathRequest, AddPathRequest__Output as _apipb_AddPathRequest__Output } from '../apipb/AddPathRequest.js';
import type { AddPathResponse as _apipb_AddPathResponse, AddPathResponse__Output as _apipb_AddPathResponse__Output } from '../apipb/AddPathResponse.js';
import type { AddPathStreamRequest as _apipb_AddPathStreamRequest, AddPathStreamRequest__Output as _apipb_AddPathStreamRequest__Output } from '../apipb/AddPathStreamRequest.js';
import type { DeletePathRequest as _apipb_DeletePathRequest, DeletePathRequest__Output as _apipb_DeletePathRequest__Output } from '../apipb/DeletePathRequest.js';
import type { Empty as _google_protobuf_Empty, Empty__Output as _google_protobuf_Empty__Output } from '../google/protobuf/Empty.js';
import type { GetBgpRequest as _apipb_GetBgpRequest, GetBgpRequest__Output as _apipb_GetBgpRequest__Output } from '../apipb/GetBgpRequest.js';
import type { GetBgpResponse as _apipb_GetBgpResponse, GetBgpResponse__Output as _apipb_GetBgpResponse__Output } from '../apipb/GetBgpResponse.js';
import type { ListPathRequest as _apipb_ListPathRequest, ListPathRequest__Output as _apipb_ListPathRequest__Output } from '../apipb/ListPathRequest.js';
import type { ListPathResponse as _apipb_ListPathResponse, ListPathResponse__Output as _apipb_ListPathResponse__Output } from '../apipb/ListPathResponse.js';
import type { ListPeerRequest as _apipb_ListPeerRequest, ListPeerRequest__Output as _apipb_ListPeerRequest__Output } from '../apipb/ListPeerRequest.js';
import type { ListPeerResponse as _apipb_ListPeerResponse, ListPeerResponse__Output as _apipb_ListPeerResponse__Output } from '../apipb/ListPeerResponse.js';
import type { WatchEventRequest as _apipb_WatchEventRequest, WatchEventRequest__Output as _apipb_WatchEventRequest__Output } from '../apipb/WatchEventRequest.js';
import type { WatchEventResponse as _apipb_WatchEventResponse, WatchEventResponse__Output as _apipb_WatchEventResponse__Output } from '../apipb/WatchEventResponse.js';

export interface GobgpApiClient extends grpc.Client {
  AddPath(argument: _apipb_AddPathRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_apipb_AddPathResponse__Output>): grpc.ClientUnaryCall;
  AddPath(argument: _apipb_AddPathRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_apipb_AddPathResponse__Output>): grpc.ClientUnaryCall;
  AddPath(argument: _apipb_AddPathRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_apipb_AddPathResponse__Output>): grpc.ClientUnaryCall;
  AddPath(argument: _apipb_AddPathRequest, callback: grpc.requestCallback<_apipb_AddPathResponse__Output>): grpc.ClientUnaryCall;
  addPath(argument: _apipb_AddPathRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_apipb_AddPathResponse__Output>): grpc.ClientUnaryCall;
  addPath(argument: _apipb_AddPathRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_apipb_AddPathResponse__Output>): grpc.ClientUnaryCall;
  addPath(argument: _apipb_AddPathRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_apipb_AddPathResponse__Output>): grpc.ClientUnaryCall;
  addPath(argument: _apipb_AddPathRequest, callback: grpc.requestCallback<_apipb_AddPathResponse__Output>): grpc.ClientUnaryCall;
  
  AddPathStream(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_apipb_AddPathStreamRequest>;
  AddPathStream(metadata: grpc.Metadata, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_apipb_AddPathStreamRequest>;
  AddPathStream(options: grpc.CallOptions, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_apipb_AddPathStreamRequest>;
  AddPathStream(callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_apipb_AddPathStreamRequest>;
  addPathStream(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_apipb_AddPathStreamRequest>;
  addPathStream(metadata: grpc.Metadata, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_apipb_AddPathStreamRequest>;
  addPathStream(options: grpc.CallOptions, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_apipb_AddPathStreamRequest>;
  addPathStream(callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientWritableStream<_apipb_AddPathStreamRequest>;
  
  DeletePath(argument: _apipb_DeletePathRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientUnaryCall;
  DeletePath(argument: _apipb_DeletePathRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientUnaryCall;
  DeletePath(argument: _apipb_DeletePathRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientUnaryCall;
  DeletePath(argument: _apipb_DeletePathRequest, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientUnaryCall;
  deletePath(argument: _apipb_DeletePathRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientUnaryCall;
  deletePath(argument: _apipb_DeletePathRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientUnaryCall;
  deletePath(argument: _apipb_DeletePathRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientUnaryCall;
  deletePath(argument: _apipb_DeletePathRequest, callback: grpc.requestCallback<_google_protobuf_Empty__Output>): grpc.ClientUnaryCall;
  
  GetBgp(argument: _apipb_GetBgpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_apipb_GetBgpResponse__Output>): grpc.ClientUnaryCall;
  GetBgp(argument: _apipb_GetBgpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_apipb_GetBgpResponse__Output>): grpc.ClientUnaryCall;
  GetBgp(argument: _apipb_GetBgpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_apipb_GetBgpResponse__Output>): grpc.ClientUnaryCall;
  GetBgp(argument: _apipb_GetBgpRequest, callback: grpc.requestCallback<_apipb_GetBgpResponse__Output>): grpc.ClientUnaryCall;
  getBgp(argument: _apipb_GetBgpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_apipb_GetBgpResponse__Output>): grpc.ClientUnaryCall;
  getBgp(argument: _apipb_GetBgpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_apipb_GetBgpResponse__Output>): grpc.ClientUnaryCall;
  getBgp(argument: _apipb_GetBgpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_apipb_GetBgpResponse__Output>): grpc.ClientUnaryCall;
  getBgp(argument: _apipb_GetBgpRequest, callback: grpc.requestCallback<_apipb_GetBgpResponse__Output>): grpc.ClientUnaryCall;
  
  ListPath(argument: _apipb_ListPathRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_apipb_ListPathResponse__Output>;
  ListPath(argument: _apipb_ListPathRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_apipb_ListPathResponse__Output>;
  listPath(argument: _apipb_ListPathRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_apipb_ListPathResponse__Output>;
  listPath(argument: _apipb_ListPathRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_apipb_ListPathResponse__Output>;
  
  ListPeer(argument: _apipb_ListPeerRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_apipb_ListPeerResponse__Output>;
  ListPeer(argument: _apipb_ListPeerRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_apipb_ListPeerResponse__Output>;
  listPeer(argument: _apipb_ListPeerRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_apipb_ListPeerResponse__Output>;
  listPeer(argument: _apipb_ListPeerRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_apipb_ListPeerResponse__Output>;
  
  WatchEvent(argument: _apipb_WatchEventRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_apipb_WatchEventResponse__Output>;
  WatchEvent(argument: _apipb_WatchEventRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_apipb_WatchEventResponse__Output>;
  watchEvent(argument: _apipb_WatchEventRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_apipb_WatchEventResponse__Output>;
  watchEvent(argument: _apipb_WatchEventRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_apipb_WatchEventResponse__Output>;
  
}

export interface GobgpApiHandlers extends grpc.UntypedServiceImplementation {
  AddPath: grpc.handleUnaryCall<_apipb_AddPathRequest__Output, _apipb_AddPathResponse>;
  
  AddPathStream: grpc.handleClientStreamingCall<_apipb_AddPathStreamRequest__Output, _google_protobuf_Empty>;
  
  DeletePath: grpc.handleUnaryCall<_apipb_DeletePathRequest__Output, _google_protobuf_Empty>;
  
  GetBgp: grpc.handleUnaryCall<_apipb_GetBgpRequest__Output, _apipb_GetBgpResponse>;
  
  ListPath: grpc.handleServerStreamingCall<_apipb_ListPathRequest__Output, _apipb_ListPathResponse>;
  
  ListPeer: grpc.handleServerStreamingCall<_apipb_ListPeerRequest__Output, _apipb_ListPeerResponse>;
  
  WatchEvent: grpc.handleServerStreamingCall<_apipb_WatchEventRequest__Output, _apipb_WatchEventResponse>;
  
}

export interface GobgpApiDefinition extends grpc.ServiceDefinition {
  AddPath: MethodDefinition<_apipb_AddPathRequest, _apipb_AddPathResponse, _apipb_AddPathRequest__Output, _apipb_AddPathResponse__Output>
  AddPathStream: MethodDefinition<_apipb_AddPathStreamRequest, _google_protobuf_Empty, _apipb_AddPathStreamRequest__Output, _google_protobuf_Empty__Output>
  DeletePath: MethodDefinition<_apipb_DeletePathRequest, _google_protobuf_Empty, _apipb_DeletePathRequest__Output, _google_protobuf_Empty__Output>
  GetBgp: MethodDefinition<_apipb_GetBgpRequest, _apipb_GetBgpResponse, _apipb_GetBgpRequest__Output, _apipb_GetBgpResponse__Output>
  ListPath: MethodDefinition<_apipb_ListPathRequest, _apipb_ListPathResponse, _apipb_ListPathRequest__Output, _apipb_ListPathResponse__Output>
  ListPeer: MethodDefinition<_apipb_ListPeerRequest, _apipb_ListPeerResponse, _apipb_ListPeerRequest__Output, _apipb_ListPeerResponse__Output>
  WatchEvent: MethodDefinition<_apipb_WatchEventRequest, _apipb_WatchEventResponse, _apipb_WatchEventRequest__Output, _apipb_WatchEventResponse__Output>
}
