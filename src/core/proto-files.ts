/**
 * The .proto files ship in proto/ at the package root, which lies above both src/ (tests run
 * the sources) and dist/src/ (the built program): found by walking up, never hard-coded.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The proto/ folder that holds `file` (a path inside proto/). */
export function protoRoot(file: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, file))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find proto/${file} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * Loads `file` (inside proto/) as a gRPC package. `options` must match the flags its types
 * were generated with (each generated/README.md says which); the caller casts the result to
 * those generated types, since loadPackageDefinition is untyped by design.
 */
export function loadProtoPackage(file: string, options: protoLoader.Options): grpc.GrpcObject {
  return grpc.loadPackageDefinition(protoLoader.loadSync(file, { ...options, includeDirs: [protoRoot(file)] }));
}
