// Original file: proto/quorate/v1/quorum.proto


export interface ReleaseAnswer {
  'protocol_version'?: (number);
  'released'?: (boolean);
  'reason'?: (string);
  'request_id'?: (string);
}

export interface ReleaseAnswer__Output {
  'protocol_version': (number);
  'released': (boolean);
  'reason': (string);
  'request_id': (string);
}
