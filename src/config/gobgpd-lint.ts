/**
 * What makes a BGP deployment of quorate unsafe though every file is valid: a speaker the
 * agent cannot take down with it (S4), and router-side timers that keep a dead node's
 * routes alive (graceful restart, long hold times). Two halves: rules on the agent's own
 * `bgp.gobgp` section, and a lint of the gobgpd TOML that `bgp.gobgp.run.config` names.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { TomlError, parse as parseToml } from 'smol-toml';
import { formatDuration } from '../core/duration.js';
import type { AgentParts } from './agent-parts.js';
import type { Diagnostic } from './diagnostic.js';
import { error, warning, type Finding } from './finding.js';
import { TomlLines } from './toml-lines.js';

/** Above this, a dead host keeps attracting traffic for too long (3 missed keepalives of 3 s). */
export const MAX_HOLD_TIME_S = 9;
/** gobgpd 3.10's hold time when none is configured (internal/pkg/config/default.go). */
export const GOBGPD_DEFAULT_HOLD_TIME_S = 90;

export function gobgpUsageFindings(parts: AgentParts): Finding[] {
  const bgp = parts.bgp;
  if (!bgp) return [];
  const out: Finding[] = [];
  const { run, address } = bgp.gobgp;
  if (!run && !address) {
    out.push({ ...error(['bgp', 'gobgp'], 'bgp.gobgp needs "run" (quorate starts its own gobgpd: recommended) or "address" (an external gobgpd\'s API)'), at: 'key' });
    return out;
  }
  if (!run && address) {
    out.push(warning(['bgp', 'gobgp', 'address'],
      'an external gobgpd: the agent cannot withdraw routes if it dies (S4); use bgp.gobgp.run so that gobgpd dies with the agent'));
    parts.services.forEach((service, i) => {
      if (!service || service.mode !== 'exclusive' || !service.via.includes('bgp')) return;
      if (bgp.gobgp['allow-unguarded']) return;
      out.push(error(['services', i, 'mode'],
        `exclusive service "${service.name}" is announced through an external gobgpd, which keeps announcing it if this agent dies, while another node takes over: use bgp.gobgp.run, or accept the risk with bgp.gobgp.allow-unguarded: true`));
    });
  }
  if (run && address && !address.startsWith('unix:')) {
    out.push(warning(['bgp', 'gobgp', 'address'],
      `gobgpd's API on ${address}: a TCP port may already be held by another gobgpd (Debian's gobgpd.service listens on 127.0.0.1:50051), and is open to every local user; leave address unset for a private unix socket`));
  }
  if (run) {
    const lease = parts.cluster?.quorum.find((q) => q.kind === 'server');
    if (lease && lease.kind === 'server' && run['stall-timeout'] > lease.lease) {
      out.push(warning(['bgp', 'gobgp', 'run', 'stall-timeout'],
        `stall-timeout ${formatDuration(run['stall-timeout'])} is longer than the quorum lease (${formatDuration(lease.lease)}): a stalled agent's gobgpd would outlive its lease`));
    }
    out.push(...speakerTimersAgainstLease(parts, run.config));
  }
  return out;
}

/**
 * When this host dies without closing its BGP sessions, its lease ends and another node takes
 * over, but the router keeps this node's routes until its hold timer ends (or, with graceful
 * restart, for the restart time): for that long both are announced. So the speaker's timers
 * must not outlast the quorum lease. Reported at the lease (the loader places gobgpd's own
 * findings by its file only), naming the TOML line. Warnings: BGP's shortest hold time is
 * 3 s, so a lease under 3 s cannot be matched by the speaker, only by a longer lease.
 */
