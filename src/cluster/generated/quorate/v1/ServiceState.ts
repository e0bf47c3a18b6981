// Original file: proto/quorate/v1/peer.proto

import type { HoldMethod as _quorate_v1_HoldMethod, HoldMethod__Output as _quorate_v1_HoldMethod__Output } from '../../quorate/v1/HoldMethod.js';

export interface ServiceState {
  'name'?: (string);
  'healthy'?: (boolean);
  'drained'?: (boolean);
  'announceable'?: (boolean);
  'priority'?: (number);
  'holding'?: (boolean);
  'released'?: (boolean);
  'method'?: (_quorate_v1_HoldMethod);
}

export interface ServiceState__Output {
  'name': (string);
  'healthy': (boolean);
  'drained': (boolean);
  'announceable': (boolean);
  'priority': (number);
  'holding': (boolean);
  'released': (boolean);
  'method': (_quorate_v1_HoldMethod__Output);
}
