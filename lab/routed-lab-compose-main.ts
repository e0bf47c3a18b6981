/**
 * Writes docker-compose.yml from config/lab/topology.yaml (lab/routed-lab-compose.ts), or
 * with `--check` says whether the committed file is current (exit 1 when it is not).
 *
 *   node dist/lab/routed-lab-compose-main.js [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { composePath, listConfigFiles, renderCompose } from './routed-lab-compose.js';
import { loadTopology } from './routed-lab-topology.js';

const topology = loadTopology();
const rendered = renderCompose(topology, listConfigFiles(topology));
const path = composePath(topology);
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // Missing counts as stale.
  }
  if (current !== rendered) {
    process.stderr.write(`${path} is not the rendering of config/lab/topology.yaml: run node dist/lab/routed-lab-compose-main.js\n`);
    process.exit(1);
  }
  process.stdout.write(`${path} is current\n`);
} else {
  writeFileSync(path, rendered);
  process.stdout.write(`wrote ${path}\n`);
}
