/**
 * The cluster lab (issue 3, item 9): two sites, or three with `sites: 3`, on one Ethernet
 * segment (a Linux bridge in its own namespace) joining
 *
 *   ny  192.0.2.1    site NY: demo services web + db, `quorate agent` ny-1, its gobgpd AS 65001
 *   nj  192.0.2.2    site NJ: the same, nj-1, gobgpd AS 65002
 *   ch  192.0.2.3    site CH (three-site labs only): the same, ch-1, gobgpd AS 65003
 *   rtr 192.0.2.254  BIRD AS 65000, one eBGP session per site's gobgpd (BIRD connects:
 *                    gobgpd 3.10 waits 5–10 s before it connects out)
 *   qs  192.0.2.250  `quorate server`
 *
 * Services: anycast `web` 203.0.113.10/32 and exclusive `db` 203.0.113.20/32 (priority NY 200,
 * NJ 100, CH 300). Each service has its own demo process per site, so one can die while the
 * other lives. Every member lists every other as a peer. Mutual TLS from `quorate certs`
 * unless a test asks for `insecure`. Faults: SIGKILL an agent (its guard takes gobgpd down),
 * nftables between two sites (cut, one way; NY–NJ unless told otherwise), stop / start the
 * quorum server. Everything goes at teardown, even after a failure.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ms, type Millis } from '../src/core/duration.js';
import { parsePrefix } from '../src/core/prefix.js';
import { AgentProcess, quorateBin } from './agent-lab.js';
import { startBird, type BirdInstance } from './bird.js';
import { applyLinkFault, healLinkFaults, type LinkFault } from './cluster-lab-faults.js';
import { AnnouncementSampler } from './cluster-lab-sampler.js';
import { countedPackets, countServerTraffic } from './cluster-lab-server-traffic.js';
import { gobgpdConfig } from './gobgpd-config.js';
import { Lab, run, type Namespace } from './netns.js';
import { startService, type ServiceInstance } from './service.js';
import { waitUntil } from './wait.js';
import { VIP_ARP_SETTINGS, vipService } from './cluster-lab-arp.js';

export type Site = 'ny' | 'nj' | 'ch';
/** The members of a two-site lab (the default). */
export const SITES: readonly Site[] = ['ny', 'nj'];
/** The members of a three-site lab (`sites: 3`). */
export const THREE_SITES: readonly Site[] = ['ny', 'nj', 'ch'];

export interface SiteFacts {
  node: string;
  address: string;
  as: number;
  /** The exclusive service's priority at this site. */
  priority: number;
  /** BIRD's protocol name for this site's session. */
  protocol: string;
}

export const SITE: Record<Site, SiteFacts> = {
  ny: { node: 'ny-1', address: '192.0.2.1', as: 65001, priority: 200, protocol: 'site_ny' },
  nj: { node: 'nj-1', address: '192.0.2.2', as: 65002, priority: 100, protocol: 'site_nj' },
  ch: { node: 'ch-1', address: '192.0.2.3', as: 65003, priority: 300, protocol: 'site_ch' },
};
export const ROUTER_ADDRESS = '192.0.2.254';
export const ROUTER_AS = 65000;
export const QUORUM_SERVER_ADDRESS = '192.0.2.250';
export const QUORUM_SERVER_PORT = 7481;
export const PEER_PORT = 7480;
export const CLUSTER = 'payments';
export const WEB = '203.0.113.10/32';
export const DB = '203.0.113.20/32';

/** The other member of a two-site lab. */
export function otherSite(site: Site): Site {
  return site === 'ny' ? 'nj' : 'ny';
}

export interface ClusterLabOptions {
  /** Short, unique per test file (namespace names). */
  tag: string;
  /** How many sites: 2 (NY, NJ; the default) or 3 (NY, NJ, CH). */
  sites?: 2 | 3;
  /** `mutual`: certificates from `quorate certs`; `insecure`: `tls: { insecure: true }`. */
  tls: 'mutual' | 'insecure';
  /** The quorum server's lease.max. Default 3 s. */
  leaseMax?: string;
  /** The lease the agents ask for. Default 2 s. */
  lease?: string;
  /** What `up()` (and `startAgent` without options) configures the agents with. */
  agents?: AgentConfigOptions;
  /** The agents' `cluster.heartbeat` (duration strings). Default interval 100ms, dead-after 500ms. */
  heartbeat?: { interval: string; deadAfter: string };
}

