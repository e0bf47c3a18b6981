/**
 * Unit tests of the GoBGP v3 path codec (src/gobgp/path-codec.ts, any-payloads.ts) and of
 * samePath. The codec writes with protobufjs from our subset in proto/gobgp/; the bytes are
 * read back here with upstream's own .proto files (Debian's golang-github-osrg-gobgp-dev),
 * so a field our subset declared wrongly would show.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { parsePrefix } from '../src/core/prefix.js';
import type { Path, Path__Output } from '../src/gobgp/generated/apipb/Path.js';
import { decodePath, encodePath, isLocallyOriginated, PathCodecError } from '../src/gobgp/path-codec.js';
import { pathKey, samePath, type PathSpec, type RibPath } from '../src/gobgp/path.js';
import { GOBGP_PROTO_FILES } from '../src/gobgp/proto-files.js';

const UPSTREAM_DIR = '/usr/share/gocode/src/github.com/osrg/gobgp/api';
const upstreamPresent = GOBGP_PROTO_FILES.every((f) => existsSync(join(UPSTREAM_DIR, f)));
if (!upstreamPresent) {
  console.warn(
    `SKIPPED gobgp-codec upstream checks: ${UPSTREAM_DIR} lacks ${GOBGP_PROTO_FILES.join(', ')} (install golang-github-osrg-gobgp-dev)`,
  );
}

function loadUpstream(): protobuf.Root {
  const root = new protobuf.Root();
  root.loadSync(GOBGP_PROTO_FILES.map((f) => join(UPSTREAM_DIR, f)), { keepCase: true });
  root.resolveAll();
  return root;
}

const v4: PathSpec = {
  prefix: parsePrefix('203.0.113.64/26'),
  nextHop: '198.51.100.1',
  origin: 'egp',
  med: 0, // a real value: must survive as "MED 0", not vanish
  localPref: 250,
  communities: [((64512 << 16) | 100) >>> 0, 0xffff_ff01],
  largeCommunities: [
    { global: 64512, local1: 1, local2: 2 },
    { global: 4_200_000_000, local1: 0, local2: 4_294_967_295 },
  ],
  asPath: [64512, 64512, 4_200_000_001],
};
const v6: PathSpec = {
  ...v4,
  prefix: parsePrefix('2001:db8:100::/48'),
  nextHop: '2001:db8::1',
  origin: 'incomplete',
  med: 4_294_967_295,
  localPref: 0,
};

/** What gobgpd would send back for an encoded path: the same Any payloads, proto3 defaults filled. */
function asListed(p: Path, extra: Partial<Path__Output> = {}): Path__Output {
  const packed = (a: { type_url: string; value: Buffer | Uint8Array | string }) => ({
    type_url: a.type_url,
    value: Buffer.from(a.value as Uint8Array),
  });
  const anyOf = (a: NonNullable<Path['nlri']>) => {
    if (!('type_url' in a) || typeof a.type_url !== 'string') throw new Error('test: expected a packed Any');
    return packed(a as { type_url: string; value: Uint8Array });
  };
  return {
    nlri: p.nlri ? anyOf(p.nlri) : null,
    pattrs: (p.pattrs ?? []).map(anyOf),
    age: null,
    best: true,
    is_withdraw: p.is_withdraw ?? false,
    no_implicit_withdraw: false,
    family: { afi: p.family?.afi === 'AFI_IP6' ? 'AFI_IP6' : 'AFI_IP', safi: 'SAFI_UNICAST' },
    source_asn: 0,
    source_id: '<nil>',
    filtered: false,
    stale: false,
    is_from_external: false,
    neighbor_ip: '<nil>',
    uuid: Buffer.alloc(0),
    is_nexthop_invalid: false,
    identifier: 0,
    local_identifier: 1,
    ...extra,
  };
}

