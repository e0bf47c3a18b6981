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
import { AFI, AS_SEGMENT_TYPE, PAYLOAD, SAFI, payloadName, type AnyPayload } from './any-payloads.js';
import type { Origin, PathSpec, RibPath } from './path.js';

export class PathCodecError extends Error {
  override readonly name = 'PathCodecError';
}

const ORIGIN_CODE: Record<Origin, number> = { igp: 0, egp: 1, incomplete: 2 };
const ORIGIN_NAME: readonly Origin[] = ['igp', 'egp', 'incomplete'];

export function apiFamily(family: IpFamily): Family {
  return { afi: family === 4 ? 'AFI_IP' : 'AFI_IP6', safi: 'SAFI_UNICAST' };
}

/** An Any as the generated input type allows, with its value always as bytes. */
interface PackedAny { type_url: string; value: Uint8Array }

function pack<In>(payload: AnyPayload<In, unknown>, value: In): PackedAny {
  return { type_url: payload.typeUrl, value: payload.encode(value) };
}

/**
 * proto3 leaves zero scalars off the wire, as gobgpd's Go encoder does; protobufjs writes
 * any field that is set. Passing a zero as unset keeps our bytes canonical.
 */
function unlessZero(value: number): number | undefined {
  return value === 0 ? undefined : value;
}

/** protobufjs would silently truncate (`>>> 0`) what a uint32 field cannot hold: refuse it. */
function checkUint32(spec: PathSpec, what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new PathCodecError(`${spec.prefix.key}: ${what} ${value} is not a uint32`);
  }
}

function checkNumbers(spec: PathSpec): void {
  for (const asn of spec.asPath) checkUint32(spec, 'AS number', asn);
  if (spec.med !== undefined) checkUint32(spec, 'MED', spec.med);
  if (spec.localPref !== undefined) checkUint32(spec, 'LOCAL_PREF', spec.localPref);
  for (const c of spec.communities) checkUint32(spec, 'community', c);
  for (const c of spec.largeCommunities) {
    checkUint32(spec, 'large community global admin', c.global);
    checkUint32(spec, 'large community local data 1', c.local1);
    checkUint32(spec, 'large community local data 2', c.local2);
  }
}

function nlriOf(spec: PathSpec): PackedAny {
  return pack(PAYLOAD.ipPrefix, { prefix_len: unlessZero(spec.prefix.length), prefix: spec.prefix.address });
}

/**
 * Throws PathCodecError when gobgpd could not take `spec` (a next hop of the wrong family, a
 * number that is no uint32). Cheap: a batch is checked whole before any of it is sent.
 */
export function checkPathSpec(spec: PathSpec): void {
  const family = spec.prefix.family;
  const nextHopOk = family === 4 ? isIPv4(spec.nextHop) : isIPv6(spec.nextHop);
  if (!nextHopOk) throw new PathCodecError(`${spec.prefix.key}: next hop "${spec.nextHop}" is not an IPv${family} address`);
  checkNumbers(spec);
}

