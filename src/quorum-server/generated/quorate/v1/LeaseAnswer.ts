// Original file: proto/quorate/v1/quorum.proto


// Original file: proto/quorate/v1/quorum.proto

export const _quorate_v1_LeaseAnswer_Verdict = {
  VERDICT_UNSPECIFIED: 'VERDICT_UNSPECIFIED',
  GRANTED: 'GRANTED',
  REFUSED: 'REFUSED',
  RETRY: 'RETRY',
} as const;

export type _quorate_v1_LeaseAnswer_Verdict =
  | 'VERDICT_UNSPECIFIED'
  | 0
  | 'GRANTED'
  | 1
  | 'REFUSED'
  | 2
  | 'RETRY'
  | 3

export type _quorate_v1_LeaseAnswer_Verdict__Output = typeof _quorate_v1_LeaseAnswer_Verdict[keyof typeof _quorate_v1_LeaseAnswer_Verdict]

export interface LeaseAnswer {
  'protocol_version'?: (number);
  'verdict'?: (_quorate_v1_LeaseAnswer_Verdict);
  'granted_ms'?: (number);
  'holder_partition'?: (string)[];
  'holder_node'?: (string);
  'reason'?: (string);
  'request_id'?: (string);
  'retry_after_ms'?: (number);
}

export interface LeaseAnswer__Output {
  'protocol_version': (number);
  'verdict': (_quorate_v1_LeaseAnswer_Verdict__Output);
  'granted_ms': (number);
  'holder_partition': (string)[];
  'holder_node': (string);
  'reason': (string);
  'request_id': (string);
  'retry_after_ms': (number);
}
