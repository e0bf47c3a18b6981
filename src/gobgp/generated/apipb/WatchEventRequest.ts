// Original file: proto/gobgp/gobgp.proto


export interface _apipb_WatchEventRequest_Peer {
}

export interface _apipb_WatchEventRequest_Peer__Output {
}

export interface WatchEventRequest {
  'peer'?: (_apipb_WatchEventRequest_Peer | null);
}

export interface WatchEventRequest__Output {
  'peer': (_apipb_WatchEventRequest_Peer__Output | null);
}