/** The apipb.Path for AddPath / AddPathStream / DeletePath. Throws PathCodecError on a bad spec. */
export function encodePath(spec: PathSpec, opts: { withdraw?: boolean } = {}): Path {
  const family = spec.prefix.family;
  checkPathSpec(spec);
  const nlri = nlriOf(spec);
  const pattrs: Any[] = [pack(PAYLOAD.origin, { origin: unlessZero(ORIGIN_CODE[spec.origin]) })];
  if (spec.asPath.length > 0) {
    pattrs.push(pack(PAYLOAD.asPath, { segments: [{ type: AS_SEGMENT_TYPE.AS_SEQUENCE, numbers: spec.asPath }] }));
  }
  if (family === 4) {
    pattrs.push(pack(PAYLOAD.nextHop, { next_hop: spec.nextHop }));
  } else {
    pattrs.push(
      pack(PAYLOAD.mpReach, {
        family: { afi: AFI.IP6, safi: SAFI.UNICAST },
        next_hops: [spec.nextHop],
        nlris: [nlri],
      }),
    );
  }
  // MED and LOCAL_PREF 0 are real values: encode the attribute whenever the spec has one
  // (its body is empty then, which gobgpd reads as 0).
  if (spec.med !== undefined) pattrs.push(pack(PAYLOAD.med, { med: unlessZero(spec.med) }));
  if (spec.localPref !== undefined) pattrs.push(pack(PAYLOAD.localPref, { local_pref: unlessZero(spec.localPref) }));
  if (spec.communities.length > 0) {
    pattrs.push(pack(PAYLOAD.communities, { communities: spec.communities }));
  }
  if (spec.largeCommunities.length > 0) {
    const communities = spec.largeCommunities.map((c) => ({
      global_admin: unlessZero(c.global),
      local_data1: unlessZero(c.local1),
      local_data2: unlessZero(c.local2),
    }));
    pattrs.push(pack(PAYLOAD.largeCommunities, { communities }));
  }
  return { family: apiFamily(family), nlri, pattrs, is_withdraw: opts.withdraw ?? false };
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
  if (!nlri || nlri.type_url !== PAYLOAD.ipPrefix.typeUrl) {
    throw new PathCodecError(`unsupported NLRI ${nlri?.type_url ?? '(none)'}`);
  }
  const prefix = decodeIpPrefix(nlri.value);

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

/** A payload's message, or PathCodecError naming it when its bytes are not that message. */
function decodeAs<Out>(payload: AnyPayload<never, Out>, bytes: Uint8Array): Out {
  try {
    return payload.decode(bytes);
  } catch (err) {
    throw new PathCodecError(`bad ${payload.name}: ${(err as Error).message}`);
  }
}

function decodeIpPrefix(bytes: Uint8Array): RibPath['prefix'] {
  const { prefix, prefix_len } = decodeAs(PAYLOAD.ipPrefix, bytes);
  const text = `${prefix}/${prefix_len}`;
  try {
    return parsePrefix(text);
  } catch (err) {
    throw new PathCodecError(`bad NLRI ${text}: ${(err as Error).message}`);
  }
}

function decodeAttribute(attr: Any__Output, spec: RibPath, family: IpFamily, sawOrigin: () => void): void {
  const name = payloadName(attr.type_url);
  switch (name) {
    case PAYLOAD.origin.name: {
      const code = decodeAs(PAYLOAD.origin, attr.value).origin;
      const origin = ORIGIN_NAME[code];
      if (origin) spec.origin = origin;
      else spec.unmodeled.push(`ORIGIN ${code}`);
      sawOrigin();
      return;
    }
    case PAYLOAD.asPath.name:
      for (const { type, numbers } of decodeAs(PAYLOAD.asPath, attr.value).segments) {
        // PathSpec models a single AS_SEQUENCE; anything else must not compare equal.
        if (type === AS_SEGMENT_TYPE.AS_SEQUENCE && spec.asPath.length === 0) spec.asPath = numbers;
        else spec.unmodeled.push(`AS_PATH segment type ${type} [${numbers.join(' ')}]`);
      }
      return;
    case PAYLOAD.nextHop.name: {
      const nextHop = decodeAs(PAYLOAD.nextHop, attr.value).next_hop;
      if (family === 4) spec.nextHop = nextHop;
      else spec.unmodeled.push(`NEXT_HOP ${nextHop} on an IPv6 path`);
      return;
    }
    case PAYLOAD.mpReach.name: {
      const mp = decodeAs(PAYLOAD.mpReach, attr.value);
      const hops = mp.next_hops;
      const afi = mp.family?.afi ?? 0;
      if (family === 6 && afi === AFI.IP6 && hops.length >= 1) {
        spec.nextHop = hops[0]!;
        if (hops.length > 1) spec.unmodeled.push(`extra next hops ${hops.slice(1).join(' ')}`);
      } else {
        spec.unmodeled.push(`MP_REACH_NLRI afi ${afi} next hops [${hops.join(' ')}]`);
      }
      return;
    }
    case PAYLOAD.med.name:
      spec.med = decodeAs(PAYLOAD.med, attr.value).med;
      return;
    case PAYLOAD.localPref.name:
      spec.localPref = decodeAs(PAYLOAD.localPref, attr.value).local_pref;
      return;
    case PAYLOAD.communities.name:
      spec.communities = decodeAs(PAYLOAD.communities, attr.value).communities;
      return;
    case PAYLOAD.largeCommunities.name:
      spec.largeCommunities = decodeAs(PAYLOAD.largeCommunities, attr.value).communities.map(
        (c): LargeCommunity => ({ global: c.global_admin, local1: c.local_data1, local2: c.local_data2 }),
      );
      return;
    default:
      spec.unmodeled.push(name);
  }
}
