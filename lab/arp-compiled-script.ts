/**
 * Where the compiled entry point of a lab process lives. Lab processes (the prober, whoami)
 * run as compiled JavaScript under plain `node`, so `npx tsc` must have run (vitest's global
 * setup does). Works from lab/ (vitest runs sources) and dist/lab/ (compiled code alike).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `dist/lab/<file>` under the project root, checked to exist. */
export function compiledLabScript(file: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the project root above lab/');
    dir = up;
  }
  const script = join(dir, 'dist', 'lab', file);
  if (!existsSync(script)) throw new Error(`${script} is missing: build first (npx tsc -p tsconfig.json)`);
  return script;
}
