/**
 * The agent's configuration file, section by section, as zod schemas over the YAML's
 * kebab-case keys. Each schema's output is the typed shape of src/config/types.ts, with
 * defaults filled in and paths made absolute. Rules that relate sections to each other
 * live in rules.ts; this file only knows what one section may hold.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ms } from '../core/duration.js';
import { clusterName, nodeId, serviceName } from '../core/ids.js';
import {
  community, host, hostPort, identifier, ipAddress, largeCommunity,
  duration, pathIn, port, positiveDuration, prefix, section, uint32,
} from './fields.js';
import type { CheckConfig, CheckSpec, QuorumModuleConfig } from './types.js';
import { ARP_DEFAULTS } from '../arp/arp-options.js';

/** Every default of the agent's file, in one place (the README's configuration reference repeats them). */
export const AGENT_DEFAULTS = {
  votes: 1,
  heartbeatInterval: ms(200),
  heartbeatDeadAfter: ms(1000),
  quorum: [{ kind: 'voting' }] as QuorumModuleConfig[],
  stateDirRoot: '/var/lib/quorate',
  gobgpBinary: 'gobgpd',
  gobgpSocketName: 'gobgpd.sock',
  stallTimeout: ms(1000),
  reconcileInterval: ms(1000),
  callTimeout: ms(2000),
  priority: 100,
  preempt: true,
  via: ['bgp'] as ('bgp' | 'arp')[],
  origin: 'igp' as const,
  asPathPrepend: 0,
  // A dead service is noticed after `fall` failed checks: 3 × 500ms = 1.5s, inside the 2s
  // target with room for the last check's timeout. rise 2 keeps one lucky probe from
  // announcing a flapping service.
  checkInterval: ms(500),
  checkTimeout: ms(400),
  checkRise: 2,
  checkFall: 3,
  checkHost: '127.0.0.1',
  httpStatus: 200,
  // ARP: the address lifetime and the gratuitous announcements are src/arp's defaults, where
  // the reason for each is written down (arp-options.ts).
  arpLifetime: ARP_DEFAULTS.lifetime,
  garpForms: ARP_DEFAULTS.garp.forms,
  garpCount: ARP_DEFAULTS.garp.count,
  garpInterval: ARP_DEFAULTS.garp.interval,
  garpRefresh: ARP_DEFAULTS.garp.refresh,
  // Duplicate-address probes before taking over from a holder whose heartbeats are dead: all
  // unanswered means its host is gone, and the address may be taken at once.
  takeoverProbeCount: 3,
  // An answer on one segment takes well under a millisecond; the rest is arping's start.
  takeoverProbeWait: ms(60),
  /** Under `state-dir`. */
  maintenanceDirName: 'maintenance',
  // A notify command that hangs is killed after this; later events wait in a bounded queue.
  notifyTimeout: ms(10_000),
} as const;

export const CHECK_KINDS = ['tcp', 'http', 'exec', 'grpc'] as const;
export const QUORUM_KINDS = ['voting', 'server'] as const;

/**
 * A list item that is one of several kinds, named by its only kind key (`- tcp: {...}`).
 * Reports a missing kind at the item, and a second kind at that key.
 */
function exactlyOneKind(kinds: readonly string[], what: string) {
  return (value: Record<string, unknown>, ctx: z.core.$RefinementCtx) => {
    const present = kinds.filter((k) => value[k] !== undefined);
    if (present.length === 0) {
      ctx.addIssue({ code: 'custom', message: `${what} needs one of ${kinds.join(', ')}`, path: [] });
    }
    for (const extra of present.slice(1)) {
      ctx.addIssue({
        code: 'custom',
        path: [extra],
        message: `${what} has exactly one kind, but ${present[0]} and ${extra} are both given: split them into two list items`,
      });
    }
  };
}

