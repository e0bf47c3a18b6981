/**
 * The quorate.v1 peer heartbeat protocol, loaded once from proto/ at the package root, with
 * its generated types (generated/README.md says how they are made).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/peer.js';

const PROTO_FILE = join('quorate', 'v1', 'peer.proto');

/** Must match the flags the types were generated with (generated/README.md). */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, enums: String, longs: Number, defaults: true };

export type PeerPackage = ProtoGrpcType['quorate']['v1'];

let loaded: PeerPackage | undefined;

export function peerProto(): PeerPackage {
  if (!loaded) {
    const definition = protoLoader.loadSync(PROTO_FILE, { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
    // loadPackageDefinition is untyped by design; the generated type describes exactly this file.
    loaded = (grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType).quorate.v1;
  }
  return loaded;
}

/** proto/ sits at the package root, above src/ (tests) and dist/src/ (the built agent). */
function protoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, PROTO_FILE))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find proto/${PROTO_FILE} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
