/**
 * Where keys sit in a TOML file. smol-toml gives values without positions, so this scans
 * the lines for table headers and `key = value` lines and records the line of each key
 * path (array tables numbered: `neighbors.0.timers.config.hold-time`). It covers the way
 * gobgpd's configs are written (tables, array tables, dotted keys, one-line inline
 * tables); anything it cannot place is reported at the closest enclosing table, or line 1.
 */

export class TomlLines {
  private readonly lines = new Map<string, number>();

  constructor(text: string) {
    const arrayCounts = new Map<string, number>();
    let table: string[] = [];
    let inMultiline: string | undefined;
    text.split('\n').forEach((raw, index) => {
      const lineNo = index + 1;
      const line = raw.trim();
      if (inMultiline) {
        if (line.includes(inMultiline)) inMultiline = undefined;
        return;
      }
      if (line === '' || line.startsWith('#')) return;
      const arrayHeader = /^\[\[\s*([^\]]+?)\s*\]\]/.exec(line);
      const header = arrayHeader ? undefined : /^\[\s*([^\]]+?)\s*\]/.exec(line);
      if (arrayHeader) {
        const base = this.resolveTablePath(splitKey(arrayHeader[1]!), arrayCounts, true);
        const baseKey = base.join('.');
        const next = (arrayCounts.get(baseKey) ?? -1) + 1;
        arrayCounts.set(baseKey, next);
        table = [...base, String(next)];
        this.record(table, lineNo);
        return;
      }
      if (header) {
        table = this.resolveTablePath(splitKey(header[1]!), arrayCounts);
        this.record(table, lineNo);
        return;
      }
      const assignment = /^((?:"[^"]*"|'[^']*'|[A-Za-z0-9_.\- ])+?)\s*=\s*(.*)$/.exec(line);
      if (!assignment) return;
      const key = [...table, ...splitKey(assignment[1]!)];
      this.record(key, lineNo);
      const value = assignment[2]!;
      for (const quote of ['"""', "'''"]) {
        if (value.startsWith(quote) && !value.slice(3).includes(quote)) inMultiline = quote;
      }
      // One-line inline table: `config = { enabled = true, restart-time = 10 }`.
      const inline = /^\{(.*)\}/.exec(value);
      if (inline) {
        for (const part of inline[1]!.split(',')) {
          const inner = /^\s*([A-Za-z0-9_.\-"']+)\s*=/.exec(part);
          if (inner) this.record([...key, ...splitKey(inner[1]!)], lineNo);
        }
      }
    });
  }

  /** The line of `path`, or of its closest recorded ancestor. */
  lineOf(path: readonly (string | number)[]): number {
    for (let n = path.length; n > 0; n--) {
      const line = this.lines.get(path.slice(0, n).join('.'));
      if (line !== undefined) return line;
    }
    return 1;
  }

  private record(path: string[], line: number): void {
    const key = path.join('.');
    if (!this.lines.has(key)) this.lines.set(key, line);
  }

  /** `[neighbors.timers.config]` means the latest `[[neighbors]]` entry's timers. */
  private resolveTablePath(segments: string[], arrayCounts: Map<string, number>, arrayHeader = false): string[] {
    const out: string[] = [];
    segments.forEach((segment, i) => {
      out.push(segment);
      // The last segment of an array header gets its new number from the caller.
      if (arrayHeader && i === segments.length - 1) return;
      const count = arrayCounts.get(out.join('.'));
      if (count !== undefined) out.push(String(count));
    });
    return out;
  }
}

function splitKey(key: string): string[] {
  const parts: string[] = [];
  for (const match of key.matchAll(/"([^"]*)"|'([^']*)'|([^.\s"']+)/g)) parts.push(match[1] ?? match[2] ?? match[3]!);
  return parts;
}
