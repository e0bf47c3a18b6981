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
  listen: hostPort.meta({ description: 'Where the server answers the nodes (gRPC, mutual TLS).' }),
  tls: tlsSchema(baseDir).optional()
    .meta({ description: "Mutual TLS with the nodes, from the clusters' CA: ca, cert and key are required unless insecure." }),
  lease: section({
    max: positiveDuration.default(SERVER_DEFAULTS.leaseMax)
      .meta({ description: 'The longest lease granted; a node asking for more gets this much.' }),
  }).prefault({}).meta({ description: 'The leases this server grants.' }),
  clusters: z.array(section({
    name: identifier('cluster name').transform(clusterName).meta({ description: "The cluster's name, its cluster.name." }),
    prefer: identifier('node id').transform(nodeId).optional()
      .meta({ description: "On a tie that no other rule decides, this node's partition wins." }),
  }).meta({ title: 'cluster' })).optional().meta({ description: 'Serve only these clusters; unset, any cluster the CA vouches for.' }),
  'state-file': pathIn(baseDir).default(SERVER_DEFAULTS.stateFile)
    .meta({ description: 'Where grants are recorded before they are answered, so a restarted server honours them.' }),
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
