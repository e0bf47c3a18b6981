// Original file: proto/quorate/v1/quorum.proto


export interface LeaseRequest {
  'protocol_version'?: (number);
  'cluster'?: (string);
  'node'?: (string);
  'membership_digest'?: (Buffer | Uint8Array | string);
  'partition'?: (string)[];
  'partition_votes'?: (number);
  'total_votes'?: (number);
  'lease_ms'?: (number);
  'settle_ms'?: (number);
  'request_id'?: (string);
}

export interface LeaseRequest__Output {
  'protocol_version': (number);
  'cluster': (string);
  'node': (string);
  'membership_digest': (Buffer);
  'partition': (string)[];
  'partition_votes': (number);
  'total_votes': (number);
  'lease_ms': (number);
  'settle_ms': (number);
  'request_id': (string);
}
