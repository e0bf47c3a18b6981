import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding proto/gobgp/*.proto. Searched upward from this module because it runs
 * both from src/gobgp (vitest) and from dist/src/gobgp (the built agent).
 */
export function gobgpProtoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, 'proto', 'gobgp');
    if (existsSync(join(candidate, 'gobgp.proto'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`proto/gobgp/gobgp.proto not found above ${fileURLToPath(import.meta.url)}`);
}

/** Both files: gobgp.proto does not import attribute.proto, yet paths carry its messages. */
export const GOBGP_PROTO_FILES = ['gobgp.proto', 'attribute.proto'] as const;
