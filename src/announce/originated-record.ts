/**
 * The prefixes this agent may have originated at its speaker, kept in the state directory.
 * An agent that restarts with a changed config still knows which paths in an external gobgpd
 * are its own to remove; paths for prefixes it never recorded nor manages are never touched.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PrefixKey } from '../core/prefix.js';

const FILE = 'originated-prefixes.json';

export class OriginatedRecord {
  private readonly path: string;
  private keys: Set<PrefixKey>;

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.path = join(stateDir, FILE);
    this.keys = new Set(readKeys(this.path));
  }

  has(key: PrefixKey): boolean {
    return this.keys.has(key);
  }

  all(): ReadonlySet<PrefixKey> {
    return this.keys;
  }

  /** Records `keys` before they are announced (written to disk first: a crash right after must not forget them). */
  addAll(keys: Iterable<PrefixKey>): void {
    const before = this.keys.size;
    for (const key of keys) this.keys.add(key);
    if (this.keys.size !== before) this.save();
  }

  /** After a full sync proved the speaker holds exactly `keys` of ours. */
  replace(keys: Iterable<PrefixKey>): void {
    const next = new Set(keys);
    if (next.size === this.keys.size && [...next].every((k) => this.keys.has(k))) return;
    this.keys = next;
    this.save();
  }

  private save(): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, prefixes: [...this.keys].sort() }) + '\n', { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}

function readKeys(path: string): PrefixKey[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  const prefixes = (parsed as { prefixes?: unknown }).prefixes;
  if (!Array.isArray(prefixes) || !prefixes.every((p) => typeof p === 'string')) {
    throw new Error(`${path}: not a quorate record of originated prefixes`);
  }
  return prefixes as PrefixKey[];
}
