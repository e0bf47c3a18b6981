/**
 * The grpc.health.v1 protocol, loaded once from proto/ at the package root, with its
 * generated types (see generated/README.md for how they are made).
 */
import { join } from 'node:path';
import type * as protoLoader from '@grpc/proto-loader';
import { loadProtoPackage } from '../core/proto-files.js';
import type { ProtoGrpcType } from './generated/health.js';

const PROTO_FILE = join('grpc', 'health', 'v1', 'health.proto');

/** Must match the flags the types were generated with (generated/README.md). */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, enums: String, defaults: true };

let loaded: ProtoGrpcType['grpc']['health']['v1'] | undefined;

export function healthProto(): ProtoGrpcType['grpc']['health']['v1'] {
  if (!loaded) {
    // The generated type describes exactly this file.
    loaded = (loadProtoPackage(PROTO_FILE, LOADER_OPTIONS) as unknown as ProtoGrpcType).grpc.health.v1;
  }
  return loaded;
}
