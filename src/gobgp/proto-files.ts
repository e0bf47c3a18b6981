import { join } from 'node:path';
import { protoRoot } from '../core/proto-files.js';

/** The folder holding proto/gobgp/*.proto (the subset of GoBGP v3's API this client uses). */
export function gobgpProtoDir(): string {
  return join(protoRoot(join('gobgp', 'gobgp.proto')), 'gobgp');
}

/** Both files: gobgp.proto does not import attribute.proto, yet paths carry its messages. */
export const GOBGP_PROTO_FILES = ['gobgp.proto', 'attribute.proto'] as const;
