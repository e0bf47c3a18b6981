/**
 * What GET /status returns, and how `quorate status` prints it. The agent fills the report
 * (agent.ts status()); this file only knows its shape and its reading for an operator.
 */

export interface CheckResultReport {
  ok: boolean;
  /** What the probe saw (status code, error), short. */
  detail: string;
  latencyMs: number;
  /** ISO time the probe ended. */
  at: string;
}

export interface CheckReport {
  label: string;
  kind: string;
  up: boolean;
  passes: number;
  fails: number;
  rise: number;
  fall: number;
  last?: CheckResultReport;
  /** Oldest first. */
  recent: CheckResultReport[];
}

export interface ServiceReport {
  name: string;
  mode: 'anycast' | 'exclusive';
  via: string[];
  prefixes: string[];
  healthy: boolean;
  drained: boolean;
  /** The maintenance file that drains it (present while drained). */
  maintenanceFile?: string;
  serving: boolean;
  /** How this node holds it, while serving. */
  method?: string;
  reason?: string;
  /** Exclusive services: the node that says it holds it (this node or a seen peer), if any. */
  holder?: string;
  /** Set while flap damping holds the service down (ISO time). */
  heldDownUntil?: string;
  checks: CheckReport[];
}

export interface PeerReport {
  id: string;
  address: string;
  votes: number;
  seen: boolean;
  /** What the peer said it holds in its latest heartbeat (seen peers only). */
  holding: string[];
}

export interface AgentStatusReport {
  node: string;
  cluster: string;
  /** ISO time of this report. */
  time: string;
  uptimeSeconds: number;
  quorum: {
    quorate: boolean;
    reason: string;
    /** While quorate on a lease: how long it is still valid. Absent: not bounded (a majority), or no quorum. */
    leaseRemainingMs?: number;
    trail: { module: string; vote: string; reason: string }[];
    seenPeers: string[];
    server?: unknown;
  };
  peers: PeerReport[];
  services: ServiceReport[];
  bgp?: {
    speaker: 'run' | 'external';
    inSync: boolean;
    announced: string[];
    sessions: { address: string; asn: number; state: string; established: boolean }[];
  };
  arp?: {
    held: { address: string; interface: string }[];
    /** Per service via arp: 'usable', or why its interface cannot hold the address. */
    interfaces: Record<string, string>;
  };
}

/** A plain-text table an operator reads at a glance (no colour: it goes to logs and tickets too). */
export function formatStatus(s: AgentStatusReport): string {
  const lines: string[] = [];
  const lease = s.quorum.leaseRemainingMs !== undefined ? `, lease ${(s.quorum.leaseRemainingMs / 1000).toFixed(1)}s left` : '';
  lines.push(`node ${s.node} of cluster ${s.cluster}, up ${formatUptime(s.uptimeSeconds)}, at ${s.time}`);
  lines.push(`quorum: ${s.quorum.quorate ? 'held' : 'NOT held'} (${s.quorum.reason}${lease})`);
  lines.push('');
  lines.push(table(['SERVICE', 'MODE', 'HEALTH', 'STATE', 'VIA', 'HOLDER', 'PREFIXES', 'REASON'], s.services.map((v) => [
    v.name,
    v.mode,
    v.healthy ? 'healthy' : 'UNHEALTHY',
    v.serving ? (v.drained ? 'draining' : 'serving') : v.drained ? 'drained' : v.heldDownUntil ? 'held down' : 'withdrawn',
    v.serving ? v.method ?? '-' : '-',
    v.holder ?? '-',
    v.prefixes.join(' '),
    v.reason ?? '',
  ])));
  lines.push('');
  lines.push(table(['CHECK', 'STATE', 'LAST', 'LATENCY', 'RECENT (old → new)'], s.services.flatMap((v) => v.checks.map((c) => [
    `${v.name}: ${c.label}`,
    c.up ? `up (${c.passes} ok)` : `down (${c.fails} failed)`,
    c.last ? (c.last.ok ? 'ok' : `FAIL: ${c.last.detail}`) : 'not run yet',
    c.last ? `${c.last.latencyMs.toFixed(1)}ms` : '-',
    c.recent.map((r) => (r.ok ? '+' : 'x')).join(''),
  ]))));
  if (s.peers.length > 0) {
    lines.push('');
    lines.push(table(['PEER', 'ADDRESS', 'VOTES', 'SEEN', 'HOLDS'], s.peers.map((p) => [
      p.id, p.address, String(p.votes), p.seen ? 'yes' : 'NO', p.holding.join(' ') || '-',
    ])));
  }
  if (s.bgp) {
    lines.push('');
    lines.push(`bgp: gobgpd ${s.bgp.speaker === 'run' ? 'run by this agent' : 'external'}, ${s.bgp.inSync ? 'in sync' : 'NOT in sync'}, announcing ${s.bgp.announced.length ? s.bgp.announced.join(' ') : 'nothing'}`);
    if (s.bgp.sessions.length > 0) {
      lines.push(table(['BGP NEIGHBOR', 'AS', 'STATE'], s.bgp.sessions.map((n) => [n.address, String(n.asn), n.state])));
    }
  }
  if (s.arp) {
    lines.push('');
    lines.push(`arp: holding ${s.arp.held.length ? s.arp.held.map((h) => `${h.address} on ${h.interface}`).join(', ') : 'nothing'}`);
    for (const [service, state] of Object.entries(s.arp.interfaces)) lines.push(`  ${service}: ${state}`);
  }
  return lines.join('\n') + '\n';
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function formatUptime(seconds: number): string {
  if (seconds < 120) return `${Math.floor(seconds)}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}