/** What may differ between the two sites' configs in a scenario. */
export interface AgentConfigOptions {
  /** `preempt` of the exclusive service `db` (default true). */
  preempt?: boolean;
  /** This node's votes and each peer's as this node's config states them (default 1 and 1). */
  votes?: { self: number; peer: number };
  /** Leave out the `server` quorum module. */
  votingOnly?: boolean;
  /**
   * Add the exclusive service `vip` (lab/cluster-lab-arp.ts: the service address on the
   * segment, checked through the site's whoami). `only`: no other service, and no bgp section
   * unless `via` has bgp (an ARP-only node runs no speaker).
   */
  vip?: { via: ('bgp' | 'arp')[]; preempt?: boolean; only?: boolean };
}

export interface SiteParts {
  ns: Namespace;
  web: ServiceInstance;
  db: ServiceInstance;
  agent?: AgentProcess;
  dir: string;
}

export class ClusterLab {
  /** The sites this lab runs (SITES or THREE_SITES). */
  readonly members: readonly Site[];
  /** The sampler `up()` started, stopped at teardown. */
  sampler?: AnnouncementSampler<Site>;
  /** Filled in for the members only: a two-site lab has no `ch`. */
  readonly sites = {} as Record<Site, SiteParts>;
  /** The segment's namespace; its bridge is `br0`. */
  segment!: Namespace;
  router!: Namespace;
  qs!: Namespace;
  bird!: BirdInstance;
  server?: AgentProcess;
  dir!: string;
  certDir!: string;
  serverConfigPath!: string;
  stateFile!: string;

  private constructor(readonly lab: Lab, readonly options: ClusterLabOptions) {
    this.members = options.sites === 3 ? THREE_SITES : SITES;
  }

  static create(options: ClusterLabOptions): Promise<ClusterLab> {
    return Lab.build(options.tag, async (lab) => {
      const self = new ClusterLab(lab, options);
      await self.build();
      return self;
    });
  }

  private async build(): Promise<void> {
    const { lab } = this;
    this.dir = await lab.tempDir('cluster');
    const segment = await lab.namespace('seg');
    await segment.addBridge('br0');
    this.segment = segment;
    const join_ = async (short: string, address: string): Promise<Namespace> => {
      const ns = await lab.namespace(short);
      await lab.veth({ ns, device: 'eth0', addresses: [`${address}/24`] }, { ns: segment, device: `p-${short}`, bridge: 'br0' });
      return ns;
    };
    this.router = await join_('rtr', ROUTER_ADDRESS);
    this.qs = await join_('qs', QUORUM_SERVER_ADDRESS);
    for (const site of this.members) {
      const ns = await join_(site, SITE[site].address);
      const dir = join(this.dir, site);
      await run('mkdir', ['-p', dir]);
      const gobgpd = gobgpdConfig({
        as: SITE[site].as,
        routerId: SITE[site].address,
        listenAddresses: [SITE[site].address],
        neighbors: [{ address: ROUTER_ADDRESS, peerAs: ROUTER_AS, passive: true, families: ['ipv4'] }],
      });
      await writeFile(join(dir, 'gobgpd.toml'), gobgpd);
      const web = await startService(lab, ns, { host: '127.0.0.1', port: 0, body: `${site} web` });
      const db = await startService(lab, ns, { host: '127.0.0.1', port: 0, body: `${site} db` });
      this.sites[site] = { ns, web, db, dir };
    }
    this.bird = await startBird(lab, this.router, {
      routerId: ROUTER_ADDRESS,
      neighbors: this.members.map((site) => ({
        name: SITE[site].protocol, address: SITE[site].address, localAddress: ROUTER_ADDRESS, localAs: ROUTER_AS, peerAs: SITE[site].as, families: ['ipv4'],
      })),
    });

    this.certDir = join(this.dir, 'certs');
    if (this.options.tls === 'mutual') {
      await run(process.execPath, [quorateBin(), 'certs', '--dir', this.certDir, '--cluster', CLUSTER,
        ...this.members.flatMap((s) => ['--node', SITE[s].node]), '--server', '--address', QUORUM_SERVER_ADDRESS]);
    }
    this.stateFile = join(this.dir, 'qs-state.json');
    this.serverConfigPath = join(this.dir, 'server.yaml');
    await writeFile(this.serverConfigPath, stringify({
      listen: `${QUORUM_SERVER_ADDRESS}:${QUORUM_SERVER_PORT}`,
      tls: this.tlsSection('quorum-server'),
      lease: { max: this.options.leaseMax ?? '3s' },
      clusters: [{ name: CLUSTER, prefer: SITE.ny.node }],
      'state-file': this.stateFile,
    }));
  }

