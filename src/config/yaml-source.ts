/**
 * A YAML file kept with its node positions, so a finding about `services[1].checks[0].timeout`
 * can be reported at the line and column where the operator wrote it.
 */
import { LineCounter, isAlias, isMap, isNode, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { PathSegment } from './finding.js';

export interface Position { line: number; col: number }

export interface YamlProblem extends Position { severity: 'error' | 'warning'; message: string }

export class YamlSource {
  /** The document as plain data (aliases resolved); meaningless when `problems` has errors. */
  readonly data: unknown;
  readonly problems: YamlProblem[];
  private readonly doc: Document.Parsed;
  private readonly lines: LineCounter;

  constructor(text: string) {
    this.lines = new LineCounter();
    // uniqueKeys: a repeated key would silently override the first; make it an error.
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    const problem = (severity: 'error' | 'warning') => (e: { pos: [number, number]; message: string }): YamlProblem => ({
      ...this.at(e.pos[0]), severity, message: firstLine(e.message),
    });
    this.problems = [...this.doc.errors.map(problem('error')), ...this.doc.warnings.map(problem('warning'))];
    this.data = this.doc.errors.length === 0 ? this.doc.toJS({ maxAliasCount: 100 }) : undefined;
  }

  at(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  /**
   * Where the value at `path` is written; with `at: 'key'`, where its key is.
   * A path that leads past what the file holds (a missing key, a default) resolves to the
   * closest enclosing entry: the key whose value should have held it.
   */
  locate(path: readonly PathSegment[], at?: 'key'): Position {
    let node: unknown = this.doc.contents;
    let keyNode: Node | undefined;
    for (const segment of path) {
      node = this.resolveAlias(node);
      const pair = isMap(node)
        ? node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment))
        : undefined;
      if (pair) {
        keyNode = isNode(pair.key) ? pair.key : undefined;
        node = pair.value;
        continue;
      }
      if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
        keyNode = undefined;
        node = node.items[segment];
        continue;
      }
      return this.startOf(keyNode) ?? this.startOf(node) ?? { line: 1, col: 1 };
    }
    if (at === 'key' && keyNode) return this.startOf(keyNode)!;
    // An empty value (`tcp:` with nothing after it) has no place of its own: use its key.
    const empty = isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1];
    return (empty ? undefined : this.startOf(node)) ?? this.startOf(keyNode) ?? { line: 1, col: 1 };
  }

  private resolveAlias(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) ?? node : node;
  }

  private startOf(node: unknown): Position | undefined {
    if (isPair(node)) return this.startOf(node.key);
    if (isNode(node) && node.range) return this.at(node.range[0]);
    return undefined;
  }
}

/** yaml's messages end with " at line L, column C"; the position is reported separately. */
function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
