/**
 * Rules that relate one part of the agent's file to another. Each runs on whatever parsed
 * (see agent-parts.ts), so a broken section elsewhere does not hide these errors.
 * Paths name the value the operator should change; when that value is absent (a default
 * applies) the loader points at the closest enclosing item instead.
 */
import { isIP } from 'node:net';
import { nodeLeaseEnd, renewalDue, shortestUsefulLease } from '../cluster/lease.js';
import { formatDuration, ms } from '../core/duration.js';
import type { NodeId, ServiceName } from '../core/ids.js';
import { parsePrefix, prefixContains, type Prefix } from '../core/prefix.js';
import type { AgentParts } from './agent-parts.js';
import type { Finding, PathSegment } from './finding.js';
import { error, warning } from './finding.js';
import type { FlapDampingConfig, HostPort, ServiceConfig } from './types.js';

export function crossSectionFindings(parts: AgentParts): Finding[] {
  return [
    ...serviceIdentityRules(parts),
    ...overlappingPrefixRules(parts),
    ...bgpServiceRules(parts),
    ...arpRules(parts),
    ...checkTimingRules(parts),
    ...flapDampingRules(parts),
    ...clusterRules(parts),
    ...peerAddressRules(parts),
    ...tlsRules(parts),
  ];
}

type IndexedService = [ServiceConfig, number];
const parsedServices = (parts: AgentParts): IndexedService[] =>
  parts.services.flatMap((s, i): IndexedService[] => (s ? [[s, i]] : []));

const ordinal = (i: number) => `${i + 1}${i === 0 ? 'st' : i === 1 ? 'nd' : i === 2 ? 'rd' : 'th'}`;

/** Names and prefixes must be unique: two services owning one prefix would fight over it. */
function serviceIdentityRules(parts: AgentParts): Finding[] {
  const out: Finding[] = [];
  const names = new Map<string, number>();
  const prefixes = new Map<string, string>();
  for (const [service, i] of parsedServices(parts)) {
    const first = names.get(service.name);
    if (first !== undefined) {
      out.push(error(['services', i, 'name'], `duplicate service name "${service.name}" (the ${ordinal(first)} service has it too)`));
    } else names.set(service.name, i);
    service.prefixes.forEach((p, j) => {
      const owner = prefixes.get(p.key);
      if (owner !== undefined) {
        out.push(error(['services', i, 'prefixes', j], owner === service.name
          ? `${p.key} is listed twice in this service`
          : `${p.key} is already a prefix of service "${owner}": a prefix belongs to one service`));
      } else prefixes.set(p.key, service.name);
    });
  }
  return out;
}

/**
 * One address space announced as two prefixes (203.0.113.0/24 here, 203.0.113.10/32 there):
 * routers forward by the longest match, so the longer prefix's holder gets that traffic
 * whoever holds the shorter one, and withdrawing either leaves the address half served.
 * Exact repeats are reported by serviceIdentityRules; this reports strict containment, at
 * the one written later.
 */
function overlappingPrefixRules(parts: AgentParts): Finding[] {
  const out: Finding[] = [];
  const seen: { prefix: Prefix; service: ServiceName }[] = [];
  for (const [service, i] of parsedServices(parts)) {
    service.prefixes.forEach((p, j) => {
      const other = seen.find((s) => s.prefix.key !== p.key && overlap(s.prefix, p));
      if (other) {
        const [outer, inner] = other.prefix.length < p.length ? [other.prefix, p] : [p, other.prefix];
        out.push(error(['services', i, 'prefixes', j], other.service === service.name
          ? `${p.key} overlaps ${other.prefix.key} in this service: ${inner.key} lies inside ${outer.key}, which already covers it; list each address in one prefix`
          : `${p.key} overlaps ${other.prefix.key} of service "${other.service}": ${inner.key} lies inside ${outer.key}, and routers send its traffic to whoever announces the longer prefix; give each address to one prefix of one service`));
      }
      seen.push({ prefix: p, service: service.name });
    });
  }
  return out;
}

const overlap = (a: Prefix, b: Prefix): boolean =>
  a.family === b.family && (a.length <= b.length ? prefixContains(a, b.address) : prefixContains(b, a.address));

