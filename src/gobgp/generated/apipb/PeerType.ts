// Original file: proto/gobgp/gobgp.proto

export const PeerType = {
  INTERNAL: 'INTERNAL',
  EXTERNAL: 'EXTERNAL',
} as const;

export type PeerType =
  | 'INTERNAL'
  | 0
  | 'EXTERNAL'
  | 1

export type PeerType__Output = typeof PeerType[keyof typeof PeerType]