  private tlsSection(name: string): Record<string, unknown> {
    if (this.options.tls === 'insecure') return { insecure: true };
    return { ca: join(this.certDir, 'ca.pem'), cert: join(this.certDir, `${name}.pem`), key: join(this.certDir, `${name}.key`) };
  }

  /** The agent config of `site` as an object (YAML keys). */
  agentConfig(site: Site, opts: AgentConfigOptions = {}): Record<string, unknown> {
    const me = SITE[site];
    const parts = this.sites[site];
    const check = (service: ServiceInstance): Record<string, unknown> => ({
      http: { url: `${service.url}/healthz` }, interval: '100ms', timeout: '80ms', rise: 2, fall: 2,
    });
    const quorum: unknown[] = [{ voting: {} }];
    if (!opts.votingOnly) {
      quorum.push({ server: { address: `${QUORUM_SERVER_ADDRESS}:${QUORUM_SERVER_PORT}`, lease: this.options.lease ?? '2s' } });
    }
    const vip = opts.vip ? [vipService(me.priority, opts.vip)] : [];
    const services = opts.vip?.only ? vip : [
      { name: 'web', prefixes: [WEB], mode: 'anycast', checks: [check(parts.web)] },
      { name: 'db', prefixes: [DB], mode: 'exclusive', priority: me.priority, preempt: opts.preempt ?? true, checks: [check(parts.db)] },
      ...vip,
    ];
    const withBgp = !opts.vip?.only || opts.vip.via.includes('bgp');
    return {
      node: { id: me.node, votes: opts.votes?.self ?? 1 },
      cluster: {
        name: CLUSTER,
        listen: `${me.address}:${PEER_PORT}`,
        heartbeat: { interval: this.options.heartbeat?.interval ?? '100ms', 'dead-after': this.options.heartbeat?.deadAfter ?? '500ms' },
        peers: this.members.filter((s) => s !== site).map((s) => ({ id: SITE[s].node, address: `${SITE[s].address}:${PEER_PORT}`, votes: opts.votes?.peer ?? 1 })),
        quorum,
      },
      tls: this.tlsSection(me.node),
      'state-dir': join(parts.dir, 'state'),
      ...(withBgp ? {
        bgp: {
          gobgp: { run: { config: join(parts.dir, 'gobgpd.toml'), 'stall-timeout': '500ms' }, address: `unix://${join(parts.dir, 'gobgpd.sock')}` },
          'next-hop': { ipv4: me.address },
          'reconcile-interval': '500ms',
        },
      } : {}),
      ...(opts.vip ? { arp: VIP_ARP_SETTINGS } : {}),
      services,
    };
  }

  async writeAgentConfig(site: Site, config: Record<string, unknown>): Promise<string> {
    const path = join(this.sites[site].dir, 'agent.yaml');
    await writeFile(path, stringify(config));
    return path;
  }