function speakerTimersAgainstLease(parts: AgentParts, tomlFile: string): Finding[] {
  const k = parts.cluster?.quorum.findIndex((q) => q.kind === 'server') ?? -1;
  const module = k >= 0 ? parts.cluster!.quorum[k] : undefined;
  if (module?.kind !== 'server') return [];
  const toml = readGobgpdToml(tomlFile);
  if (!toml || 'error' in toml) return [];
  const leaseS = module.lease / 1000;
  const leaseText = formatDuration(module.lease);
  const where = ['cluster', 'quorum', k, 'server', 'lease'];
  const at = (line: number) => `${basename(tomlFile)}:${line}`;
  const timers = speakerTimers(toml.config, toml.lines);
  const out: Finding[] = [];
  const hold = longest(timers.filter((t) => t.holdS > 0), (t) => t.holdS);
  if (hold && hold.holdS > leaseS) {
    const fix = leaseS >= MIN_HOLD_TIME_S ? `set hold-time = ${Math.floor(leaseS)} or less, or ask for a lease of at least ${hold.holdS}s` : `ask for a lease of at least ${hold.holdS}s (BGP's shortest hold time is ${MIN_HOLD_TIME_S} s)`;
    out.push(warning(where,
      `the quorum lease (${leaseText}) is shorter than the hold time of gobgpd's ${hold.name} (${hold.holdS} s${hold.holdSet ? '' : ', gobgpd\'s default'}, ${at(hold.holdLine)}): if this host dies without closing the session, another node takes over when the lease ends while the router keeps this node's routes until the hold timer ends; ${fix}`));
  }
  const restart = longest(timers.filter((t) => t.restartS !== undefined), (t) => t.restartS!);
  if (restart && restart.restartS! > leaseS) {
    out.push(warning(where,
      `the quorum lease (${leaseText}) is shorter than the graceful restart of gobgpd's ${restart.name} (${restart.restartS} s, ${at(restart.restartLine)}): if the agent dies, another node takes over when the lease ends while the router keeps this node's routes for the restart time; disable graceful restart`));
  }
  return out;
}

const longest = <T>(items: T[], size: (t: T) => number): T | undefined =>
  items.reduce<T | undefined>((best, t) => (best === undefined || size(t) > size(best) ? t : best), undefined);

/** BGP's shortest non-zero hold time (RFC 4271, 4.2). */
export const MIN_HOLD_TIME_S = 3;

interface SpeakerTimers {
  name: string;
  /** Effective hold time in seconds (own, else the peer group's, else gobgpd's default); 0 = off. */
  holdS: number;
  holdSet: boolean;
  holdLine: number;
  /** Seconds the router keeps routes after the session drops, when graceful restart is on. */
  restartS?: number;
  restartLine: number;
}

/**
 * The timers each neighbor runs with, and each peer group that dynamic neighbors join. A
 * neighbor takes what its peer group sets where it sets nothing itself (gobgpd merges them).
 */
function speakerTimers(config: Table, lines: TomlLines): SpeakerTimers[] {
  type Located = { value: unknown; path: (string | number)[] };
  const groups = new Map<string, { table: Table; base: (string | number)[] }>();
  tables(config['peer-groups']).forEach((table, g) => {
    groups.set(String(get(table, 'config', 'peer-group-name') ?? `#${g + 1}`), { table, base: ['peer-groups', g] });
  });
  const timers = (name: string, base: (string | number)[], table: Table, group?: { table: Table; base: (string | number)[] }): SpeakerTimers => {
    const find = (...path: string[]): Located | undefined => {
      const own = get(table, ...path);
      if (own !== undefined) return { value: own, path: [...base, ...path] };
      const inherited = group ? get(group.table, ...path) : undefined;
      return inherited !== undefined ? { value: inherited, path: [...group!.base, ...path] } : undefined;
    };
    const hold = find('timers', 'config', 'hold-time');
    const holdS = typeof hold?.value === 'number' ? hold.value : GOBGPD_DEFAULT_HOLD_TIME_S;
    const enabled = find('graceful-restart', 'config', 'enabled');
    const perFamily = [table, group?.table].some((t) =>
      t !== undefined && tables(t['afi-safis']).some((a) => get(a, 'mp-graceful-restart', 'config', 'enabled') === true));
    const restart = find('graceful-restart', 'config', 'restart-time');
    return {
      name, holdS, holdSet: hold !== undefined, holdLine: lines.lineOf(hold?.path ?? base),
      // gobgpd's restart time defaults to the hold time.
      ...(enabled?.value === true || perFamily ? { restartS: typeof restart?.value === 'number' && restart.value > 0 ? restart.value : holdS } : {}),
      restartLine: lines.lineOf(restart?.path ?? enabled?.path ?? base),
    };
  };
  const out = tables(config.neighbors).map((neighbor, n) => {
    const group = get(neighbor, 'config', 'peer-group');
    return timers(`neighbor ${String(get(neighbor, 'config', 'neighbor-address') ?? `#${n + 1}`)}`, ['neighbors', n], neighbor,
      typeof group === 'string' ? groups.get(group) : undefined);
  });
  for (const d of tables(config['dynamic-neighbors'])) {
    const name = get(d, 'config', 'peer-group');
    const group = typeof name === 'string' ? groups.get(name) : undefined;
    if (group) out.push(timers(`peer group ${String(name)}`, group.base, group.table));
  }
  return out;
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);
const tables = (v: unknown): Table[] => (Array.isArray(v) ? v.filter(isTable) : []);
function get(t: unknown, ...path: string[]): unknown {
  let v: unknown = t;
  for (const p of path) v = isTable(v) ? v[p] : undefined;
  return v;
}