function viaPath(i: number, service: ServiceConfig, method: 'bgp' | 'arp'): PathSegment[] {
  return ['services', i, 'via', service.via.indexOf(method)];
}

function bgpServiceRules(parts: AgentParts): Finding[] {
  const out: Finding[] = [];
  for (const [service, i] of parsedServices(parts)) {
    if (!service.via.includes('bgp')) continue;
    if (!parts.present.has('bgp')) {
      out.push(error(viaPath(i, service, 'bgp'),
        `service "${service.name}" is announced over BGP (via: [${service.via.join(', ')}]) but the file has no bgp section`));
      continue;
    }
    const nextHop = parts.bgp?.['next-hop'];
    if (!nextHop) continue;
    service.prefixes.forEach((p, j) => {
      const family = p.family === 4 ? 'ipv4' : 'ipv6';
      if (!nextHop[family]) {
        out.push(error(['services', i, 'prefixes', j],
          `${p.key} is IPv${p.family}, but bgp.next-hop.${family} is not set: BGP needs a next hop for every family it announces`));
      }
    });
  }
  return out;
}

/**
 * The kernel holds an address for whole seconds, and never past the quorum lease (S4): a lease
 * whose validity left at a renewal is under a second (plus room for the renewal's own round
 * trip) drops the address between renewals.
 */
const ARP_LEASE_ROOM = ms(1000 + 100 + 200);

function arpRules(parts: AgentParts): Finding[] {
  const out: Finding[] = [];
  const anyArp = parsedServices(parts).some(([s]) => s.via.includes('arp'));
  parts.cluster?.quorum.forEach((q, k) => {
    if (!anyArp || q.kind !== 'server') return;
    const end = nodeLeaseEnd(ms(0), q.lease);
    const left = end - renewalDue(ms(0), q.lease, end);
    if (left < ARP_LEASE_ROOM) {
      out.push(warning(['cluster', 'quorum', k, 'server', 'lease'],
        `a lease of ${formatDuration(q.lease)} is too short for services via arp: at each renewal only ${formatDuration(ms(Math.max(0, Math.floor(left))))} of it is left, and an address is held for whole seconds and never past the lease, so it would be dropped between renewals; ask for at least 3s`));
    }
  });
  for (const [service, i] of parsedServices(parts)) {
    if (!service.via.includes('arp')) {
      if (service.arp) out.push({ ...warning(['services', i, 'arp'], `arp is set but via has no arp: it is not used`), at: 'key' });
      continue;
    }
    if (service.mode === 'anycast') {
      out.push(error(viaPath(i, service, 'arp'),
        'an anycast service cannot use arp: an address on one segment has one holder at a time; use via: [bgp], or mode: exclusive'));
    }
    if (!service.arp) {
      out.push(error(viaPath(i, service, 'arp'),
        'via arp needs arp.interface: the interface that has an address in the subnet of the service\'s addresses'));
    }
    service.prefixes.forEach((p, j) => {
      const host = p.family === 4 ? 32 : 128;
      if (p.length !== host) {
        out.push(error(['services', i, 'prefixes', j],
          `arp takes over single addresses: ${p.key} must be a /${host} to be used with via arp`));
      }
    });
  }
  return out;
}

function checkTimingRules(parts: AgentParts): Finding[] {
  const out: Finding[] = [];
  for (const [service, i] of parsedServices(parts)) {
    service.checks.forEach((check, k) => {
      // A check never overlaps itself, so a check that runs until its timeout delays the
      // next one: a dead service is then noticed later than fall × interval suggests.
      if (check.timeout >= check.interval) {
        out.push(error(['services', i, 'checks', k, 'timeout'],
          `timeout ${formatDuration(check.timeout)} is not shorter than interval ${formatDuration(check.interval)}: a check that hangs until its timeout delays the next one, so a dead service is noticed after up to ${check.fall} × ${formatDuration(check.timeout)}; make the timeout shorter than the interval (e.g. ${formatDuration(ms(Math.max(1, Math.floor(check.interval * 0.8))))})`));
      }
    });
  }
  return out;
}

