/**
 * The apipb messages GoBGP v3 carries inside `google.protobuf.Any` (path attributes and
 * NLRI), encoded and decoded by protobufjs from proto/gobgp/*.proto.
 *
 * Why protobufjs directly: proto-loader serializes only the messages a service names; the
 * payload of an Any is opaque bytes to it. The files are parsed once, at module load, and
 * each message's Type is looked up once here, so encoding a path costs only the encoders
 * protobufjs generates for those Types.
 */
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { Any__Output } from './generated/google/protobuf/Any.js';
import type { CommunitiesAttribute, CommunitiesAttribute__Output } from './generated/apipb/CommunitiesAttribute.js';
import type { IPAddressPrefix, IPAddressPrefix__Output } from './generated/apipb/IPAddressPrefix.js';
import type {
  LargeCommunitiesAttribute,
  LargeCommunitiesAttribute__Output,
} from './generated/apipb/LargeCommunitiesAttribute.js';
import type { LocalPrefAttribute, LocalPrefAttribute__Output } from './generated/apipb/LocalPrefAttribute.js';
import type { MultiExitDiscAttribute, MultiExitDiscAttribute__Output } from './generated/apipb/MultiExitDiscAttribute.js';
import type { NextHopAttribute, NextHopAttribute__Output } from './generated/apipb/NextHopAttribute.js';
import type { OriginAttribute, OriginAttribute__Output } from './generated/apipb/OriginAttribute.js';
import { GOBGP_PROTO_FILES, gobgpProtoDir } from './proto-files.js';

const TYPE_URL_PREFIX = 'type.googleapis.com/apipb.';

const root = new protobuf.Root();
root.loadSync(
  GOBGP_PROTO_FILES.map((f) => join(gobgpProtoDir(), f)),
  { keepCase: true },
);
root.resolveAll();

/**
 * Decoded payloads become plain objects with every field present (proto3 defaults filled,
 * repeated fields as arrays) and enums as their numbers, so an unknown enum value read from
 * gobgpd stays a number instead of turning into a name we do not know.
 */
const DECODE_OPTIONS: protobuf.IConversionOptions = { defaults: true, arrays: true, enums: Number, longs: Number };

/** One message type that travels inside an Any. */
export interface AnyPayload<In, Out> {
  /** The apipb message name, as it ends the type URL. */
  readonly name: string;
  readonly typeUrl: string;
  /**
   * The message's bytes. protobufjs writes every field that is set, zeros included; proto3
   * (and gobgpd's Go encoder) leaves zeros out, so callers pass a zero scalar as unset.
   * Enums must be numbers: `Type.create` does not translate names.
   */
  encode(value: In): Uint8Array;
  /** Throws (protobufjs's Error or RangeError) on bytes that are not this message. */
  decode(bytes: Uint8Array): Out;
}

function payload<In extends object, Out>(name: string): AnyPayload<In, Out> {
  const type = root.lookupType(`apipb.${name}`);
  return {
    name,
    typeUrl: TYPE_URL_PREFIX + name,
    encode: (value) => type.encode(type.create(value)).finish(),
    // The cast is the one place the generated types meet protobufjs's untyped objects;
    // DECODE_OPTIONS above is what makes the shapes below true.
    decode: (bytes) => type.toObject(type.decode(bytes), DECODE_OPTIONS) as Out,
  };
}

/** AsSegment with its enum as a number (see DECODE_OPTIONS and AnyPayload.encode). */
export interface AsSegmentValue {
  type: number;
  numbers: number[];
}
export const AS_SEGMENT_TYPE = { AS_SET: 1, AS_SEQUENCE: 2 } as const;

export interface AsPathAttributeValue {
  segments: AsSegmentValue[];
}

/** apipb.Family with its enums as numbers. */
export interface FamilyValue {
  afi: number;
  safi: number;
}
export const AFI = { IP: 1, IP6: 2 } as const;
export const SAFI = { UNICAST: 1 } as const;

export interface MpReachNLRIAttributeIn {
  family: FamilyValue;
  next_hops: string[];
  nlris: { type_url: string; value: Uint8Array }[];
}
export interface MpReachNLRIAttributeOut {
  family: FamilyValue | null;
  next_hops: string[];
  nlris: Any__Output[];
}

/** Every payload this client writes or reads, with its Type looked up once. */
export const PAYLOAD = {
  origin: payload<OriginAttribute, OriginAttribute__Output>('OriginAttribute'),
  asPath: payload<AsPathAttributeValue, AsPathAttributeValue>('AsPathAttribute'),
  nextHop: payload<NextHopAttribute, NextHopAttribute__Output>('NextHopAttribute'),
  med: payload<MultiExitDiscAttribute, MultiExitDiscAttribute__Output>('MultiExitDiscAttribute'),
  localPref: payload<LocalPrefAttribute, LocalPrefAttribute__Output>('LocalPrefAttribute'),
  communities: payload<CommunitiesAttribute, CommunitiesAttribute__Output>('CommunitiesAttribute'),
  largeCommunities: payload<LargeCommunitiesAttribute, LargeCommunitiesAttribute__Output>('LargeCommunitiesAttribute'),
  mpReach: payload<MpReachNLRIAttributeIn, MpReachNLRIAttributeOut>('MpReachNLRIAttribute'),
  ipPrefix: payload<IPAddressPrefix, IPAddressPrefix__Output>('IPAddressPrefix'),
} as const;

/** The apipb message name of a type URL (the URL itself when it is not apipb's). */
export function payloadName(typeUrl: string): string {
  return typeUrl.startsWith(TYPE_URL_PREFIX) ? typeUrl.slice(TYPE_URL_PREFIX.length) : typeUrl;
}
