/** The results as a plain-text table, one row per measured series, with target verdicts. */
import { targetVerdicts, type BenchmarkResult } from './measurement.js';

const HEADINGS = ['bench', 'subject', 'measure', 'n', 'median', 'p99', 'min', 'max', 'target'];

export function renderTable(results: readonly BenchmarkResult[]): string {
  const lines: string[][] = [HEADINGS];
  for (const result of results) {
    for (const r of result.rows) {
      const verdicts = targetVerdicts(r)
        .map(({ target, met, value }) => `${target.stat} ${fmt(value)} < ${fmt(target.below)}: ${met ? 'met' : 'NOT met'}`)
        .join('; ');
      const s = r.summary;
      lines.push([result.name, r.subject, r.note ? `${r.name} (${r.note})` : r.name, String(s.trials), fmt(s.median), fmt(s.p99), fmt(s.min), fmt(s.max), verdicts || '—']);
    }
  }
  const widths = HEADINGS.map((_, col) => Math.max(...lines.map((l) => l[col]!.length)));
  const render = (l: string[]): string => l.map((cell, col) => (col >= 3 && col <= 7 ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!))).join('  ').trimEnd();
  const separator = widths.map((w) => '-'.repeat(w)).join('  ');
  return [render(lines[0]!), separator, ...lines.slice(1).map(render)].join('\n') + '\n\nAll times in ms.\n';
}

/** The same rows as a Markdown table (for BENCHMARKS.md). */
export function renderMarkdownTable(results: readonly BenchmarkResult[]): string {
  const out = ['| bench | subject | measure | n | median | p99 | min | max | target |', '|---|---|---|--:|--:|--:|--:|--:|---|'];
  for (const result of results) {
    for (const r of result.rows) {
      const verdicts = targetVerdicts(r)
        .map(({ target, met }) => `${target.stat} < ${fmt(target.below)}: **${met ? 'met' : 'not met'}**`)
        .join('; ');
      const s = r.summary;
      const measure = r.note ? `${r.name} (${r.note})` : r.name;
      out.push(`| ${result.name} | ${r.subject} | ${measure} | ${s.trials} | ${fmt(s.median)} | ${fmt(s.p99)} | ${fmt(s.min)} | ${fmt(s.max)} | ${verdicts || '—'} |`);
    }
  }
  return `${out.join('\n')}\n`;
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}
