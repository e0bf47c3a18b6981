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
  // As written in the file (the schema shows defaults as the operator writes them).
  quorum: [{ voting: {} }],
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
  // Off: a drained service is withdrawn at once unless the network honours RFC 8326.
  gracefulShutdown: ms(0),
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
}, { message: 'expected an http:// or https:// URL' }).meta({ title: 'http(s) URL' });

const regex = z.string().transform((text, ctx): RegExp => {
  try {
    return new RegExp(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a regular expression: ${(err as Error).message}` });
    return z.NEVER;
  }
}).meta({ title: 'regular expression' });

/** Linux interface names: at most 15 bytes, no slash, no white space. */
const interfaceName = z.string().regex(/^[^\s/:]{1,15}$/, { message: 'expected a network interface name (1 to 15 characters, e.g. eth0)' })
  .meta({ title: 'interface name', patternErrorMessage: 'a network interface name is 1 to 15 characters, e.g. eth0' });

const checkTimings = {
  interval: positiveDuration.default(AGENT_DEFAULTS.checkInterval)
    .meta({ description: 'Time between the starts of two checks; with the default fall of 3 a dead service is withdrawn after about 1.5s.' }),
  // No static default: see the transform below.
  timeout: positiveDuration.optional()
    .meta({ description: 'A check that has not passed by then fails. Default: 400ms, or four fifths of the interval if that is shorter, so a check ends before the next one starts.' }),
  rise: z.number().int().min(1).default(AGENT_DEFAULTS.checkRise)
    .meta({ description: 'Consecutive passes that make a failing check healthy; 2 keeps one lucky probe from announcing a flapping service.' }),
  fall: z.number().int().min(1).default(AGENT_DEFAULTS.checkFall)
    .meta({ description: 'Consecutive failures that make a healthy check fail; 3 × the 500ms interval withdraws a dead service within 1.5s.' }),
};

export const checkSchema = (baseDir: string) => section({
  tcp: section({
    host: host.default(AGENT_DEFAULTS.checkHost).meta({ description: 'The host to connect to; the local service by default.' }),
    port: port.meta({ description: 'The TCP port to connect to.' }),
  }).optional().meta({ description: 'A TCP check: passes when a connection to host:port opens.' }),
  http: section({
    url: httpUrl.meta({ description: 'The http:// or https:// URL to GET.' }),
    status: z.number().int().min(100).max(599).default(AGENT_DEFAULTS.httpStatus).meta({ description: 'The response status that passes.' }),
    body: regex.optional().meta({ description: 'A regular expression the response body must match; unset, any body passes.' }),
    'insecure-tls': z.boolean().default(false).meta({ description: 'Skip certificate verification of an https URL (a local service with a self-signed certificate).' }),
    headers: z.record(z.string(), z.string()).default({}).meta({ description: 'Request headers to send, as name: value.' }),
  }).optional().meta({ description: 'An HTTP check: a GET of url passes when the response has the expected status (and body, if given).' }),
  exec: section({
    command: z.array(z.string().min(1)).min(1)
      .meta({ description: 'The program and its arguments, run without a shell; a relative path is taken from this file\'s folder, a bare name is found through PATH.' }),
    env: z.record(z.string(), z.string()).default({}).meta({ description: 'Environment variables added for the command.' }),
  }).optional().meta({ description: 'A command check: passes when the command exits with status 0.' }),
  grpc: section({
    host: host.default(AGENT_DEFAULTS.checkHost).meta({ description: 'The host to connect to; the local service by default.' }),
    port: port.meta({ description: 'The gRPC server\'s port.' }),
    service: z.string().default('').meta({ description: 'The service to ask about; the empty string asks about the whole server.' }),
    tls: z.boolean().default(false).meta({ description: 'Connect with TLS instead of plaintext.' }),
  }).optional().meta({ description: 'A gRPC health check (grpc.health.v1.Health/Check): passes when the answer is SERVING.' }),
  ...checkTimings,
}).superRefine(exactlyOneKind(CHECK_KINDS, 'a check')).meta({
  title: 'check',
  description: 'One health check: exactly one of tcp, http, exec or grpc, and its timing.',
  // What exactlyOneKind enforces, in a form an editor can check as the file is typed.
  oneOf: CHECK_KINDS.map((kind) => ({ required: [kind] })),
}).transform((c): CheckConfig => {
  // The default timeout never exceeds the interval, so a short interval alone gives a
  // consistent check (and no warning about a timeout the operator never wrote).
  const timeout = c.timeout ?? ms(Math.max(1, Math.min(AGENT_DEFAULTS.checkTimeout, Math.floor(c.interval * 0.8))));
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
  origin: z.enum(['igp', 'egp', 'incomplete']).default(AGENT_DEFAULTS.origin)
    .meta({ description: 'The ORIGIN attribute of the announcements; igp unless the network team asks otherwise.' }),
  med: uint32.optional().meta({ description: 'MULTI_EXIT_DISC: the router prefers a lower value; unset, none is sent.' }),
  'local-pref': uint32.optional().meta({ description: 'LOCAL_PREF, for iBGP: the router prefers a higher value; unset, none is sent.' }),
  communities: communities.meta({ description: 'Communities added to this service\'s announcements, besides bgp.communities.' }),
  'large-communities': largeCommunities.meta({ description: 'Large communities added to this service\'s announcements, besides bgp.large-communities.' }),
  'as-path-prepend': z.number().int().min(0).max(16).default(AGENT_DEFAULTS.asPathPrepend)
    .meta({ description: 'Times the local AS is prepended, making this node less preferred; for eBGP neighbors only (an iBGP neighbor sees a loop).' }),
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
}).default(AGENT_DEFAULTS.via)
  .meta({ description: 'How the service is attracted here, in order of preference: [bgp, arp] announces over BGP while a session is up, else takes the address over by ARP.' });

export const serviceSchema = (baseDir: string) => section({
  name: identifier('service name').meta({ description: 'The service\'s name, as logs, metrics, status and its maintenance file show it.' }),
  prefixes: z.array(prefix).min(1)
    .meta({ description: 'What is announced (BGP) or held (ARP) while this node serves the service; a prefix belongs to one service.' }),
  mode: z.enum(['anycast', 'exclusive'])
    .meta({ description: 'anycast: every healthy node of the quorate partition announces it; exclusive: only the node with the highest healthy priority.' }),
  priority: z.number().int().min(0).max(65535).default(AGENT_DEFAULTS.priority)
    .meta({ description: 'For an exclusive service: the highest healthy priority serves, a tie goes to the lowest node id.' }),
  preempt: z.boolean().default(AGENT_DEFAULTS.preempt)
    .meta({ description: 'For an exclusive service: a node of higher priority takes it back once healthy; false lets the current holder keep it.' }),
  via,
  arp: section({
    interface: interfaceName.meta({ description: 'The interface with an address in the subnet of the service\'s addresses, e.g. eth0.' }),
  }).optional().meta({ description: 'Where the service\'s addresses are held; required when via contains arp.' }),
  checks: z.array(checkSchema(baseDir)).min(1, { message: 'a service needs at least one check: an unchecked service would stay announced while dead' })
    .meta({ description: 'The health checks; the service is healthy while all of them pass.' }),
  bgp: serviceBgpSchema.prefault({}).meta({ description: 'Attributes of this service\'s BGP announcements.' }),
  'flap-damping': flapDampingSchema.optional().meta({ description: 'This service\'s own flap damping, instead of the top-level flap-damping.' }),
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
})).meta({ title: 'service' });

export const nodeSchema = section({
  id: identifier('node id').transform(nodeId).meta({ description: 'This node\'s id: unique in the cluster, and bound by its TLS certificate.' }),
  votes: z.number().int().min(0).max(255).default(AGENT_DEFAULTS.votes)
    .meta({ description: 'The votes this node brings to the voting quorum module; 0 makes it a member that does not vote.' }),
}).meta({ description: 'This node: its id and its votes.' });

const quorumModuleSchema = section({
  voting: section({}).optional()
    .meta({ description: 'This node and the peers it sees: more than half of all votes is quorum, exactly half is a tie passed to the next module.' }),
  server: section({
    address: hostPort.meta({ description: 'The quorum server\'s address.' }),
    lease: positiveDuration.meta({ description: 'The lease asked for; the server may grant less.' }),
  }).optional().meta({ description: 'Ask the quorum server for a lease: granted is quorum until it ends, refused is no quorum, no answer is a tie.' }),
}).superRefine(exactlyOneKind(QUORUM_KINDS, 'a quorum module')).meta({
  title: 'quorum module',
  description: 'One quorum module: exactly one of voting or server.',
  oneOf: QUORUM_KINDS.map((kind) => ({ required: [kind] })),
}).transform((q): QuorumModuleConfig =>
  q.server ? { kind: 'server', address: q.server.address, lease: q.server.lease } : { kind: 'voting' });

export const clusterSchema = section({
  name: identifier('cluster name').transform(clusterName)
    .meta({ description: 'The cluster\'s name; certificates bind it and the quorum server keeps one lease per cluster.' }),
  listen: hostPort.optional()
    .meta({ description: 'Where this node answers its peers\' heartbeats (gRPC, mutual TLS); required when there are peers.' }),
  heartbeat: section({
    interval: positiveDuration.default(AGENT_DEFAULTS.heartbeatInterval).meta({ description: 'How often this node sends a heartbeat to each peer.' }),
    'dead-after': positiveDuration.default(AGENT_DEFAULTS.heartbeatDeadAfter)
      .meta({ description: 'A peer with no complete heartbeat round trip for this long is gone; five heartbeats, so one lost packet is not a dead peer.' }),
  }).prefault({}).meta({ description: 'How the nodes tell each other they are alive.' }),
  peers: z.array(section({
    id: identifier('node id').transform(nodeId).meta({ description: 'The peer\'s id, its node.id.' }),
    address: hostPort.meta({ description: 'Where the peer answers heartbeats, its cluster.listen.' }),
    votes: z.number().int().min(0).max(255).default(AGENT_DEFAULTS.votes).meta({ description: 'The votes the peer brings, its node.votes.' }),
  }).meta({ title: 'peer' })).default([]).meta({ description: 'The other nodes of the cluster; none makes a cluster of one node.' }),
  quorum: z.array(quorumModuleSchema).min(1).prefault(() => AGENT_DEFAULTS.quorum.map((m) => ({ ...m })))
    .meta({ description: 'The quorum modules, consulted in order until one decides; a tie from the last one is no quorum.' }),
}).transform((c) => ({
  name: c.name,
  ...(c.listen ? { listen: c.listen } : {}),
  heartbeat: { interval: c.heartbeat.interval, deadAfter: c.heartbeat['dead-after'] },
  peers: c.peers,
  quorum: c.quorum,
})).meta({ description: 'The cluster this node belongs to: its peers and how quorum is decided.' });

export const tlsSchema = (baseDir: string) => section({
  ca: pathIn(baseDir).optional().meta({ description: 'The CA that signed the certificates of every node and of the quorum server.' }),
  cert: pathIn(baseDir).optional().meta({ description: 'The certificate presented to the other side (a node\'s binds its cluster name and node id); needs key.' }),
  key: pathIn(baseDir).optional().meta({ description: 'The certificate\'s private key; needs cert.' }),
  insecure: z.boolean().default(false).meta({ description: 'Plaintext connections without certificates: for labs only.' }),
}).transform((t) => ({
  ...(t.ca ? { ca: t.ca } : {}),
  ...(t.cert ? { cert: t.cert } : {}),
  ...(t.key ? { key: t.key } : {}),
  insecure: t.insecure,
})).meta({ description: 'Mutual TLS with the peers and the quorum server, from one CA; ca, cert and key are required with either, unless insecure.' });

/** `unix:///run/x.sock` (or `unix:/run/x.sock`), or `host:port`. */
const gobgpAddress = z.string().superRefine((text, ctx) => {
  if (text.startsWith('unix:')) {
    const path = text.replace(/^unix:(\/\/)?/, '');
    if (!isAbsolute(path)) ctx.addIssue({ code: 'custom', message: `"${text}": a unix socket address needs an absolute path, e.g. unix:///run/quorate/gobgpd.sock` });
    return;
  }
  const parsed = hostPort.safeParse(text);
  if (!parsed.success) ctx.addIssue({ code: 'custom', message: `"${text}" is neither unix:///PATH nor HOST:PORT` });
}).meta({ title: 'unix:///PATH or HOST:PORT' });

/**
 * The bgp section. `gobgp.address` stays optional here: with `run` its default is a socket
 * in the state folder, which the loader fills in once the node id is known.
 */
export const bgpSchema = (baseDir: string) => section({
  gobgp: section({
    run: section({
      config: pathIn(baseDir).meta({ description: 'gobgpd\'s own TOML config (neighbors, AS, router id); quorate check lints it.' }),
      // A bare name is looked up in PATH, as a shell would; a path is taken relative to the file.
      binary: z.string().min(1).default(AGENT_DEFAULTS.gobgpBinary)
        .transform((b) => (b.includes('/') && !isAbsolute(b) ? resolve(baseDir, b) : b))
        .meta({ title: 'program', description: 'The gobgpd program: a bare name is looked up in PATH, a path is taken from this file\'s folder.' }),
      'stall-timeout': positiveDuration.default(AGENT_DEFAULTS.stallTimeout)
        .meta({ description: 'gobgpd is killed when the agent has not renewed its deadline for this long, so a stuck agent\'s routes do not linger.' }),
    }).optional().meta({ description: 'quorate starts gobgpd itself, its API on a private socket; gobgpd dies with the agent, so a dead agent\'s routes do not linger.' }),
    address: gobgpAddress.optional()
      .meta({ description: 'gobgpd\'s gRPC API. With run: unix://<state-dir>/gobgpd.sock by default; without run: an external gobgpd, which the agent cannot stop if it dies.' }),
    'allow-unguarded': z.boolean().default(false)
      .meta({ description: 'Allow exclusive services through an external gobgpd, accepting that its routes stay if the agent dies.' }),
  }).meta({ description: 'The BGP speaker: run (recommended) or address.' }),
  'next-hop': section({
    ipv4: ipAddress(4).optional().meta({ description: 'The next hop of IPv4 announcements; required if a BGP service has an IPv4 prefix.' }),
    ipv6: ipAddress(6).optional().meta({ description: 'The next hop of IPv6 announcements; required if a BGP service has an IPv6 prefix.' }),
  }).prefault({}).meta({ description: 'The next hop of this node\'s announcements, per address family.' }),
  communities: communities.meta({ description: 'Communities added to every announcement of this node, besides each service\'s own.' }),
  'large-communities': largeCommunities.meta({ description: 'Large communities added to every announcement of this node, besides each service\'s own.' }),
  'reconcile-interval': positiveDuration.default(AGENT_DEFAULTS.reconcileInterval)
    .meta({ description: 'How often gobgpd\'s table is compared with what it should hold and repaired, besides on every change.' }),
  'call-timeout': positiveDuration.default(AGENT_DEFAULTS.callTimeout).meta({ description: 'The deadline of every gRPC call to gobgpd.' }),
  'graceful-shutdown': duration.default(AGENT_DEFAULTS.gracefulShutdown).meta({ description: 'On a drain, an anycast service is first announced with the GRACEFUL_SHUTDOWN community (65535:0, RFC 8326) and local-pref 0 for this long, so routers that honour it move traffic to other nodes before the withdrawal; 0s withdraws at once. Exclusive services are released at once (never two holders).' }),
}).meta({ description: 'How this node announces over BGP; required when a service is announced via bgp (the default).' });

export const statusSchema = section({
  listen: hostPort.meta({ description: 'Where the status API listens (/status, /metrics, /healthz). Drain and undrain are answered on it only from a loopback address (the control socket in state-dir always answers them), so it may face a Prometheus server.' }),
}).meta({ description: 'The local status API (/status, /metrics, /healthz, drain and undrain); without this section there is none.' });

/** Whole seconds, at least one: the kernel's address lifetimes are counted in seconds. */
const wholeSeconds = positiveDuration.refine((d) => d >= 1000 && d % 1000 === 0, { message: 'must be a whole number of seconds, at least 1s (the kernel counts address lifetimes in seconds)' });

/** The arp section: how addresses are held and announced (the services say which, via `arp.interface`). */
export const arpSchema = section({
  lifetime: wholeSeconds.default(AGENT_DEFAULTS.arpLifetime)
    .meta({ description: 'The kernel lifetime of a held address, whole seconds, renewed every third of it: a dead agent\'s address is gone after at most this.' }),
  gratuitous: section({
    forms: z.array(z.enum(['request', 'reply'])).min(1).default(() => [...AGENT_DEFAULTS.garpForms])
      .meta({ description: 'IPv4 announcements: request (arping -U) and/or reply (arping -A), since some devices heed only one; IPv6 always sends an unsolicited NA.' }),
    count: z.number().int().min(1).max(100).default(AGENT_DEFAULTS.garpCount)
      .meta({ description: 'Rounds sent on taking an address; the repeats cover a lost packet.' }),
    interval: positiveDuration.default(AGENT_DEFAULTS.garpInterval).meta({ description: 'Time between those rounds.' }),
    // 0s: never refresh.
    refresh: duration.default(AGENT_DEFAULTS.garpRefresh)
      .meta({ description: 'One more round this often while the address is held, for neighbours that missed the takeover; 0s: never.' }),
  }).prefault({}).meta({ description: 'Gratuitous ARP (IPv4) and unsolicited neighbour advertisements (IPv6) sent on taking an address.' }),
  'takeover-probes': section({
    count: z.number().int().min(1).max(20).default(AGENT_DEFAULTS.takeoverProbeCount)
      .meta({ description: 'Duplicate-address probes in a row that must go unanswered before the address is taken at once.' }),
    wait: positiveDuration.default(AGENT_DEFAULTS.takeoverProbeWait)
      .meta({ description: 'How long each probe waits for an answer; one segment answers in well under a millisecond.' }),
  }).prefault({}).meta({ description: 'Probes before taking over an address from a holder whose heartbeats are dead.' }),
}).transform((a) => ({
  lifetime: a.lifetime,
  gratuitous: a.gratuitous,
  takeoverProbes: a['takeover-probes'],
})).meta({ description: 'How addresses are held and announced on a segment, for the services with arp in via.' });

export const stateDirSchema = (baseDir: string) => pathIn(baseDir)
  .meta({ description: 'Where the agent keeps its small records and, with bgp.gobgp.run, gobgpd\'s socket. Default: /var/lib/quorate/<node.id>.' });

/** Where the maintenance files are: a file named after a service drains it (and survives restarts). */
export const maintenanceDirSchema = (baseDir: string) => pathIn(baseDir)
  .meta({ description: 'A file in this folder named after a service drains that service, and survives restarts. Default: <state-dir>/maintenance.' });

/**
 * Flap damping: a service whose health changes more than `changes` times within `within` is
 * held down (not served) until it has been stable for `hold-down`. Off unless configured:
 * rise/fall already filter single bad probes, and none of keepalived, ExaBGP's healthcheck
 * or anycast-healthchecker damps by default.
 */
export const flapDampingSchema = section({
  changes: z.number().int().min(1).max(1000).meta({ description: 'Health changes allowed within the window; one more holds the service down.' }),
  within: positiveDuration.meta({ description: 'The window in which changes are counted.' }),
  'hold-down': positiveDuration.meta({ description: 'How long a held-down service must stay stable before it is served again.' }),
}).transform((f) => ({ changes: f.changes, within: f.within, holdDown: f['hold-down'] }))
  .meta({ description: 'Holds down a service whose health changes too often; off unless set, since rise and fall already filter single bad probes.' });

/** A command run on every state change (as keepalived's notify); never waited for by the agent. */
export const notifySchema = (baseDir: string) => section({
  command: z.array(z.string().min(1)).min(1).transform(([program, ...args]) =>
    [program!.includes('/') && !isAbsolute(program!) ? resolve(baseDir, program!) : program!, ...args])
    .meta({ description: 'The program and its arguments, run without a shell, the new state in its environment; a relative path is taken from this file\'s folder.' }),
  timeout: positiveDuration.default(AGENT_DEFAULTS.notifyTimeout)
    .meta({ description: 'A command still running after this is killed; later events wait in a bounded queue.' }),
}).meta({ description: 'A command run on every change of a service\'s state, of quorum and of what is held, as keepalived\'s notify; the agent never waits for it.' });

/** The top level: which sections exist and which are required. Each is parsed on its own. */
export const AGENT_SECTIONS = ['node', 'cluster', 'tls', 'bgp', 'arp', 'status', 'state-dir', 'maintenance-dir', 'flap-damping', 'notify', 'services'] as const;
export const REQUIRED_AGENT_SECTIONS = ['node', 'cluster', 'services'] as const;

/**
 * The schema of each top-level section but `services` (which the loader parses item by item),
 * for a file in `baseDir`: the loader (agent-parts.ts) and the JSON Schema (json-schema.ts)
 * both take them from here, so neither can miss a section the other knows.
 */
export function agentSectionSchemas(baseDir: string) {
  return {
    node: nodeSchema,
    cluster: clusterSchema,
    tls: tlsSchema(baseDir),
    bgp: bgpSchema(baseDir),
    arp: arpSchema,
    status: statusSchema,
    'state-dir': stateDirSchema(baseDir),
    'maintenance-dir': maintenanceDirSchema(baseDir),
    'flap-damping': flapDampingSchema,
    notify: notifySchema(baseDir),
  } satisfies Record<Exclude<(typeof AGENT_SECTIONS)[number], 'services'>, z.ZodType>;
}

export const servicesListSchema = z.array(z.unknown()).min(1, { message: 'at least one service is required' })
  .meta({ description: 'The services this node checks and announces; names and prefixes are unique across the file.' });