/**
 * Flap damping holds a service down after more than `changes` health changes within
 * `within`. Settings that can never trigger, or that release a service while its changes
 * still count, are warnings: damping is a convenience, not a safety rule.
 */
function flapDampingRules(parts: AgentParts): Finding[] {
  const out: Finding[] = [];
  const holdDownRule = (damping: FlapDampingConfig, base: PathSegment[]) => {
    if (damping.holdDown < damping.within) {
      out.push(warning([...base, 'hold-down'],
        `hold-down ${formatDuration(damping.holdDown)} is shorter than within ${formatDuration(damping.within)}: a service is released while its changes still count, so its next change holds it down again; make hold-down at least ${formatDuration(damping.within)}`));
    }
  };
  if (parts.flapDamping) holdDownRule(parts.flapDamping, ['flap-damping']);
  for (const [service, i] of parsedServices(parts)) {
    const own = service.flapDamping;
    if (own) holdDownRule(own, ['services', i, 'flap-damping']);
    const damping = own ?? parts.flapDamping;
    if (!damping || service.checks.length === 0) continue;
    // A check's health changes only after `rise` passes or `fall` failures in a row, so
    // one check changes at most once per interval × min(rise, fall); more than `changes`
    // changes need `changes` such gaps.
    const gap = Math.min(...service.checks.map((c) => c.interval * Math.min(c.rise, c.fall)));
    const needed = ms(damping.changes * gap);
    if (damping.within < needed) {
      out.push(warning(own ? ['services', i, 'flap-damping', 'within'] : ['flap-damping', 'within'],
        `flap damping of service "${service.name}" can never trigger: more than ${damping.changes} health changes take at least ${formatDuration(needed)} (its fastest check changes at most once per ${formatDuration(ms(gap))}), longer than within ${formatDuration(damping.within)}; make within at least ${formatDuration(needed)}, or changes smaller`));
    }
  }
  return out;
}

function clusterRules(parts: AgentParts): Finding[] {
  const out: Finding[] = [];
  const { node, cluster } = parts;
  if (!cluster) return out;
  const { interval, deadAfter } = cluster.heartbeat;
  if (deadAfter <= interval) {
    out.push(error(['cluster', 'heartbeat', 'dead-after'],
      `dead-after (${formatDuration(deadAfter)}) must be longer than the heartbeat interval (${formatDuration(interval)}): peers would be declared dead between two heartbeats`));
  } else if (deadAfter < 2 * interval) {
    out.push(warning(['cluster', 'heartbeat', 'dead-after'],
      `dead-after (${formatDuration(deadAfter)}) is less than two heartbeat intervals (${formatDuration(interval)}): one late heartbeat makes a peer dead; 5 × interval is usual`));
  }

  const ids = new Map<string, number>();
  cluster.peers.forEach((peer, k) => {
    if (node && peer.id === node.id) {
      out.push(error(['cluster', 'peers', k, 'id'], `peer "${peer.id}" has this node's own id (node.id): list only the other nodes`));
    } else if (ids.has(peer.id)) {
      out.push(error(['cluster', 'peers', k, 'id'], `duplicate peer id "${peer.id}"`));
    } else ids.set(peer.id, k);
  });
  if (cluster.peers.length > 0 && !cluster.listen) {
    out.push({ ...error(['cluster', 'peers'], 'peers need cluster.listen: the address on which this node answers their heartbeats'), at: 'key' });
  }

  const kinds = cluster.quorum.map((q) => q.kind);
  kinds.forEach((kind, k) => {
    if (kinds.indexOf(kind) !== k) out.push(error(['cluster', 'quorum', k], `the quorum module "${kind}" is listed twice`));
  });
  cluster.quorum.forEach((q, k) => {
    // A node stops a margin before its lease ends (cluster/lease.ts) and renews at a third of
    // it: a lease of a few margins serves only briefly between renewals, or not at all.
    const useful = shortestUsefulLease();
    // The node renews at a third of its lease; a lease under three heartbeats is renewed
    // more often than the node hears its peers, and ends before a late heartbeat or two
    // could have told it whether its partition changed.
    if (q.kind === 'server' && q.lease < 3 * interval) {
      out.push(error(['cluster', 'quorum', k, 'server', 'lease'],
        `a lease of ${formatDuration(q.lease)} is shorter than three heartbeat intervals (3 × ${formatDuration(interval)}): it would end between the heartbeats that tell the node whether its partition changed; ask for at least ${formatDuration(ms(3 * interval))}, or shorten cluster.heartbeat.interval`));
    }
    if (q.kind === 'server' && q.lease < 3 * useful) {
      out.push(warning(['cluster', 'quorum', k, 'server', 'lease'],
        `a lease of ${formatDuration(q.lease)} is too short to rely on: the node stops serving ${formatDuration(ms(useful - 1))} before its lease ends (drift and withdrawal margins); ask for at least ${formatDuration(ms(3 * useful))}`));
    }
  });

  if (node) {
    const total = node.votes + cluster.peers.reduce((sum, p) => sum + p.votes, 0);
    if (total === 0) out.push(error(['node', 'votes'], 'the cluster has no votes at all: no node could ever hold quorum'));
    const hasServer = kinds.includes('server');
    if (cluster.peers.length > 0 && total % 2 === 0 && !hasServer) {
      out.push(warning(['cluster', 'quorum'],
        `the cluster has ${total} votes and no quorum server: when half of them are gone (one site down, or the link between sites cut) the rest has exactly half, a tie, and stops serving; add "- server: {...}" to cluster.quorum`));
    }
  }
  return out;
}