type GobgpdToml = { config: Table; lines: TomlLines } | { error: { line: number; col: number; message: string } };

/** gobgpd's TOML, parsed with the lines of its keys; undefined when the file cannot be read. */
function readGobgpdToml(file: string): GobgpdToml | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return { config: parseToml(text) as Table, lines: new TomlLines(text) };
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    return { error: { line: err.line, col: err.column, message: err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '') } };
  }
}

/**
 * Warnings about gobgpd's own config (`file`, reported as `displayFile`). A file that does
 * not parse is an error: gobgpd would refuse to start.
 */
export function lintGobgpdConfig(file: string, displayFile: string, agent: { prepending?: string[]; leaseS?: number } = {}): Diagnostic[] {
  const toml = readGobgpdToml(file);
  if (!toml) return []; // A missing file is reported where the agent's config names it.
  const at = (line: number, severity: 'error' | 'warning', message: string, col = 1): Diagnostic =>
    ({ file: displayFile, line, col, severity, message });
  if ('error' in toml) return [at(toml.error.line, 'error', `gobgpd's config is not valid TOML: ${toml.error.message}`, toml.error.col)];
  const { config, lines } = toml;
  const out: Diagnostic[] = [];
  const warn = (path: (string | number)[], message: string) => out.push(at(lines.lineOf(path), 'warning', message));
  // The hold time to suggest: short enough that a dead host's routes go in seconds, and, with a
  // quorum lease, no longer than the lease (the rule in rules.ts), but never under BGP's 3 s.
  const suggested = Math.max(MIN_HOLD_TIME_S, Math.min(MAX_HOLD_TIME_S, Math.floor(agent.leaseS ?? MAX_HOLD_TIME_S)));

  if (get(config, 'global', 'config', 'as') === undefined || get(config, 'global', 'config', 'router-id') === undefined) {
    warn(['global', 'config'], 'gobgpd needs [global.config] with "as" and "router-id"; it will not start without them');
  }
  if (get(config, 'zebra', 'config', 'enabled') === true) {
    warn(['zebra', 'config', 'enabled'], 'zebra is enabled: gobgpd\'s zebra integration is fragile with the FRR that Debian ships; let the router redistribute BGP into OSPF instead');
  }

  const neighbors = tables(config.neighbors);
  const peerGroups = tables(config['peer-groups']);
  const dynamic = tables(config['dynamic-neighbors']);
  if (neighbors.length === 0 && dynamic.length === 0) {
    warn([], 'gobgpd has no neighbors: its announcements reach no router');
  }

  const groupHold = new Map<string, unknown>();
  peerGroups.forEach((group, g) => {
    const name = String(get(group, 'config', 'peer-group-name') ?? `#${g + 1}`);
    groupHold.set(name, get(group, 'timers', 'config', 'hold-time'));
    gracefulRestartWarnings(group, ['peer-groups', g], `peer group ${name}`, warn);
    const hold = get(group, 'timers', 'config', 'hold-time');
    if (hold !== undefined) holdTimeWarning(suggested, hold, ['peer-groups', g, 'timers', 'config', 'hold-time'], `peer group ${name}`, '[peer-groups.timers.config]', warn);
  });

  neighbors.forEach((neighbor, n) => {
    const name = `neighbor ${String(get(neighbor, 'config', 'neighbor-address') ?? `#${n + 1}`)}`;
    gracefulRestartWarnings(neighbor, ['neighbors', n], name, warn);
    const own = get(neighbor, 'timers', 'config', 'hold-time');
    const group = get(neighbor, 'config', 'peer-group');
    if (own !== undefined) {
      holdTimeWarning(suggested, own, ['neighbors', n, 'timers', 'config', 'hold-time'], name, '[neighbors.timers.config]', warn);
    } else if (typeof group !== 'string' || groupHold.get(group) === undefined) {
      // A peer group's own hold time, if any, is reported at the peer group.
      holdTimeWarning(suggested, undefined, ['neighbors', n], name, '[neighbors.timers.config]', warn);
    }
  });

  // The agent puts prepended ASes into the path in gobgpd's global table, which every
  // neighbor gets: an iBGP neighbor then sees its own AS and drops the route as a loop.
  const localAs = get(config, 'global', 'config', 'as');
  if (agent.prepending?.length) {
    neighbors.forEach((neighbor, n) => {
      if (get(neighbor, 'config', 'peer-as') !== localAs) return;
      warn(['neighbors', n, 'config', 'peer-as'], `neighbor ${String(get(neighbor, 'config', 'neighbor-address'))} is iBGP (peer-as = global as ${String(localAs)}): it drops the routes of ${agent.prepending!.join(', ')} (as-path-prepend puts its own AS in the path); prepend only towards eBGP neighbors`);
    });
  }

  dynamic.forEach((d, k) => {
    const group = get(d, 'config', 'peer-group');
    if (typeof group === 'string' && groupHold.get(group) === undefined) {
      holdTimeWarning(suggested, undefined, ['dynamic-neighbors', k], `dynamic neighbors ${String(get(d, 'config', 'prefix') ?? '')} (peer group ${group})`.trim(), '[peer-groups.timers.config]', warn);
    }
  });
  return out;
}

