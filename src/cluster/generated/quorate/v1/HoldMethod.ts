// Original file: proto/quorate/v1/peer.proto

export const HoldMethod = {
  HOLD_METHOD_UNSPECIFIED: 'HOLD_METHOD_UNSPECIFIED',
  HOLD_METHOD_BGP: 'HOLD_METHOD_BGP',
  HOLD_METHOD_ARP: 'HOLD_METHOD_ARP',
} as const;

export type HoldMethod =
  | 'HOLD_METHOD_UNSPECIFIED'
  | 0
  | 'HOLD_METHOD_BGP'
  | 1
  | 'HOLD_METHOD_ARP'
  | 2

export type HoldMethod__Output = typeof HoldMethod[keyof typeof HoldMethod]
