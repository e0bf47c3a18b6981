/**
 * GoBGP v3's encoding of a path: NLRI and attributes as `google.protobuf.Any`, IPv4
 * next hop in NextHopAttribute, IPv6 next hop and NLRI in MpReachNLRIAttribute.
 * Everything that changed in GoBGP v4 (oneofs instead of Any) lives in this file.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { LargeCommunity } from '../config/types.js';
import { parsePrefix, type Family as IpFamily } from '../core/prefix.js';
import type { Any, Any__Output } from './generated/google/protobuf/Any.js';
import type { Family } from './generated/apipb/Family.js';
import type { Path, Path__Output } from './generated/apipb/Path.js';
import type { Origin, PathSpec, RibPath } from './path.js';
import {
  ProtoWriter,
  messagesOf,
  readFields,
  stringOf,
  stringsOf,
  uint32Of,
  uint32sOf,
  type WireField,
} from './protobuf-wire.js';

export class PathCodecError extends Error {
  override readonly name = 'PathCodecError';
}

const TYPE_URL_PREFIX = 'type.googleapis.com/apipb.';

/** The attribute and NLRI messages this codec knows, by their apipb name. */
const T = {
  origin: 'OriginAttribute',
  asPath: 'AsPathAttribute',
  nextHop: 'NextHopAttribute',
  med: 'MultiExitDiscAttribute',
  localPref: 'LocalPrefAttribute',
  communities: 'CommunitiesAttribute',
  largeCommunities: 'LargeCommunitiesAttribute',
  mpReach: 'MpReachNLRIAttribute',
  ipPrefix: 'IPAddressPrefix',
} as const;

// Field numbers, as in proto/gobgp/attribute.proto.
const AS_SEGMENT_TYPE = 1;
const AS_SEGMENT_NUMBERS = 2;
const AS_SEQUENCE = 2;
const FAMILY_AFI = 1;
const FAMILY_SAFI = 2;
const AFI_IP6 = 2;
const SAFI_UNICAST = 1;

const ORIGIN_CODE: Record<Origin, number> = { igp: 0, egp: 1, incomplete: 2 };
const ORIGIN_NAME: readonly Origin[] = ['igp', 'egp', 'incomplete'];

export function apiFamily(family: IpFamily): Family {
  return { afi: family === 4 ? 'AFI_IP' : 'AFI_IP6', safi: 'SAFI_UNICAST' };
}

/** An Any as the generated input type allows, with its value always as bytes. */
interface PackedAny { type_url: string; value: Uint8Array }

function pack(name: string, body: ProtoWriter): PackedAny {
  return { type_url: TYPE_URL_PREFIX + name, value: body.finish() };
}

function nlriOf(spec: PathSpec): PackedAny {
  return pack(T.ipPrefix, new ProtoWriter().uint32(1, spec.prefix.length).string(2, spec.prefix.address));
}

/** The apipb.Path for AddPath / AddPathStream / DeletePath. Throws PathCodecError on a bad spec. */
export function encodePath(spec: PathSpec, opts: { withdraw?: boolean } = {}): Path {
  const family = spec.prefix.family;
  const nextHopOk = family === 4 ? isIPv4(spec.nextHop) : isIPv6(spec.nextHop);
  if (!nextHopOk) throw new PathCodecError(`${spec.prefix.key}: next hop "${spec.nextHop}" is not an IPv${family} address`);
  try {
    const nlri = nlriOf(spec);
    const pattrs: Any[] = [pack(T.origin, new ProtoWriter().uint32(1, ORIGIN_CODE[spec.origin]))];
    if (spec.asPath.length > 0) {
      const segment = new ProtoWriter().uint32(AS_SEGMENT_TYPE, AS_SEQUENCE).packedUint32(AS_SEGMENT_NUMBERS, spec.asPath);
      pattrs.push(pack(T.asPath, new ProtoWriter().message(1, segment)));
    }
    if (family === 4) {
      pattrs.push(pack(T.nextHop, new ProtoWriter().string(1, spec.nextHop)));
    } else {
      const fam = new ProtoWriter().uint32(FAMILY_AFI, AFI_IP6).uint32(FAMILY_SAFI, SAFI_UNICAST);
      const anyNlri = new ProtoWriter().string(1, nlri.type_url).bytes(2, nlri.value);
      pattrs.push(pack(T.mpReach, new ProtoWriter().message(1, fam).string(2, spec.nextHop).message(3, anyNlri)));
    }
    // MED and LOCAL_PREF 0 are real values: encode the attribute whenever the spec has one.
    if (spec.med !== undefined) pattrs.push(pack(T.med, new ProtoWriter().uint32(1, spec.med)));
    if (spec.localPref !== undefined) pattrs.push(pack(T.localPref, new ProtoWriter().uint32(1, spec.localPref)));
    if (spec.communities.length > 0) {
      pattrs.push(pack(T.communities, new ProtoWriter().packedUint32(1, spec.communities)));
    }
    if (spec.largeCommunities.length > 0) {
      const body = new ProtoWriter();
      for (const c of spec.largeCommunities) {
        body.message(1, new ProtoWriter().uint32(1, c.global).uint32(2, c.local1).uint32(3, c.local2));
      }
      pattrs.push(pack(T.largeCommunities, body));
    }
    return { family: apiFamily(family), nlri, pattrs, is_withdraw: opts.withdraw ?? false };
  } catch (err) {
    if (err instanceof RangeError) throw new PathCodecError(`${spec.prefix.key}: ${err.message}`);
    throw err;
  }
}

