/** Writes a run's results to bench/results/<date>.json (the source tree, not dist/). */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from './machine.js';
import type { BenchmarkResult } from './measurement.js';

export interface ResultsDocument {
  startedAt: string;
  finishedAt: string;
  command: string;
  trials: number;
  machine: MachineInfo;
  results: BenchmarkResult[];
  /** Benchmarks that failed, with the error (the others' results are still kept). */
  failures: { name: string; error: string }[];
  /** /proc/loadavg when the run ended (other work on the machine skews timings). */
  loadAverageAtEnd: string;
}

function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the project root');
    dir = up;
  }
  return dir;
}

/**
 * A full run writes `<date>.json`; a run of some benchmarks only (`--only`) writes
 * `<date>-<names>.json`, so it never overwrites the day's full results.
 */
export async function writeResults(doc: ResultsDocument, only?: readonly string[]): Promise<string> {
  const dir = join(projectRoot(), 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const suffix = only?.length ? `-${only.join('-')}` : '';
  const path = join(dir, `${doc.startedAt.slice(0, 10)}${suffix}.json`);
  await writeFile(path, `${JSON.stringify(doc, null, 2)}\n`);
  return path;
}
