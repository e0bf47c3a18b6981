/**
 * Messages for keys a section does not know, with the closest known key as a hint.
 *
 * zod reports all unknown keys of one mapping as a single issue, but each key has its own
 * place in the file. So the message holds one line per key, in the key order, and
 * `splitUnknownKeyMessages` pairs them up again when the loader places each key.
 */

export function unknownKeyMessages(keys: readonly string[], known: readonly string[]): string {
  return keys.map((key) => unknownKeyMessage(key, known)).join('\n');
}

export function splitUnknownKeyMessages(message: string, keys: readonly string[]): string[] {
  const lines = message.split('\n');
  return keys.map((key, i) => lines[i] ?? `unknown key "${key}"`);
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const hint = closest(key, known);
  const valid = known.length > 0 ? ` (known keys here: ${known.join(', ')})` : ' (this mapping takes no keys)';
  return hint ? `unknown key "${key}": did you mean "${hint}"?` : `unknown key "${key}"${valid}`;
}

/** The known key within a small edit distance (typos, snake_case for kebab-case), if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  const normalized = key.toLowerCase().replace(/_/g, '-');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(normalized, candidate);
    if (d < bestDistance) { best = candidate; bestDistance = d; }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(key.length / 3)));
  return bestDistance <= allowed ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