/**
 * True for a path this gobgpd originated itself (AddPath, AddPathStream, `gobgp global rib
 * add`). Found empirically on 3.10: such paths have no source peer, so neighbor_ip and
 * source_id print as Go's nil IP ("<nil>") and source_asn is 0; a learned path carries its
 * neighbor's address. is_from_external marks paths injected from zebra: not ours either.
 */
export function isLocallyOriginated(p: Path__Output): boolean {
  const noPeer = p.neighbor_ip === '' || p.neighbor_ip === '<nil>';
  return noPeer && !p.is_from_external;
}

/** Decodes a listed path. Throws PathCodecError when it is not an IPv4/IPv6 unicast path. */
export function decodePath(p: Path__Output): RibPath {
  const afi = p.family?.afi;
  const family: IpFamily | undefined = afi === 'AFI_IP' ? 4 : afi === 'AFI_IP6' ? 6 : undefined;
  if (family === undefined || p.family?.safi !== 'SAFI_UNICAST') {
    throw new PathCodecError(`unsupported family ${afi ?? '?'}/${p.family?.safi ?? '?'}`);
  }
  const nlri = p.nlri;
  if (!nlri || nlri.type_url !== TYPE_URL_PREFIX + T.ipPrefix) {
    throw new PathCodecError(`unsupported NLRI ${nlri?.type_url ?? '(none)'}`);
  }
  const prefix = decodeIpPrefix(readFields(nlri.value));

  const spec: RibPath = {
    prefix,
    nextHop: '',
    origin: 'igp',
    communities: [],
    largeCommunities: [],
    asPath: [],
    best: p.best,
    unmodeled: [],
  };
  let sawOrigin = false;
  for (const attr of p.pattrs) decodeAttribute(attr, spec, family, () => (sawOrigin = true));
  if (!sawOrigin) spec.unmodeled.push('no ORIGIN attribute');
  if (spec.nextHop === '') spec.unmodeled.push('no next hop');
  return spec;
}

function decodeIpPrefix(fields: readonly WireField[]): RibPath['prefix'] {
  const text = `${stringOf(fields, 2)}/${uint32Of(fields, 1)}`;
  try {
    return parsePrefix(text);
  } catch (err) {
    throw new PathCodecError(`bad NLRI ${text}: ${(err as Error).message}`);
  }
}

function decodeAttribute(attr: Any__Output, spec: RibPath, family: IpFamily, sawOrigin: () => void): void {
  const name = attr.type_url.startsWith(TYPE_URL_PREFIX) ? attr.type_url.slice(TYPE_URL_PREFIX.length) : attr.type_url;
  const f = readFields(attr.value);
  switch (name) {
    case T.origin: {
      const code = uint32Of(f, 1);
      const origin = ORIGIN_NAME[code];
      if (origin) spec.origin = origin;
      else spec.unmodeled.push(`ORIGIN ${code}`);
      sawOrigin();
      return;
    }
    case T.asPath:
      for (const seg of messagesOf(f, 1)) {
        const sf = readFields(seg);
        const type = uint32Of(sf, AS_SEGMENT_TYPE);
        const numbers = uint32sOf(sf, AS_SEGMENT_NUMBERS);
        // PathSpec models a single AS_SEQUENCE; anything else must not compare equal.
        if (type === AS_SEQUENCE && spec.asPath.length === 0) spec.asPath = numbers;
        else spec.unmodeled.push(`AS_PATH segment type ${type} [${numbers.join(' ')}]`);
      }
      return;
    case T.nextHop:
      if (family === 4) spec.nextHop = stringOf(f, 1);
      else spec.unmodeled.push(`NEXT_HOP ${stringOf(f, 1)} on an IPv6 path`);
      return;
    case T.mpReach: {
      const hops = stringsOf(f, 2);
      const fam = readFields(messagesOf(f, 1)[0] ?? new Uint8Array());
      const afi = uint32Of(fam, FAMILY_AFI);
      if (family === 6 && afi === AFI_IP6 && hops.length >= 1) {
        spec.nextHop = hops[0]!;
        if (hops.length > 1) spec.unmodeled.push(`extra next hops ${hops.slice(1).join(' ')}`);
      } else {
        spec.unmodeled.push(`MP_REACH_NLRI afi ${afi} next hops [${hops.join(' ')}]`);
      }
      return;
    }
    case T.med:
      spec.med = uint32Of(f, 1);
      return;
    case T.localPref:
      spec.localPref = uint32Of(f, 1);
      return;
    case T.communities:
      spec.communities = uint32sOf(f, 1);
      return;
    case T.largeCommunities:
      spec.largeCommunities = messagesOf(f, 1).map((m): LargeCommunity => {
        const lf = readFields(m);
        return { global: uint32Of(lf, 1), local1: uint32Of(lf, 2), local2: uint32Of(lf, 3) };
      });
      return;
    default:
      spec.unmodeled.push(name);
  }
}