/**
 * Each peer is a distinct node at a distinct address: two peers at one address are one node
 * counted twice (its votes too), and a peer at this node's own listen address is this node
 * hearing itself.
 */
function peerAddressRules(parts: AgentParts): Finding[] {
  const out: Finding[] = [];
  const cluster = parts.cluster;
  if (!cluster) return out;
  const own = cluster.listen ? endpointKey(cluster.listen) : undefined;
  const seen = new Map<string, NodeId>();
  cluster.peers.forEach((peer, k) => {
    const key = endpointKey(peer.address);
    const first = seen.get(key);
    const where = ['cluster', 'peers', k, 'address'];
    if (key === own) {
      out.push(error(where, `peer "${peer.id}" is at this node's own address (cluster.listen ${key}): the node would count its own heartbeats as a peer's; give the peer's address`));
    } else if (first !== undefined) {
      out.push(error(where, `peer "${peer.id}" has the address ${key} of peer "${first}": one node would be counted twice; each peer has an address of its own`));
    } else seen.set(key, peer.id);
  });
  return out;
}

/** One spelling per endpoint: IPv6 in canonical form, host names in lower case. */
function endpointKey({ host, port }: HostPort): string {
  const family = isIP(host);
  if (family === 0) return `${host.toLowerCase()}:${port}`;
  const canonical = parsePrefix(host).address;
  return family === 6 ? `[${canonical}]:${port}` : `${canonical}:${port}`;
}

/** Peers and the quorum server speak mutual TLS only; plaintext is an explicit lab choice. */
function tlsRules(parts: AgentParts): Finding[] {
  const out: Finding[] = [];
  const tls = parts.tls;
  if (tls) {
    if (Boolean(tls.cert) !== Boolean(tls.key)) {
      out.push(error(['tls', tls.cert ? 'key' : 'cert'], `"${tls.cert ? 'key' : 'cert'}" is required with "${tls.cert ? 'cert' : 'key'}": a certificate is used with its private key`));
    }
  }
  const cluster = parts.cluster;
  if (!cluster || parts.present.has('tls') && !tls) return out; // tls failed to parse: already reported
  const complete = tls && tls.ca && tls.cert && tls.key;
  if (complete || tls?.insecure) return out;
  const need = 'mutual TLS: set tls.ca, tls.cert and tls.key (or tls.insecure: true, for a lab only)';
  if (cluster.peers.length > 0) out.push({ ...error(['cluster', 'peers'], `peers talk ${need}`), at: 'key' });
  cluster.quorum.forEach((q, k) => {
    if (q.kind === 'server') out.push(error(['cluster', 'quorum', k, 'server'], `the quorum server talks ${need}`));
  });
  return out;
}
