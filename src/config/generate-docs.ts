/**
 * Writes the generated config files (schema/*.schema.json, docs/configuration.md) into the
 * package root: `npx tsc -p tsconfig.json && node dist/src/config/generate-docs.js`. Run it
 * after changing a config schema or a key's description; test/config-schema.test.ts fails
 * until the committed files match.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedConfigFiles } from './config-reference.js';

/** dist/src/config/ → the package root, where schema/ and docs/ are committed. */
const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

for (const [path, text] of Object.entries(generatedConfigFiles())) {
  const target = join(packageRoot, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`wrote ${path}`);
}
