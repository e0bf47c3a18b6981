/**
 * The grpc.health.v1 protocol, loaded once from proto/ at the package root, with its
 * generated types (see generated/README.md for how they are made).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/health.js';

const PROTO_FILE = join('grpc', 'health', 'v1', 'health.proto');

/** Must match the flags the types were generated with (generated/README.md). */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, enums: String, defaults: true };

let loaded: ProtoGrpcType['grpc']['health']['v1'] | undefined;

export function healthProto(): ProtoGrpcType['grpc']['health']['v1'] {
  if (!loaded) {
    const root = protoRoot();
    const definition = protoLoader.loadSync(PROTO_FILE, { ...LOADER_OPTIONS, includeDirs: [root] });
    // loadPackageDefinition is untyped by design; the generated type describes exactly this file.
    loaded = (grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType).grpc.health.v1;
  }
  return loaded;
}

/**
 * proto/ sits at the package root: two levels above this file when run from src/ (tests),
 * three from dist/src/ (the built agent). Walk up rather than hard-code either.
 */
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