/** One Any payload as upstream's declaration of its type reads it (only fields on the wire). */
function decodeUpstream(root: protobuf.Root, a: { type_url: string; value: Uint8Array }): { type: protobuf.Type; obj: Record<string, unknown> } {
  const type = root.lookupType(a.type_url.slice(a.type_url.lastIndexOf('/') + 1));
  const obj = type.toObject(type.decode(a.value), { defaults: false, longs: Number });
  return { type, obj };
}

describe('path codec (GoBGP v3)', () => {
  it.each([['IPv4', v4], ['IPv6', v6]] as const)('round-trips an %s path with every attribute', (_name, spec) => {
    const decoded = decodePath(asListed(encodePath(spec)));
    expect(decoded.unmodeled).toEqual([]);
    expect(samePath(decoded, spec)).toBe(true);
    expect(decoded).toMatchObject({ ...spec, best: true });
  });

  it('puts the IPv4 next hop in NextHopAttribute and the IPv6 one in MpReachNLRIAttribute', () => {
    const types = (p: Path) => (p.pattrs ?? []).map((a) => ('type_url' in a ? a.type_url : ''));
    const p4 = encodePath(v4);
    const p6 = encodePath(v6);
    expect(p4.family).toEqual({ afi: 'AFI_IP', safi: 'SAFI_UNICAST' });
    expect(p6.family).toEqual({ afi: 'AFI_IP6', safi: 'SAFI_UNICAST' });
    expect(types(p4)).toContain('type.googleapis.com/apipb.NextHopAttribute');
    expect(types(p4)).not.toContain('type.googleapis.com/apipb.MpReachNLRIAttribute');
    expect(types(p6)).toContain('type.googleapis.com/apipb.MpReachNLRIAttribute');
    expect(types(p6)).not.toContain('type.googleapis.com/apipb.NextHopAttribute');
  });

  it('round-trips zero values: origin IGP, a /0 prefix, MED 0, LOCAL_PREF 0, zero large-community parts', () => {
    const zeros: PathSpec = {
      prefix: parsePrefix('0.0.0.0/0'),
      nextHop: '192.0.2.1',
      origin: 'igp',
      med: 0,
      localPref: 0,
      communities: [0],
      largeCommunities: [{ global: 0, local1: 0, local2: 0 }],
      asPath: [64512],
    };
    const decoded = decodePath(asListed(encodePath(zeros)));
    expect(decoded.unmodeled).toEqual([]);
    expect(decoded).toMatchObject({ ...zeros, best: true });
    expect(samePath(decoded, zeros)).toBe(true);
  });

  it('reads repeated numbers in the unpacked encoding too (parsers must accept both)', () => {
    const listed = asListed(encodePath(v4));
    // CommunitiesAttribute field 1 as one varint field per element instead of one packed run.
    const writer = protobuf.Writer.create();
    for (const c of [1, 2, 0xffff_ffff]) writer.uint32((1 << 3) | 0).uint32(c);
    const unpacked = { type_url: 'type.googleapis.com/apipb.CommunitiesAttribute', value: Buffer.from(writer.finish()) };
    const pattrs = listed.pattrs.filter((a) => !a.type_url.endsWith('.CommunitiesAttribute')).concat(unpacked);
    expect(decodePath({ ...listed, pattrs }).communities).toEqual([1, 2, 0xffff_ffff]);
  });

  it('reports a payload that is not the message its type URL names as a PathCodecError', () => {
    const listed = asListed(encodePath(v4));
    const truncated = { type_url: 'type.googleapis.com/apipb.MultiExitDiscAttribute', value: Buffer.from([0x08]) };
    expect(() => decodePath({ ...listed, pattrs: [...listed.pattrs, truncated] })).toThrow(PathCodecError);
  });

  it('marks a withdrawal', () => {
    expect(encodePath(v4, { withdraw: true }).is_withdraw).toBe(true);
    expect(encodePath(v4).is_withdraw).toBe(false);
  });

  it('refuses a next hop of the other family and out-of-range numbers', () => {
    expect(() => encodePath({ ...v4, nextHop: '2001:db8::1' })).toThrow(PathCodecError);
    expect(() => encodePath({ ...v6, nextHop: '198.51.100.1' })).toThrow(PathCodecError);
    expect(() => encodePath({ ...v4, communities: [2 ** 32] })).toThrow(PathCodecError);
    expect(() => encodePath({ ...v4, med: -1 })).toThrow(PathCodecError);
    expect(() => encodePath({ ...v4, localPref: 1.5 })).toThrow(PathCodecError);
    expect(() => encodePath({ ...v4, largeCommunities: [{ global: 1, local1: 2 ** 32, local2: 0 }] })).toThrow(PathCodecError);
  });

  it('reports attributes it does not model instead of dropping them', () => {
    const listed = asListed(encodePath(v4));
    const atomic = { type_url: 'type.googleapis.com/apipb.AtomicAggregateAttribute', value: Buffer.alloc(0) };
    const decoded = decodePath({ ...listed, pattrs: [...listed.pattrs, atomic] });
    expect(decoded.unmodeled).toEqual(['AtomicAggregateAttribute']);
    expect(samePath(decoded, v4)).toBe(false);
  });

  it('tells locally originated paths from learned ones', () => {
    const listed = asListed(encodePath(v4));
    expect(isLocallyOriginated(listed)).toBe(true);
    expect(isLocallyOriginated({ ...listed, neighbor_ip: '198.51.100.2', source_id: '192.0.2.2', source_asn: 64513 })).toBe(false);
    expect(isLocallyOriginated({ ...listed, is_from_external: true })).toBe(false);
  });

  it('refuses NLRI of other families', () => {
    const listed = asListed(encodePath(v4));
    expect(() => decodePath({ ...listed, family: { afi: 'AFI_L2VPN', safi: 'SAFI_EVPN' } })).toThrow(PathCodecError);
  });
});

