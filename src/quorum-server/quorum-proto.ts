/**
 * The quorate.v1 quorum server protocol, loaded once from proto/ at the package root, with
 * its generated types (generated/README.md says how they are made).
 */
import { join } from 'node:path';
import type * as protoLoader from '@grpc/proto-loader';
import { loadProtoPackage } from '../core/proto-files.js';
import type { ProtoGrpcType } from './generated/quorum.js';

const PROTO_FILE = join('quorate', 'v1', 'quorum.proto');

/** Must match the flags the types were generated with (generated/README.md). */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, enums: String, longs: Number, defaults: true };

export type QuorumPackage = ProtoGrpcType['quorate']['v1'];

let loaded: QuorumPackage | undefined;

export function quorumProto(): QuorumPackage {
  if (!loaded) {
    // The generated type describes exactly this file.
    loaded = (loadProtoPackage(PROTO_FILE, LOADER_OPTIONS) as unknown as ProtoGrpcType).quorate.v1;
  }
  return loaded;
}
