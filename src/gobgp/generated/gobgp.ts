import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddPathRequest as _apipb_AddPathRequest, AddPathRequest__Output as _apipb_AddPathRequest__Output } from './apipb/AddPathRequest.js';
import type { AddPathResponse as _apipb_AddPathResponse, AddPathResponse__Output as _apipb_AddPathResponse__Output } from './apipb/AddPathResponse.js';
import type { AddPathStreamRequest as _apipb_AddPathStreamRequest, AddPathStreamRequest__Output as _apipb_AddPathStreamRequest__Output } from './apipb/AddPathStreamRequest.js';
import type { DeletePathRequest as _apipb_DeletePathRequest, DeletePathRequest__Output as _apipb_DeletePathRequest__Output } from './apipb/DeletePathRequest.js';
import type { Destination as _apipb_Destination, Destination__Output as _apipb_Destination__Output } from './apipb/Destination.js';
import type { Family as _apipb_Family, Family__Output as _apipb_Family__Output } from './apipb/Family.js';
import type { GetBgpRequest as _apipb_GetBgpRequest, GetBgpRequest__Output as _apipb_GetBgpRequest__Output } from './apipb/GetBgpRequest.js';
import type { GetBgpResponse as _apipb_GetBgpResponse, GetBgpResponse__Output as _apipb_GetBgpResponse__Output } from './apipb/GetBgpResponse.js';
import type { Global as _apipb_Global, Global__Output as _apipb_Global__Output } from './apipb/Global.js';
import type { GobgpApiClient as _apipb_GobgpApiClient, GobgpApiDefinition as _apipb_GobgpApiDefinition } from './apipb/GobgpApi.js';
import type { ListPathRequest as _apipb_ListPathRequest, ListPathRequest__Output as _apipb_ListPathRequest__Output } from './apipb/ListPathRequest.js';
import type { ListPathResponse as _apipb_ListPathResponse, ListPathResponse__Output as _apipb_ListPathResponse__Output } from './apipb/ListPathResponse.js';
import type { ListPeerRequest as _apipb_ListPeerRequest, ListPeerRequest__Output as _apipb_ListPeerRequest__Output } from './apipb/ListPeerRequest.js';
import type { ListPeerResponse as _apipb_ListPeerResponse, ListPeerResponse__Output as _apipb_ListPeerResponse__Output } from './apipb/ListPeerResponse.js';
import type { Path as _apipb_Path, Path__Output as _apipb_Path__Output } from './apipb/Path.js';
import type { Peer as _apipb_Peer, Peer__Output as _apipb_Peer__Output } from './apipb/Peer.js';
import type { PeerConf as _apipb_PeerConf, PeerConf__Output as _apipb_PeerConf__Output } from './apipb/PeerConf.js';
import type { PeerState as _apipb_PeerState, PeerState__Output as _apipb_PeerState__Output } from './apipb/PeerState.js';
import type { TableLookupPrefix as _apipb_TableLookupPrefix, TableLookupPrefix__Output as _apipb_TableLookupPrefix__Output } from './apipb/TableLookupPrefix.js';
import type { Timers as _apipb_Timers, Timers__Output as _apipb_Timers__Output } from './apipb/Timers.js';
import type { TimersConfig as _apipb_TimersConfig, TimersConfig__Output as _apipb_TimersConfig__Output } from './apipb/TimersConfig.js';
import type { TimersState as _apipb_TimersState, TimersState__Output as _apipb_TimersState__Output } from './apipb/TimersState.js';
import type { Transport as _apipb_Transport, Transport__Output as _apipb_Transport__Output } from './apipb/Transport.js';
import type { WatchEventRequest as _apipb_WatchEventRequest, WatchEventRequest__Output as _apipb_WatchEventRequest__Output } from './apipb/WatchEventRequest.js';
import type { WatchEventResponse as _apipb_WatchEventResponse, WatchEventResponse__Output as _apipb_WatchEventResponse__Output } from './apipb/WatchEventResponse.js';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from './google/protobuf/Any.js';
import type { Empty as _google_protobuf_Empty, Empty__Output as _google_protobuf_Empty__Output } from './google/protobuf/Empty.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  apipb: {
    AddPathRequest: MessageTypeDefinition<_apipb_AddPathRequest, _apipb_AddPathRequest__Output>
    AddPathResponse: MessageTypeDefinition<_apipb_AddPathResponse, _apipb_AddPathResponse__Output>
    AddPathStreamRequest: MessageTypeDefinition<_apipb_AddPathStreamRequest, _apipb_AddPathStreamRequest__Output>
    DeletePathRequest: MessageTypeDefinition<_apipb_DeletePathRequest, _apipb_DeletePathRequest__Output>
    Destination: MessageTypeDefinition<_apipb_Destination, _apipb_Destination__Output>
    Family: MessageTypeDefinition<_apipb_Family, _apipb_Family__Output>
    GetBgpRequest: MessageTypeDefinition<_apipb_GetBgpRequest, _apipb_GetBgpRequest__Output>
    GetBgpResponse: MessageTypeDefinition<_apipb_GetBgpResponse, _apipb_GetBgpResponse__Output>
    Global: MessageTypeDefinition<_apipb_Global, _apipb_Global__Output>
    GobgpApi: SubtypeConstructor<typeof grpc.Client, _apipb_GobgpApiClient> & { service: _apipb_GobgpApiDefinition }
    ListPathRequest: MessageTypeDefinition<_apipb_ListPathRequest, _apipb_ListPathRequest__Output>
    ListPathResponse: MessageTypeDefinition<_apipb_ListPathResponse, _apipb_ListPathResponse__Output>
    ListPeerRequest: MessageTypeDefinition<_apipb_ListPeerRequest, _apipb_ListPeerRequest__Output>
    ListPeerResponse: MessageTypeDefinition<_apipb_ListPeerResponse, _apipb_ListPeerResponse__Output>
    Path: MessageTypeDefinition<_apipb_Path, _apipb_Path__Output>
    Peer: MessageTypeDefinition<_apipb_Peer, _apipb_Peer__Output>
    PeerConf: MessageTypeDefinition<_apipb_PeerConf, _apipb_PeerConf__Output>
    PeerState: MessageTypeDefinition<_apipb_PeerState, _apipb_PeerState__Output>
    PeerType: EnumTypeDefinition
    TableLookupPrefix: MessageTypeDefinition<_apipb_TableLookupPrefix, _apipb_TableLookupPrefix__Output>
    TableType: EnumTypeDefinition
    Timers: MessageTypeDefinition<_apipb_Timers, _apipb_Timers__Output>
    TimersConfig: MessageTypeDefinition<_apipb_TimersConfig, _apipb_TimersConfig__Output>
    TimersState: MessageTypeDefinition<_apipb_TimersState, _apipb_TimersState__Output>
    Transport: MessageTypeDefinition<_apipb_Transport, _apipb_Transport__Output>
    WatchEventRequest: MessageTypeDefinition<_apipb_WatchEventRequest, _apipb_WatchEventRequest__Output>
    WatchEventResponse: MessageTypeDefinition<_apipb_WatchEventResponse, _apipb_WatchEventResponse__Output>
  }
  google: {
    protobuf: {
      Any: MessageTypeDefinition<_google_protobuf_Any, _google_protobuf_Any__Output>
      Empty: MessageTypeDefinition<_google_protobuf_Empty, _google_protobuf_Empty__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