describe.skipIf(!upstreamPresent)('path codec bytes, read with upstream GoBGP 3.10 .proto files', () => {
  const upstream = upstreamPresent ? loadUpstream() : new protobuf.Root();

  /** Decodes every payload of a path with upstream's types; each must re-encode to the same bytes. */
  function payloadsOf(spec: PathSpec): Map<string, Record<string, unknown>> {
    const listed = asListed(encodePath(spec));
    const byType = new Map<string, Record<string, unknown>>();
    for (const a of [listed.nlri!, ...listed.pattrs]) {
      const { type, obj } = decodeUpstream(upstream, a);
      byType.set(type.name, obj);
      const reencoded = type.encode(type.fromObject(obj)).finish();
      expect(Buffer.from(reencoded).toString('hex'), type.name).toBe(a.value.toString('hex'));
    }
    return byType;
  }

  const largeCommunities = {
    communities: [
      { global_admin: 64512, local_data1: 1, local_data2: 2 },
      { global_admin: 4_200_000_000, local_data2: 4_294_967_295 }, // a zero stays off the wire
    ],
  };

  it('IPv4: every attribute reads back as sent, MED 0 present with an empty body', () => {
    const byType = payloadsOf(v4);
    expect([...byType.keys()].sort()).toEqual(
      ['AsPathAttribute', 'CommunitiesAttribute', 'IPAddressPrefix', 'LargeCommunitiesAttribute', 'LocalPrefAttribute',
        'MultiExitDiscAttribute', 'NextHopAttribute', 'OriginAttribute'],
    );
    expect(byType.get('IPAddressPrefix')).toEqual({ prefix_len: 26, prefix: '203.0.113.64' });
    expect(byType.get('OriginAttribute')).toEqual({ origin: 1 });
    expect(byType.get('NextHopAttribute')).toEqual({ next_hop: '198.51.100.1' });
    expect(byType.get('MultiExitDiscAttribute')).toEqual({}); // present, value 0
    expect(byType.get('LocalPrefAttribute')).toEqual({ local_pref: 250 });
    expect(byType.get('CommunitiesAttribute')).toEqual({ communities: v4.communities });
    expect(byType.get('AsPathAttribute')).toEqual({ segments: [{ type: 2, numbers: v4.asPath }] });
    expect(byType.get('LargeCommunitiesAttribute')).toEqual(largeCommunities);
  });

  it('IPv6: every attribute reads back as sent, LOCAL_PREF 0 present with an empty body', () => {
    const byType = payloadsOf(v6);
    expect([...byType.keys()].sort()).toEqual(
      ['AsPathAttribute', 'CommunitiesAttribute', 'IPAddressPrefix', 'LargeCommunitiesAttribute', 'LocalPrefAttribute',
        'MpReachNLRIAttribute', 'MultiExitDiscAttribute', 'OriginAttribute'],
    );
    expect(byType.get('IPAddressPrefix')).toEqual({ prefix_len: 48, prefix: '2001:db8:100::' });
    expect(byType.get('OriginAttribute')).toEqual({ origin: 2 });
    expect(byType.get('MultiExitDiscAttribute')).toEqual({ med: 4_294_967_295 });
    expect(byType.get('LocalPrefAttribute')).toEqual({}); // present, value 0
    expect(byType.get('CommunitiesAttribute')).toEqual({ communities: v6.communities });
    expect(byType.get('AsPathAttribute')).toEqual({ segments: [{ type: 2, numbers: v6.asPath }] });
    expect(byType.get('LargeCommunitiesAttribute')).toEqual(largeCommunities);
    const mp = byType.get('MpReachNLRIAttribute') as { family: unknown; next_hops: string[]; nlris: { type_url: string; value: Uint8Array }[] };
    expect(mp.family).toEqual({ afi: 2, safi: 1 });
    expect(mp.next_hops).toEqual(['2001:db8::1']);
    expect(mp.nlris.map((n) => n.type_url)).toEqual(['type.googleapis.com/apipb.IPAddressPrefix']);
    expect(decodeUpstream(upstream, mp.nlris[0]!).obj).toEqual({ prefix_len: 48, prefix: '2001:db8:100::' });
  });
});

