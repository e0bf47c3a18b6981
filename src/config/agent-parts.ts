/**
 * Parses the agent's file section by section (and service by service), so that one broken
 * section does not hide the errors of the others, and so that the cross-section rules can
 * still run on every part that did parse. `assembleAgentConfig` builds the final config
 * only when nothing failed.
 */
import { join } from 'node:path';
import type { z } from 'zod';
import type { Finding } from './finding.js';
import {
  AGENT_DEFAULTS, AGENT_SECTIONS, REQUIRED_AGENT_SECTIONS, agentSectionSchemas, arpSchema, bgpSchema, clusterSchema,
  nodeSchema, serviceSchema, servicesListSchema, statusSchema, tlsSchema, flapDampingSchema, notifySchema,
} from './schema.js';
import type { AgentConfig, BgpConfig, ServiceConfig } from './types.js';
import { unknownKeyMessages } from './unknown-keys.js';
import { issuesToFindings, operatorMessages } from './zod-findings.js';

export type BgpSection = z.output<ReturnType<typeof bgpSchema>>;

/** Whatever parsed. A missing part either failed (see the findings) or was not in the file. */
export interface AgentParts {
  node?: z.output<typeof nodeSchema>;
  cluster?: z.output<typeof clusterSchema>;
  tls?: z.output<ReturnType<typeof tlsSchema>>;
  bgp?: BgpSection;
  arp?: z.output<typeof arpSchema>;
  status?: z.output<typeof statusSchema>;
  stateDir?: string;
  maintenanceDir?: string;
  flapDamping?: z.output<typeof flapDampingSchema>;
  notify?: z.output<ReturnType<typeof notifySchema>>;
  /** Indexed like the YAML list: `undefined` where a service failed to parse. */
  services: (ServiceConfig | undefined)[];
  /** Top-level keys present in the file, whether or not they parsed. */
  present: ReadonlySet<string>;
}

export function parseAgentParts(raw: unknown, baseDir: string): { parts: AgentParts; findings: Finding[] } {
  const findings: Finding[] = [];
  const parts: AgentParts = { services: [], present: new Set() };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    findings.push({ path: [], severity: 'error', message: 'expected a mapping with the sections node, cluster and services' });
    return { parts, findings };
  }
  const doc = raw as Record<string, unknown>;
  parts.present = new Set(Object.keys(doc));

  const known: readonly string[] = AGENT_SECTIONS;
  for (const key of Object.keys(doc)) {
    if (!known.includes(key)) {
      findings.push({ path: [key], severity: 'error', message: unknownKeyMessages([key], known), at: 'key' });
    }
  }
  for (const key of REQUIRED_AGENT_SECTIONS) {
    if (doc[key] === undefined) findings.push({ path: [key], severity: 'error', message: `the section "${key}" is required` });
  }

  const parse = <S extends z.ZodType>(schema: S, key: string, value: unknown): z.output<S> | undefined => {
    if (value === undefined) return undefined;
    const result = schema.safeParse(value, { error: operatorMessages });
    if (result.success) return result.data;
    findings.push(...issuesToFindings(result.error.issues, [key]));
    return undefined;
  };

  const sections = agentSectionSchemas(baseDir);
  parts.node = parse(sections.node, 'node', doc.node);
  parts.cluster = parse(sections.cluster, 'cluster', doc.cluster);
  parts.tls = parse(sections.tls, 'tls', doc.tls);
  parts.bgp = parse(sections.bgp, 'bgp', doc.bgp);
  parts.arp = parse(sections.arp, 'arp', doc.arp);
  parts.status = parse(sections.status, 'status', doc.status);
  parts.stateDir = parse(sections['state-dir'], 'state-dir', doc['state-dir']);
  parts.maintenanceDir = parse(sections['maintenance-dir'], 'maintenance-dir', doc['maintenance-dir']);
  parts.flapDamping = parse(sections['flap-damping'], 'flap-damping', doc['flap-damping']);
  parts.notify = parse(sections.notify, 'notify', doc.notify);

  const list = parse(servicesListSchema, 'services', doc.services);
  if (list) {
    const service = serviceSchema(baseDir);
    list.forEach((item, i) => {
      const result = service.safeParse(item, { error: operatorMessages });
      if (result.success) parts.services[i] = result.data;
      else {
        parts.services[i] = undefined;
        findings.push(...issuesToFindings(result.error.issues, ['services', i]));
      }
    });
  }
  return { parts, findings };
}

/** The final config; only call this when no finding is an error. */
export function assembleAgentConfig(parts: AgentParts, file: string): AgentConfig | undefined {
  const { node, cluster } = parts;
  if (!node || !cluster || parts.services.some((s) => s === undefined)) return undefined;
  const stateDir = parts.stateDir ?? join(AGENT_DEFAULTS.stateDirRoot, node.id);
  return {
    file,
    node,
    cluster,
    ...(parts.tls ? { tls: parts.tls } : {}),
    ...(parts.bgp ? { bgp: toBgpConfig(parts.bgp, stateDir) } : {}),
    arp: parts.arp ?? arpSchema.parse({}),
    ...(parts.status ? { status: parts.status } : {}),
    stateDir,
    maintenanceDir: parts.maintenanceDir ?? join(stateDir, AGENT_DEFAULTS.maintenanceDirName),
    ...(parts.notify ? { notify: parts.notify } : {}),
    services: (parts.services as ServiceConfig[]).map((s) =>
      (s.flapDamping || !parts.flapDamping ? s : { ...s, flapDamping: parts.flapDamping })),
  };
}

function toBgpConfig(b: BgpSection, stateDir: string): BgpConfig {
  const run = b.gobgp.run;
  // A speaker the agent runs listens on a private socket of its own, never on Debian's
  // gobgpd.service port, so the agent cannot talk to (and announce through) a stranger.
  const address = b.gobgp.address ?? (run ? `unix://${join(stateDir, AGENT_DEFAULTS.gobgpSocketName)}` : undefined);
  return {
    gobgp: {
      ...(run ? { run: { config: run.config, binary: run.binary, stallTimeout: run['stall-timeout'] } } : {}),
      ...(address ? { address } : {}),
    },
    nextHop: {
      ...(b['next-hop'].ipv4 ? { ipv4: b['next-hop'].ipv4 } : {}),
      ...(b['next-hop'].ipv6 ? { ipv6: b['next-hop'].ipv6 } : {}),
    },
    communities: b.communities,
    largeCommunities: b['large-communities'],
    reconcileInterval: b['reconcile-interval'],
    callTimeout: b['call-timeout'],
    gracefulShutdown: b['graceful-shutdown'],
  };
}
