// Original file: proto/gobgp/gobgp.proto


export interface Global {
  'asn'?: (number);
  'router_id'?: (string);
  'listen_port'?: (number);
  'listen_addresses'?: (string)[];
}

export interface Global__Output {
  'asn': (number);
  'router_id': (string);
  'listen_port': (number);
  'listen_addresses': (string)[];
}