describe('samePath', () => {
  const rib = (p: PathSpec): RibPath => ({ ...p, best: true, unmodeled: [] });

  it('ignores the order and repeats of community sets', () => {
    const shuffled: PathSpec = {
      ...v4,
      communities: [...v4.communities].reverse().concat(v4.communities[0]!),
      largeCommunities: [...v4.largeCommunities].reverse(),
    };
    expect(samePath(v4, shuffled)).toBe(true);
    expect(samePath(rib(v4), shuffled)).toBe(true);
  });

  it('compares the AS path in order, and every other attribute', () => {
    expect(samePath(v4, { ...v4, asPath: [...v4.asPath].reverse() })).toBe(false);
    expect(samePath(v4, { ...v4, asPath: v4.asPath.slice(1) })).toBe(false);
    expect(samePath(v4, { ...v4, med: undefined })).toBe(false);
    expect(samePath(v4, { ...v4, localPref: 251 })).toBe(false);
    expect(samePath(v4, { ...v4, origin: 'igp' })).toBe(false);
    expect(samePath(v4, { ...v4, nextHop: '198.51.100.2' })).toBe(false);
    expect(samePath(v4, { ...v4, communities: [] })).toBe(false);
    expect(samePath(v4, { ...v4, largeCommunities: v4.largeCommunities.slice(1) })).toBe(false);
    expect(samePath(v4, { ...v4, prefix: parsePrefix('203.0.113.0/26') })).toBe(false);
  });

  it('compares IPv6 next hops by address, not by spelling', () => {
    expect(samePath(v6, { ...v6, nextHop: '2001:0db8:0:0::1' })).toBe(true);
  });

  it('keys a path by its prefix', () => {
    expect(pathKey(v4)).toBe('203.0.113.64/26');
    expect(pathKey(v6)).toBe('2001:db8:100::/48');
  });
});