  /** Starts `quorate agent` at `site` (with `agentConfig(site, opts)`); resolves once it talks to its gobgpd. */
  async startAgent(site: Site, opts: AgentConfigOptions = this.options.agents ?? {}): Promise<AgentProcess> {
    const path = await this.writeAgentConfig(site, this.agentConfig(site, opts));
    const proc = await this.sites[site].ns.spawn(`agent-${site}`, process.execPath, [quorateBin(), 'agent', '--config', path]);
    const agent = new AgentProcess(proc);
    this.sites[site].agent = agent;
    const withBgp = !opts.vip?.only || opts.vip.via.includes('bgp');
    await agent.waitForLog(withBgp ? /^connected to gobgpd$/ : /^quorate agent started$/);
    return agent;
  }

  /** Rewrites `site`'s config and has its agent reload it (SIGHUP). */
  async reloadAgent(site: Site, opts: AgentConfigOptions): Promise<void> {
    const agent = this.agent(site);
    const from = agent.logs.length;
    await this.writeAgentConfig(site, this.agentConfig(site, opts));
    agent.process.kill('SIGHUP');
    await agent.waitForLog(/^config reloaded$/, ms(10_000), from);
  }

  agent(site: Site): AgentProcess {
    const agent = this.sites[site].agent;
    if (!agent) throw new Error(`no agent runs at ${site}`);
    return agent;
  }

  /** SIGKILL the agent of `site` (its guard then kills gobgpd); resolves once it has exited. */
  async killAgent(site: Site): Promise<void> {
    const agent = this.sites[site].agent;
    if (!agent) return;
    agent.process.kill('SIGKILL');
    await agent.process.exited;
    this.sites[site].agent = undefined;
  }

  /** SIGTERM: the agent withdraws, releases its lease and exits. */
  async stopAgent(site: Site): Promise<void> {
    const agent = this.sites[site].agent;
    if (!agent) return;
    await agent.process.stop(ms(5000));
    this.sites[site].agent = undefined;
  }

  /**
   * Starts `quorate server`. `fresh`: first write a state file that holds no lease, as a
   * server that ran before and granted nothing would have left (no restart wait); otherwise
   * the server resumes whatever its state file says (or, with none, waits lease.max + gap).
   */
  async startQuorumServer(opts: { fresh?: boolean } = {}): Promise<AgentProcess> {
    if (this.server?.process.running) throw new Error('the quorum server already runs');
    if (opts.fresh) {
      await writeFile(this.stateFile, JSON.stringify({ format: 'quorate-quorum-server-state', version: 1, writtenAt: Date.now(), leases: [] }));
    }
    const proc = await this.qs.spawn('quorum-server', process.execPath, [quorateBin(), 'server', '--config', this.serverConfigPath]);
    this.server = new AgentProcess(proc);
    await this.server.waitForLog(/^quorum server listening$/);
    return this.server;
  }

  async stopQuorumServer(): Promise<void> {
    await this.server?.process.stop(ms(5000));
  }

  /** From now on, count the packets each site sends to the quorum server's port (nftables at the server). */
  async countServerTraffic(): Promise<void> {
    await countServerTraffic(this.qs, QUORUM_SERVER_PORT, this.members.map((s) => ({ name: `from_${s}`, address: SITE[s].address })));
  }

  /** Packets each site sent to the quorum server's port since `countServerTraffic()`. */
  async serverTraffic(): Promise<Record<Site, number>> {
    const out = {} as Record<Site, number>;
    for (const site of this.members) out[site] = await countedPackets(this.qs, `from_${site}`);
    return out;
  }

  /** Server log lines that granted the cluster's lease, from log index `from`. */
  grants(from = 0): string[] {
    return (this.server?.logs ?? []).slice(from).filter((l) => /^lease of .* granted to partition/.test(l.msg)).map((l) => l.msg);
  }

  /**
   * A fault on the link between two sites, made on the first one's side (NY–NJ by default);
   * the router, the quorum server and every other site stay reachable.
   */
  async linkFault(fault: LinkFault, between: readonly [Site, Site] = ['ny', 'nj']): Promise<void> {
    await applyLinkFault(this.sites[between[0]].ns, SITE[between[1]].address, fault);
  }

