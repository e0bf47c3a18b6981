/** The quorum server's file (server.yaml) as zod schemas, and its cross-key rules. */
import { z } from 'zod';
import { ms } from '../core/duration.js';
import { clusterName, nodeId } from '../core/ids.js';
import { hostPort, identifier, pathIn, positiveDuration, section } from './fields.js';
import { error, type Finding } from './finding.js';
import { tlsSchema } from './schema.js';
import type { ServerConfig } from './server-types.js';

export const SERVER_DEFAULTS = {
  leaseMax: ms(10_000),
  stateFile: '/var/lib/quorate/quorum-server.json',
} as const;

export const serverSchema = (baseDir: string, file: string) => section({
  listen: hostPort,
  tls: tlsSchema(baseDir).optional(),
  lease: section({ max: positiveDuration.default(SERVER_DEFAULTS.leaseMax) }).prefault({}),
  clusters: z.array(section({
    name: identifier('cluster name').transform(clusterName),
    prefer: identifier('node id').transform(nodeId).optional(),
  })).optional(),
  'state-file': pathIn(baseDir).default(SERVER_DEFAULTS.stateFile),
}).transform((s): ServerConfig => ({
  file,
  listen: s.listen,
  ...(s.tls ? { tls: s.tls } : {}),
  lease: { max: s.lease.max },
  ...(s.clusters ? { clusters: s.clusters.map((c) => ({ name: c.name, ...(c.prefer ? { prefer: c.prefer } : {}) })) } : {}),
  stateFile: s['state-file'],
}));

export function serverFindings(config: ServerConfig): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  config.clusters?.forEach((c, i) => {
    if (seen.has(c.name)) out.push(error(['clusters', i, 'name'], `cluster "${c.name}" is listed twice`));
    seen.add(c.name);
  });
  const tls = config.tls;
  if (!tls?.insecure && !(tls?.ca && tls.cert && tls.key)) {
    out.push({
      ...error(tls ? ['tls'] : ['listen'], 'the quorum server talks mutual TLS: set tls.ca, tls.cert and tls.key (or tls.insecure: true, for a lab only)'),
      ...(tls ? { at: 'key' as const } : {}),
    });
  }
  return out;
}
