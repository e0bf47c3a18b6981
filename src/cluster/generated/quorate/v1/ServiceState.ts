// Original file: proto/quorate/v1/peer.proto


export interface ServiceState {
  'name'?: (string);
  'healthy'?: (boolean);
  'drained'?: (boolean);
  'announceable'?: (boolean);
  'priority'?: (number);
  'holding'?: (boolean);
  'released'?: (boolean);
}

export interface ServiceState__Output {
  'name': (string);
  'healthy': (boolean);
  'drained': (boolean);
  'announceable': (boolean);
  'priority': (number);
  'holding': (boolean);
  'released': (boolean);
}