  /** Removes every link fault, at every site. */
  async healLink(): Promise<void> {
    for (const site of this.members) await healLinkFaults(this.sites[site].ns);
  }

  /** Which sites BIRD holds a route for `prefix` from, by next hop. */
  async announcers(prefix: string): Promise<Set<Site>> {
    const routes = await this.bird.control.showRoute(parsePrefix(prefix));
    return new Set(routes.map((r) => siteOfNextHop(r.bgp.nextHop[0] ?? '')).filter((s): s is Site => s !== undefined));
  }

  /** Waits until exactly `sites` announce `prefix` at BIRD. The bound is for the failure message. */
  waitAnnouncers(prefix: string, sites: readonly Site[], timeout: Millis = ms(30_000)): Promise<Set<Site>> {
    return waitUntil(async () => {
      const now = await this.announcers(prefix);
      return now.size === sites.length && sites.every((s) => now.has(s)) ? now : undefined;
    }, { timeout, what: `${prefix} announced by exactly [${sites.join(',')}] at BIRD` });
  }

  /**
   * The one site that announces `prefix` alone at BIRD and keeps doing so for `steady`: a
   * split's winner, found by what the routers hold rather than by a log line (after a quick
   * heal the holder's lease is renewed, and no "granted" line is logged).
   */
  async waitForLoneAnnouncer(prefix: string, steady: Millis = ms(1500), timeout: Millis = ms(20_000)): Promise<Site> {
    let lone: { site: Site; since: number } | undefined;
    for (const deadline = Date.now() + timeout; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      const sites = [...(await this.announcers(prefix))];
      const site = sites.length === 1 ? sites[0]! : undefined;
      if (!site) lone = undefined;
      else if (lone?.site !== site) lone = { site, since: Date.now() };
      else if (Date.now() - lone.since >= steady) return site;
    }
    throw new Error(`no single site kept announcing ${prefix} for ${steady} ms within ${timeout} ms`);
  }

  async waitSessions(sites: readonly Site[] = this.members, timeout: Millis = ms(30_000)): Promise<void> {
    for (const site of sites) await this.bird.control.waitEstablished(SITE[site].protocol, timeout);
  }

  startSampler(): Promise<AnnouncementSampler<Site>> {
    return AnnouncementSampler.start<Site>({ socketPath: this.bird.socketPath, prefixes: [WEB, DB], siteOf: siteOfNextHop });
  }

  /**
   * The usual start of a scenario file: the lab, a fresh quorum server, every site's agent,
   * BIRD's sessions up, and the sampler running (`beforeAgents` runs once the server is up).
   */
  static async up(
    options: ClusterLabOptions,
    beforeAgents?: (lab: ClusterLab) => Promise<void>,
  ): Promise<{ lab: ClusterLab; sampler: AnnouncementSampler<Site> }> {
    const lab = await ClusterLab.create(options);
    try {
      await lab.startQuorumServer({ fresh: true });
      await beforeAgents?.(lab);
      await Promise.all(lab.members.map((s) => lab.startAgent(s)));
      // Agents that serve by ARP only run no speaker: no sessions to wait for.
      const vip = options.agents?.vip;
      if (!vip?.only || vip.via.includes('bgp')) await lab.waitSessions();
      lab.sampler = await lab.startSampler();
      return { lab, sampler: lab.sampler };
    } catch (err) {
      await lab.teardown();
      throw err;
    }
  }

  /** Stops the sampler (saying how many samples it took and its longest gap), then removes everything. */
  async teardown(): Promise<void> {
    if (this.sampler) {
      await this.sampler.stop();
      console.info(`${this.options.tag}: ${this.sampler.samples.length} BIRD samples, longest gap ${this.sampler.maxGap} ms`);
    }
    await this.lab.teardown();
  }
}

export function siteOfNextHop(address: string): Site | undefined {
  return THREE_SITES.find((s) => SITE[s].address === address);
}
