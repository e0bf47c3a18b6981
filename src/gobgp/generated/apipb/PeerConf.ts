// Original file: proto/gobgp/gobgp.proto

import type { PeerType as _apipb_PeerType, PeerType__Output as _apipb_PeerType__Output } from '../apipb/PeerType.js';

export interface PeerConf {
  'description'?: (string);
  'local_asn'?: (number);
  'neighbor_address'?: (string);
  'peer_asn'?: (number);
  'type'?: (_apipb_PeerType);
  'admin_down'?: (boolean);
}

export interface PeerConf__Output {
  'description': (string);
  'local_asn': (number);
  'neighbor_address': (string);
  'peer_asn': (number);
  'type': (_apipb_PeerType__Output);
  'admin_down': (boolean);
}
