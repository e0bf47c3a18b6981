/**
 * A minimal MRT TABLE_DUMP_V2 writer (RFC 6396) for `gobgp mrt inject`: one PEER_INDEX_TABLE
 * record, then one RIB_IPV6_UNICAST record per prefix with a single entry carrying ORIGIN
 * IGP, an empty AS_PATH and MP_REACH_NLRI with the next hop.
 *
 * One deviation from RFC 6396 §4.3.4, on purpose: the RFC abbreviates MP_REACH_NLRI inside a
 * RIB entry to next-hop length + next hop, but gobgp 3.10 decodes the attribute in its full
 * UPDATE form (AFI, SAFI, next hop, reserved, NLRI) — as its own dumper and Quagga write it —
 * and rejects the short one. So the full form is written.
 */
import { addressToBytes, type Prefix } from '../src/core/prefix.js';

const TABLE_DUMP_V2 = 13;
const PEER_INDEX_TABLE = 1;
const RIB_IPV6_UNICAST = 4;
/** Peer type bits: IPv6 peer address (bit 0), 4-octet AS (bit 1). */
const PEER_TYPE_AS4 = 0x02;

const ATTR_FLAG_OPTIONAL = 0x80;
const ATTR_FLAG_TRANSITIVE = 0x40;
const ATTR_ORIGIN = 1;
const ATTR_AS_PATH = 2;
const ATTR_MP_REACH_NLRI = 14;
const ORIGIN_IGP = 0;
const AFI_IPV6 = 2;
const SAFI_UNICAST = 1;

export interface TableDumpOptions {
  /** The (one) peer the entries are from: gobgp takes its AS and BGP id as the path's source. */
  peerAs: number;
  peerBgpId: string;
  /** IPv6 next hop of every entry. */
  nextHop: string;
  prefixes: readonly Prefix[];
  /** Record timestamps (seconds since the epoch). */
  timestamp?: number;
}

export function tableDumpV2(options: TableDumpOptions): Buffer {
  const time = options.timestamp ?? Math.floor(Date.now() / 1000);
  const records: Buffer[] = [record(time, PEER_INDEX_TABLE, peerIndexTable(options))];
  const attributes = Buffer.concat([attribute(ATTR_FLAG_TRANSITIVE, ATTR_ORIGIN, Buffer.from([ORIGIN_IGP])), attribute(ATTR_FLAG_TRANSITIVE, ATTR_AS_PATH, Buffer.alloc(0))]);
  const nextHop = Buffer.from(addressToBytes(options.nextHop, 6));
  options.prefixes.forEach((prefix, sequence) => {
    if (prefix.family !== 6) throw new Error(`${prefix.key}: this writer makes RIB_IPV6_UNICAST records only`);
    const nlri = prefixBytes(prefix);
    const mpReach = Buffer.concat([u16(AFI_IPV6), Buffer.from([SAFI_UNICAST, nextHop.length]), nextHop, Buffer.from([0]), nlri]);
    const attrs = Buffer.concat([attributes, attribute(ATTR_FLAG_OPTIONAL, ATTR_MP_REACH_NLRI, mpReach)]);
    const entry = Buffer.concat([u16(0), u32(time), u16(attrs.length), attrs]);
    records.push(record(time, RIB_IPV6_UNICAST, Buffer.concat([u32(sequence), nlri, u16(1), entry])));
  });
  return Buffer.concat(records);
}

function peerIndexTable(options: TableDumpOptions): Buffer {
  const bgpId = Buffer.from(addressToBytes(options.peerBgpId, 4));
  const peer = Buffer.concat([Buffer.from([PEER_TYPE_AS4]), bgpId, Buffer.from([0, 0, 0, 0]), u32(options.peerAs)]);
  // Collector BGP id, an empty view name, one peer.
  return Buffer.concat([bgpId, u16(0), u16(1), peer]);
}

/** Prefix length, then only the bytes the length covers. */
function prefixBytes(prefix: Prefix): Buffer {
  const bytes = addressToBytes(prefix.address, prefix.family);
  return Buffer.concat([Buffer.from([prefix.length]), Buffer.from(bytes.subarray(0, Math.ceil(prefix.length / 8)))]);
}

function attribute(flags: number, type: number, value: Buffer): Buffer {
  if (value.length > 255) throw new Error('attribute too long for a one-octet length');
  return Buffer.concat([Buffer.from([flags, type, value.length]), value]);
}

function record(timestamp: number, subtype: number, body: Buffer): Buffer {
  return Buffer.concat([u32(timestamp), u16(TABLE_DUMP_V2), u16(subtype), u32(body.length), body]);
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}
