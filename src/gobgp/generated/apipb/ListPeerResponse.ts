// Original file: proto/gobgp/gobgp.proto

import type { Peer as _apipb_Peer, Peer__Output as _apipb_Peer__Output } from '../apipb/Peer.js';

export interface ListPeerResponse {
  'peer'?: (_apipb_Peer | null);
}

export interface ListPeerResponse__Output {
  'peer': (_apipb_Peer__Output | null);
}
