import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Integration tests run the real command (bin/quorate → dist/): build it once, up front.
 * Type errors are reported but do not stop the run here; `npm test` type-checks strictly
 * before it starts vitest (scripts/setup.sh).
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const result = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) console.warn(`tsc reported errors (the build still emitted):\n${result.stdout}${result.stderr}`);
}
