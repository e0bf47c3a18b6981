/** The quorum server's file (server.yaml) as zod schemas, and its cross-key rules. */
import { z } from 'zod';
import { shortestUsefulLease } from '../cluster/lease.js';
import { formatDuration, ms } from '../core/duration.js';
import { clusterName, nodeId } from '../core/ids.js';
import { hostPort, identifier, pathIn, positiveDuration, section } from './fields.js';
import { error, warning, type Finding } from './finding.js';
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
  status: section({
    listen: hostPort.meta({ description: 'HOST:PORT of GET /status (the leases held), /metrics (Prometheus) and /healthz; no authentication, nothing it answers changes state.' }),
  }).optional().meta({ description: "The server's status API; without the section, none." }),
  'state-file': pathIn(baseDir).default(SERVER_DEFAULTS.stateFile)
    .meta({ description: 'Where grants are recorded before they are answered, so a restarted server honours them.' }),
}).transform((s): ServerConfig => ({
  file,
  listen: s.listen,
  ...(s.tls ? { tls: s.tls } : {}),
  lease: { max: s.lease.max },
  ...(s.clusters ? { clusters: s.clusters.map((c) => ({ name: c.name, ...(c.prefer ? { prefer: c.prefer } : {}) })) } : {}),
  stateFile: s['state-file'],
  ...(s.status ? { status: { listen: s.status.listen } } : {}),
}));

export function serverFindings(config: ServerConfig): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  config.clusters?.forEach((c, i) => {
    if (seen.has(c.name)) out.push(error(['clusters', i, 'name'], `cluster "${c.name}" is listed twice`));
    seen.add(c.name);
  });
  // The longest lease the server grants bounds every node's: a node stops a margin before
  // its lease ends (cluster/lease.ts), so a maximum of a few margins leaves it almost nothing.
  const useful = shortestUsefulLease();
  if (config.lease.max < 3 * useful) {
    out.push(warning(['lease', 'max'],
      `lease.max ${formatDuration(config.lease.max)} is too short to serve on: a node stops ${formatDuration(ms(useful - 1))} before its lease ends (drift and withdrawal margins), so a lease this short leaves it almost no time to serve; allow at least ${formatDuration(ms(3 * useful))}`));
  }
  const tls = config.tls;
  if (!tls?.insecure && !(tls?.ca && tls.cert && tls.key)) {
    out.push({
      ...error(tls ? ['tls'] : ['listen'], 'the quorum server talks mutual TLS: set tls.ca, tls.cert and tls.key (or tls.insecure: true, for a lab only)'),
      ...(tls ? { at: 'key' as const } : {}),
    });
  }
  return out;
}
