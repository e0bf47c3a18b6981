// Original file: proto/quorate/v1/quorum.proto


export interface ReleaseRequest {
  'protocol_version'?: (number);
  'cluster'?: (string);
  'node'?: (string);
  'request_id'?: (string);
}

export interface ReleaseRequest__Output {
  'protocol_version': (number);
  'cluster': (string);
  'node': (string);
  'request_id': (string);
}