type Warn = (path: (string | number)[], message: string) => void;

function gracefulRestartWarnings(entry: Table, base: (string | number)[], name: string, warn: Warn): void {
  const consequence = 'when the agent dies the router keeps its routes for the restart time (gobgpd\'s default: the hold time) and keeps sending traffic to a dead node';
  if (get(entry, 'graceful-restart', 'config', 'enabled') === true) {
    warn([...base, 'graceful-restart', 'config', 'enabled'], `${name}: graceful restart is enabled: ${consequence}; set enabled = false or remove the graceful-restart table`);
  }
  tables(entry['afi-safis']).forEach((afiSafi, a) => {
    if (get(afiSafi, 'mp-graceful-restart', 'config', 'enabled') === true) {
      warn([...base, 'afi-safis', a, 'mp-graceful-restart', 'config', 'enabled'], `${name}: graceful restart is enabled for an address family: ${consequence}; set enabled = false`);
    }
  });
}

function holdTimeWarning(suggested: number, hold: unknown, path: (string | number)[], name: string, table: string, warn: Warn): void {
  const fix = `set ${table} hold-time = ${suggested} and keepalive-interval = ${Math.max(1, Math.floor(suggested / 3))}`;
  if (hold === undefined) {
    warn(path, `${name}: hold time unset, so gobgpd uses ${GOBGPD_DEFAULT_HOLD_TIME_S} s: if this host dies without closing the session, the router keeps sending traffic to it for up to ${GOBGPD_DEFAULT_HOLD_TIME_S} s; ${fix}`);
  } else if (typeof hold === 'number' && hold === 0) {
    warn(path, `${name}: hold-time = 0 turns the hold timer off: the router never notices a dead host; ${fix}`);
  } else if (typeof hold === 'number' && hold > MAX_HOLD_TIME_S) {
    warn(path, `${name}: hold time ${hold} s: if this host dies without closing the session, the router keeps sending traffic to it for up to ${hold} s; ${fix}`);
  }
}