const httpUrl = z.string().refine((text) => {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, { message: 'expected an http:// or https:// URL' });

const regex = z.string().transform((text, ctx): RegExp => {
  try {
    return new RegExp(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a regular expression: ${(err as Error).message}` });
    return z.NEVER;
  }
});

/** Linux interface names: at most 15 bytes, no slash, no white space. */
const interfaceName = z.string().regex(/^[^\s/:]{1,15}$/, { message: 'expected a network interface name (1 to 15 characters, e.g. eth0)' });

const checkTimings = {
  interval: positiveDuration.default(AGENT_DEFAULTS.checkInterval),
  // No static default: see the transform below.
  timeout: positiveDuration.optional(),
  rise: z.number().int().min(1).default(AGENT_DEFAULTS.checkRise),
  fall: z.number().int().min(1).default(AGENT_DEFAULTS.checkFall),
};

export const checkSchema = (baseDir: string) => section({
  tcp: section({ host: host.default(AGENT_DEFAULTS.checkHost), port }).optional(),
  http: section({
    url: httpUrl,
    status: z.number().int().min(100).max(599).default(AGENT_DEFAULTS.httpStatus),
    body: regex.optional(),
    'insecure-tls': z.boolean().default(false),
    headers: z.record(z.string(), z.string()).default({}),
  }).optional(),
  exec: section({
    command: z.array(z.string().min(1)).min(1),
    env: z.record(z.string(), z.string()).default({}),
  }).optional(),
  grpc: section({
    host: host.default(AGENT_DEFAULTS.checkHost),
    port,
    service: z.string().default(''),
    tls: z.boolean().default(false),
  }).optional(),
  ...checkTimings,
}).superRefine(exactlyOneKind(CHECK_KINDS, 'a check')).transform((c): CheckConfig => {
  // The default timeout never exceeds the interval, so a short interval alone gives a
  // consistent check (and no warning about a timeout the operator never wrote).
  const timeout = c.timeout ?? ms(Math.min(AGENT_DEFAULTS.checkTimeout, c.interval));
  const timing = { interval: c.interval, timeout, rise: c.rise, fall: c.fall };
  let spec: CheckSpec;
  if (c.tcp) spec = { kind: 'tcp', ...c.tcp };
  else if (c.http) {
    spec = {
      kind: 'http', url: c.http.url, status: c.http.status, insecureTls: c.http['insecure-tls'], headers: c.http.headers,
      ...(c.http.body ? { bodyMatch: c.http.body } : {}),
    };
  } else if (c.exec) {
    // `./check.sh` means the one beside the config file; a bare name is found through PATH.
    const [program, ...args] = c.exec.command as [string, ...string[]];
    const resolved = program.includes('/') && !isAbsolute(program) ? resolve(baseDir, program) : program;
    spec = { kind: 'exec', command: [resolved, ...args], env: c.exec.env };
  }
  else spec = { kind: 'grpc', ...c.grpc! };
  return { ...timing, ...spec };
});

const communities = z.array(community).default([]);
const largeCommunities = z.array(largeCommunity).default([]);

const serviceBgpSchema = section({
  origin: z.enum(['igp', 'egp', 'incomplete']).default(AGENT_DEFAULTS.origin),
  med: uint32.optional(),
  'local-pref': uint32.optional(),
  communities,
  'large-communities': largeCommunities,
  'as-path-prepend': z.number().int().min(0).max(16).default(AGENT_DEFAULTS.asPathPrepend),
}).transform((b) => ({
  origin: b.origin,
  ...(b.med !== undefined ? { med: b.med } : {}),
  ...(b['local-pref'] !== undefined ? { localPref: b['local-pref'] } : {}),
  communities: b.communities,
  largeCommunities: b['large-communities'],
  asPathPrepend: b['as-path-prepend'],
}));

const via = z.array(z.enum(['bgp', 'arp'])).min(1).superRefine((list, ctx) => {
  list.forEach((method, i) => {
    if (list.indexOf(method) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `"${method}" is listed twice` });
  });
}).default(AGENT_DEFAULTS.via);

export const serviceSchema = (baseDir: string) => section({
  name: identifier('service name'),
  prefixes: z.array(prefix).min(1),
  mode: z.enum(['anycast', 'exclusive']),
  priority: z.number().int().min(0).max(65535).default(AGENT_DEFAULTS.priority),
  preempt: z.boolean().default(AGENT_DEFAULTS.preempt),
  via,
  arp: section({ interface: interfaceName }).optional(),
  checks: z.array(checkSchema(baseDir)).min(1, { message: 'a service needs at least one check: an unchecked service would stay announced while dead' }),
  bgp: serviceBgpSchema.prefault({}),
  'flap-damping': flapDampingSchema.optional(),
}).transform((s) => ({
  name: serviceName(s.name),
  prefixes: s.prefixes,
  mode: s.mode,
  priority: s.priority,
  preempt: s.preempt,
  via: s.via,
  ...(s.arp ? { arp: s.arp } : {}),
  checks: s.checks,
  bgp: s.bgp,
  ...(s['flap-damping'] ? { flapDamping: s['flap-damping'] } : {}),
}));

export const nodeSchema = section({
  id: identifier('node id').transform(nodeId),
  votes: z.number().int().min(0).max(255).default(AGENT_DEFAULTS.votes),
});

const quorumModuleSchema = section({
  voting: section({}).optional(),
  server: section({ address: hostPort, lease: positiveDuration }).optional(),
}).superRefine(exactlyOneKind(QUORUM_KINDS, 'a quorum module')).transform((q): QuorumModuleConfig =>
  q.server ? { kind: 'server', address: q.server.address, lease: q.server.lease } : { kind: 'voting' });

export const clusterSchema = section({
  name: identifier('cluster name').transform(clusterName),
  listen: hostPort.optional(),
  heartbeat: section({
    interval: positiveDuration.default(AGENT_DEFAULTS.heartbeatInterval),
    'dead-after': positiveDuration.default(AGENT_DEFAULTS.heartbeatDeadAfter),
  }).prefault({}),
  peers: z.array(section({
    id: identifier('node id').transform(nodeId),
    address: hostPort,
    votes: z.number().int().min(0).max(255).default(AGENT_DEFAULTS.votes),
  })).default([]),
  quorum: z.array(quorumModuleSchema).min(1).default(AGENT_DEFAULTS.quorum),
}).transform((c) => ({
  name: c.name,
  ...(c.listen ? { listen: c.listen } : {}),
  heartbeat: { interval: c.heartbeat.interval, deadAfter: c.heartbeat['dead-after'] },
  peers: c.peers,
  quorum: c.quorum,
}));

export const tlsSchema = (baseDir: string) => section({
  ca: pathIn(baseDir).optional(),
  cert: pathIn(baseDir).optional(),
  key: pathIn(baseDir).optional(),
  insecure: z.boolean().default(false),
}).transform((t) => ({
  ...(t.ca ? { ca: t.ca } : {}),
  ...(t.cert ? { cert: t.cert } : {}),
  ...(t.key ? { key: t.key } : {}),
  insecure: t.insecure,
}));

/** `unix:///run/x.sock` (or `unix:/run/x.sock`), or `host:port`. */
const gobgpAddress = z.string().superRefine((text, ctx) => {
  if (text.startsWith('unix:')) {
    const path = text.replace(/^unix:(\/\/)?/, '');
    if (!isAbsolute(path)) ctx.addIssue({ code: 'custom', message: `"${text}": a unix socket address needs an absolute path, e.g. unix:///run/quorate/gobgpd.sock` });
    return;
  }
  const parsed = hostPort.safeParse(text);
  if (!parsed.success) ctx.addIssue({ code: 'custom', message: `"${text}" is neither unix:///PATH nor HOST:PORT` });
});

/**
 * The bgp section. `gobgp.address` stays optional here: with `run` its default is a socket
 * in the state folder, which the loader fills in once the node id is known.
 */
export const bgpSchema = (baseDir: string) => section({
  gobgp: section({
    run: section({
      config: pathIn(baseDir),
      // A bare name is looked up in PATH, as a shell would; a path is taken relative to the file.
      binary: z.string().min(1).default(AGENT_DEFAULTS.gobgpBinary)
        .transform((b) => (b.includes('/') && !isAbsolute(b) ? resolve(baseDir, b) : b)),
      'stall-timeout': positiveDuration.default(AGENT_DEFAULTS.stallTimeout),
    }).optional(),
    address: gobgpAddress.optional(),
    'allow-unguarded': z.boolean().default(false),
  }),
  'next-hop': section({ ipv4: ipAddress(4).optional(), ipv6: ipAddress(6).optional() }).prefault({}),
  communities,
  'large-communities': largeCommunities,
  'reconcile-interval': positiveDuration.default(AGENT_DEFAULTS.reconcileInterval),
  'call-timeout': positiveDuration.default(AGENT_DEFAULTS.callTimeout),
});

export const statusSchema = section({ listen: hostPort });

/** Whole seconds, at least one: the kernel's address lifetimes are counted in seconds. */
const wholeSeconds = positiveDuration.refine((d) => d >= 1000 && d % 1000 === 0, { message: 'must be a whole number of seconds, at least 1s (the kernel counts address lifetimes in seconds)' });

/** The arp section: how addresses are held and announced (the services say which, via `arp.interface`). */
export const arpSchema = section({
  lifetime: wholeSeconds.default(AGENT_DEFAULTS.arpLifetime),
  gratuitous: section({
    forms: z.array(z.enum(['request', 'reply'])).min(1).default(() => [...AGENT_DEFAULTS.garpForms]),
    count: z.number().int().min(1).max(100).default(AGENT_DEFAULTS.garpCount),
    interval: positiveDuration.default(AGENT_DEFAULTS.garpInterval),
    // 0s: never refresh.
    refresh: duration.default(AGENT_DEFAULTS.garpRefresh),
  }).prefault({}),
  'takeover-probes': section({
    count: z.number().int().min(1).max(20).default(AGENT_DEFAULTS.takeoverProbeCount),
    wait: positiveDuration.default(AGENT_DEFAULTS.takeoverProbeWait),
  }).prefault({}),
}).transform((a) => ({
  lifetime: a.lifetime,
  gratuitous: a.gratuitous,
  takeoverProbes: a['takeover-probes'],
}));

export const stateDirSchema = (baseDir: string) => pathIn(baseDir);

/** Where the maintenance files are: a file named after a service drains it (and survives restarts). */
export const maintenanceDirSchema = (baseDir: string) => pathIn(baseDir);

/**
 * Flap damping: a service whose health changes more than `changes` times within `within` is
 * held down (not served) until it has been stable for `hold-down`. Off unless configured:
 * rise/fall already filter single bad probes, and none of keepalived, ExaBGP's healthcheck
 * or anycast-healthchecker damps by default.
 */
export const flapDampingSchema = section({
  changes: z.number().int().min(1).max(1000),
  within: positiveDuration,
  'hold-down': positiveDuration,
}).transform((f) => ({ changes: f.changes, within: f.within, holdDown: f['hold-down'] }));

/** A command run on every state change (as keepalived's notify); never waited for by the agent. */
export const notifySchema = (baseDir: string) => section({
  command: z.array(z.string().min(1)).min(1).transform(([program, ...args]) =>
    [program!.includes('/') && !isAbsolute(program!) ? resolve(baseDir, program!) : program!, ...args]),
  timeout: positiveDuration.default(AGENT_DEFAULTS.notifyTimeout),
});

/** The top level: which sections exist and which are required. Each is parsed on its own. */
export const AGENT_SECTIONS = ['node', 'cluster', 'tls', 'bgp', 'arp', 'status', 'state-dir', 'maintenance-dir', 'flap-damping', 'notify', 'services'] as const;
export const REQUIRED_AGENT_SECTIONS = ['node', 'cluster', 'services'] as const;

export const servicesListSchema = z.array(z.unknown()).min(1, { message: 'at least one service is required' });
