// Original file: proto/gobgp/gobgp.proto

import type { PeerConf as _apipb_PeerConf, PeerConf__Output as _apipb_PeerConf__Output } from '../apipb/PeerConf.js';
import type { PeerState as _apipb_PeerState, PeerState__Output as _apipb_PeerState__Output } from '../apipb/PeerState.js';
import type { Timers as _apipb_Timers, Timers__Output as _apipb_Timers__Output } from '../apipb/Timers.js';
import type { Transport as _apipb_Transport, Transport__Output as _apipb_Transport__Output } from '../apipb/Transport.js';

export interface Peer {
  'conf'?: (_apipb_PeerConf | null);
  'state'?: (_apipb_PeerState | null);
  'timers'?: (_apipb_Timers | null);
  'transport'?: (_apipb_Transport | null);
}

export interface Peer__Output {
  'conf': (_apipb_PeerConf__Output | null);
  'state': (_apipb_PeerState__Output | null);
  'timers': (_apipb_Timers__Output | null);
  'transport': (_apipb_Transport__Output | null);
}
