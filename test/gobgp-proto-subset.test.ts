/**
 * proto/gobgp/ is a hand-written subset of GoBGP 3.10's API. Anything it declares must be
 * declared identically upstream (names, numbers, types, labels, enum values, RPC shapes),
 * or the agent would silently talk nonsense to gobgpd. Upstream's files come from Debian's
 * golang-github-osrg-gobgp-dev.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { GOBGP_PROTO_FILES, gobgpProtoDir } from '../src/gobgp/proto-files.js';

const UPSTREAM_DIR = '/usr/share/gocode/src/github.com/osrg/gobgp/api';
const upstreamPresent = GOBGP_PROTO_FILES.every((f) => existsSync(join(UPSTREAM_DIR, f)));
if (!upstreamPresent) {
  console.warn(`SKIPPED gobgp-proto-subset: ${UPSTREAM_DIR} lacks ${GOBGP_PROTO_FILES.join(', ')} (install golang-github-osrg-gobgp-dev)`);
}

function load(dir: string): protobuf.Root {
  const root = new protobuf.Root();
  root.loadSync(GOBGP_PROTO_FILES.map((f) => join(dir, f)), { keepCase: true });
  root.resolveAll();
  return root;
}

/** Every type, enum and service below a namespace, depth first. */
function declarations(ns: protobuf.NamespaceBase): protobuf.ReflectionObject[] {
  const out: protobuf.ReflectionObject[] = [];
  for (const child of ns.nestedArray) {
    out.push(child);
    if (child instanceof protobuf.Namespace || child instanceof protobuf.Type || child instanceof protobuf.Service) {
      out.push(...declarations(child));
    }
  }
  return out;
}

function fieldShape(f: protobuf.Field): Record<string, unknown> {
  return {
    name: f.name,
    id: f.id,
    type: f.resolvedType ? f.resolvedType.fullName : f.type,
    repeated: f.repeated,
    map: f.map,
    oneof: f.partOf?.name ?? null,
  };
}

/** The differences between what the subset declares and what upstream declares. */
function differences(subset: protobuf.Root, upstream: protobuf.Root): string[] {
  const diffs: string[] = [];
  const apipb = subset.lookup('apipb');
  if (!(apipb instanceof protobuf.Namespace)) return ['subset has no package apipb'];
  for (const decl of declarations(apipb)) {
    const name = decl.fullName;
    const theirs = upstream.lookup(name);
    if (!theirs) {
      diffs.push(`${name}: not declared upstream`);
      continue;
    }
    if (decl instanceof protobuf.Type) {
      if (!(theirs instanceof protobuf.Type)) { diffs.push(`${name}: upstream is not a message`); continue; }
      for (const f of decl.fieldsArray) {
        const u = theirs.fields[f.name];
        if (!u) { diffs.push(`${name}.${f.name}: no such field upstream`); continue; }
        const mine = fieldShape(f);
        const up = fieldShape(u);
        if (JSON.stringify(mine) !== JSON.stringify(up)) {
          diffs.push(`${name}.${f.name}: subset ${JSON.stringify(mine)} != upstream ${JSON.stringify(up)}`);
        }
      }
      for (const o of decl.oneofsArray) {
        if (!theirs.oneofs?.[o.name]) diffs.push(`${name}: oneof ${o.name} not upstream`);
      }
    } else if (decl instanceof protobuf.Enum) {
      if (!(theirs instanceof protobuf.Enum)) { diffs.push(`${name}: upstream is not an enum`); continue; }
      for (const [key, value] of Object.entries(decl.values)) {
        if (theirs.values[key] !== value) diffs.push(`${name}.${key}: subset ${value} != upstream ${String(theirs.values[key])}`);
      }
    } else if (decl instanceof protobuf.Service) {
      if (!(theirs instanceof protobuf.Service)) { diffs.push(`${name}: upstream is not a service`); continue; }
      for (const m of decl.methodsArray) {
        const u = theirs.methods[m.name];
        if (!u) { diffs.push(`${name}.${m.name}: no such RPC upstream`); continue; }
        const shape = (x: protobuf.Method) => ({
          request: x.resolvedRequestType?.fullName,
          response: x.resolvedResponseType?.fullName,
          requestStream: Boolean(x.requestStream),
          responseStream: Boolean(x.responseStream),
        });
        if (JSON.stringify(shape(m)) !== JSON.stringify(shape(u))) {
          diffs.push(`${name}.${m.name}: subset ${JSON.stringify(shape(m))} != upstream ${JSON.stringify(shape(u))}`);
        }
      }
    } else if (!(decl instanceof protobuf.Namespace)) {
      diffs.push(`${name}: unexpected declaration kind`);
    }
  }
  return diffs;
}

describe.skipIf(!upstreamPresent)('proto/gobgp subset vs. GoBGP 3.10 upstream', () => {
  const subset = load(gobgpProtoDir());
  const upstream = load(UPSTREAM_DIR);

  it('declares nothing that differs from upstream', () => {
    expect(differences(subset, upstream)).toEqual([]);
  });

  it('declares the RPCs and attributes the agent uses', () => {
    const service = subset.lookupService('apipb.GobgpApi');
    expect(Object.keys(service.methods).sort()).toEqual(
      ['AddPath', 'AddPathStream', 'DeletePath', 'GetBgp', 'ListPath', 'ListPeer', 'WatchEvent'].sort(),
    );
    for (const name of [
      'OriginAttribute', 'AsPathAttribute', 'NextHopAttribute', 'MultiExitDiscAttribute', 'LocalPrefAttribute',
      'CommunitiesAttribute', 'LargeCommunitiesAttribute', 'MpReachNLRIAttribute', 'IPAddressPrefix',
    ]) {
      expect(subset.lookupType(`apipb.${name}`).fullName).toBe(`.apipb.${name}`);
    }
  });

  it('catches a wrong field number (the check is not vacuous)', () => {
    const broken = load(gobgpProtoDir());
    const path = broken.lookupType('apipb.Path');
    const uuid = path.fields['uuid']!;
    path.remove(uuid);
    path.add(new protobuf.Field('uuid', 99, 'bytes'));
    broken.resolveAll();
    expect(differences(broken, upstream)).toEqual([expect.stringContaining('apipb.Path.uuid')]);
  });
});
