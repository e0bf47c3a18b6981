/**
 * Prints a results file's table as Markdown, for BENCHMARKS.md:
 *   node dist/bench/results-markdown.js bench/results/<date>.json
 */
import { readFileSync } from 'node:fs';
import { renderMarkdownTable } from './report-table.js';
import type { ResultsDocument } from './results-file.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: node dist/bench/results-markdown.js bench/results/<date>.json');
  process.exit(2);
}
const doc = JSON.parse(readFileSync(file, 'utf8')) as ResultsDocument;
process.stdout.write(renderMarkdownTable(doc.results));
for (const r of doc.results) for (const note of r.notes) process.stdout.write(`\n- ${r.name}: ${note}`);
process.stdout.write(`\n\nRun ${doc.startedAt} → ${doc.finishedAt}; load average ${doc.machine.loadAverageAtStart} at start, ${doc.loadAverageAtEnd} at end.\n`);
