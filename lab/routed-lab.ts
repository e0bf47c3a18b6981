/**
 * The routed lab on network namespaces (issue 5): the namespace twin of docker-compose.yml,
 * built from the same description, config/lab/topology.yaml (diagram there).
 *
 *   - one namespace per node, one veth pair per network (interfaces named as in the topology);
 *   - FRR on the routers (lab/frr.ts), each router's frr.conf applied as committed;
 *   - per run, the node folders of config/lab are copied into a temp dir (their relative
 *     paths — certs/, state/, gobgpd.toml — then resolve there) and `quorate certs` makes
 *     the certificates; the files themselves are used unchanged;
 *   - on each server: the service addresses on its loopback, one demo service per service
 *     listening on its address (answering `<site> <service>`), and `quorate agent`, which
 *     runs gobgpd; the site router opens the eBGP session;
 *   - the quorum server on its segment, the client on its own.
 *
 * Queries answer what a user would look at: the core's OSPF route for a service (which site
 * router it points to), what the client gets from a service address, the BGP sessions at the
 * site routers. Faults are plain functions (the show, issue 5 item 4, sequences them).
 * `teardown()` removes namespaces, processes, temp dirs and FRR's crash-log dirs.
 */
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ms, type Millis } from '../src/core/duration.js';
import { nodeId, type NodeId } from '../src/core/ids.js';
import { AgentProcess, quorateBin } from './agent-lab.js';
import { FrrInstance } from './frr.js';
import { Lab, run, type Namespace } from './netns.js';
import { dropBetween, dropHost, healRouterFault } from './routed-lab-faults.js';
import {
  loadTopology, nodeOfKind, router, server, service, SITES,
  type LabNode, type RouterNode, type ServerNode, type Site, type Topology,
} from './routed-lab-topology.js';
import { startService, type ServiceInstance } from './service.js';
import { waitUntil } from './wait.js';

export type { Site } from './routed-lab-topology.js';
export { SITES } from './routed-lab-topology.js';

/** The services of the lab, by name. */
export type LabServiceName = 'web' | 'db';
export const LAB_SERVICES: readonly LabServiceName[] = ['web', 'db'];

export interface RoutedLabOptions {
  /** Short, unique per test file (namespace names). */
  tag: string;
  /** Default: config/lab/topology.yaml of this repository. */
  topology?: Topology;
}

/** One next hop of a route in the core's table, with the site router it leads to. */
export interface CoreNextHop {
  address: string;
  interface: string;
  /** The router that owns `address`, if it is a lab router. */
  router?: string;
  /** That router's site (the core itself has none). */
  site?: Site;
}

/** The core's route for a prefix, as `show ip route PREFIX json` reports the selected one. */
export interface CoreRoute {
  prefix: string;
  /** `ospf` when learned through OSPF (the only way the core learns service prefixes). */
  protocol: string;
  nextHops: CoreNextHop[];
}

/** What the client got from a service address. */
export type ClientAnswer =
  | { ok: true; body: string; site?: Site }
  | { ok: false; error: string };

/** A BGP session at a site router, towards its server's gobgpd. */
export interface BgpSession {
  neighbor: string;
  /** FRR's state name: `Established`, `Active`, `Connect`, `Idle`, … */
  state: string;
  /** Prefixes accepted from the server (after the prefix list). */
  prefixesReceived: number;
  /** How many times the session came up, and went down, since the router started. */
  established: number;
  dropped: number;
  /**
   * Why the session last went down: the NOTIFICATION's reason when one was sent or received
   * (`Hold Timer Expired`, …), else FRR's reset cause (`Peer closed the session`, …).
   */
  lastResetReason?: string;
  /** The negotiated hold time while established. */
  holdTime?: Millis;
}

/** One look at the whole lab: what `lab status` prints and what the show samples. */
export interface RoutedLabSnapshot {
  /** The core's OSPF route for each service, by site (empty: no route). */
  core: Record<LabServiceName, Site[]>;
  /** What the client got from each service address. */
  client: Record<LabServiceName, ClientAnswer>;
  sessions: Record<Site, BgpSession>;
  /** Which lab processes run. */
  running: { agents: Record<Site, boolean>; services: Record<Site, Record<LabServiceName, boolean>>; quorumServer: boolean };
}

export interface SiteParts {
  server: ServerNode;
  ns: Namespace;
  router: RouterNode;
  routerNs: Namespace;
  frr: FrrInstance;
  /** This run's copy of the server's config folder. */
  dir: string;
  services: Record<LabServiceName, ServiceInstance>;
  agent?: AgentProcess;
}

interface FrrShowRoute {
  [prefix: string]: { prefix: string; protocol: string; selected?: boolean; nexthops?: { ip?: string; interfaceName?: string; active?: boolean }[] }[];
}

/** `show bgp neighbors ADDRESS json`, the fields the lab reads. */
interface FrrBgpNeighbors {
  [address: string]: {
    bgpState?: string;
    connectionsEstablished?: number;
    connectionsDropped?: number;
    lastResetDueTo?: string;
    lastNotificationReason?: string;
    bgpTimerHoldTimeMsecs?: number;
    addressFamilyInfo?: { ipv4Unicast?: { acceptedPrefixCounter?: number } };
  };
}

export class RoutedLab {
  readonly topology: Topology;
  readonly namespaces = new Map<string, Namespace>();
  readonly frr = new Map<string, FrrInstance>();
  readonly sites = {} as Record<Site, SiteParts>;
  /** This run's temp dir: copies of the config folders, certs, state. */
  runDir!: string;
  quorumServer?: AgentProcess;
  private quorumServerConfig!: string;
  private cutApplied = false;

  private constructor(readonly lab: Lab, options: RoutedLabOptions) {
    this.topology = options.topology ?? loadTopology();
  }

  /**
   * Builds the lab and starts everything: routers, quorum server, services, agents. Resolves
   * once every site router's session is up and the core routes both services (web to both
   * sites, db to NY, its higher priority). On any failure the lab is removed.
   */
  static async up(options: RoutedLabOptions, timeout: Millis = ms(45_000)): Promise<RoutedLab> {
    return Lab.build(options.tag, async (lab) => {
      const self = new RoutedLab(lab, options);
      await self.build();
      await self.startQuorumServer({ fresh: true });
      await Promise.all(SITES.map((s) => self.startAgent(s)));
      await self.waitConverged(timeout);
      return self;
    });
  }

  /** Removes everything this lab made. */
  teardown(): Promise<void> {
    return this.lab.teardown();
  }

  private async build(): Promise<void> {
    const { lab, topology } = this;
    this.runDir = await lab.tempDir('routed');
    for (const node of topology.nodes) {
      const ns = await lab.namespace(node.name);
      this.namespaces.set(node.name, ns);
      // Routers forward; no reverse-path filter second-guesses ECMP or the lab's asymmetry.
      await ns.exec('sysctl', ['-q', '-w', `net.ipv4.ip_forward=${node.kind === 'router' ? 1 : 0}`,
        'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
      // ECMP by ports too (the default hashes addresses only): one client's connections to
      // anycast web then spread over both sites, so the show sees both answer.
      if (node.kind === 'router') await ns.exec('sysctl', ['-q', '-w', 'net.ipv4.fib_multipath_hash_policy=1']);
    }
    for (const net of topology.networks) {
      const ends = topology.nodes.flatMap((node) => node.interfaces.filter((i) => i.network === net.name).map((i) => ({ node, i })));
      if (ends.length !== 2) throw new Error(`network ${net.name} has ${ends.length} members; the namespace twin makes point-to-point veths only`);
      const [a, b] = ends as [(typeof ends)[0], (typeof ends)[0]];
      await lab.veth(
        { ns: this.ns(a.node.name), device: a.i.name, addresses: [a.i.cidr] },
        { ns: this.ns(b.node.name), device: b.i.name, addresses: [b.i.cidr] },
      );
    }
    for (const node of topology.nodes) {
      if ('gateway' in node) await this.ns(node.name).addRoute('default', 'via', node.gateway);
    }

    // Certificates for the cluster's nodes and the quorum server, shared by every copy.
    const certs = join(this.runDir, 'certs');
    const qs = nodeOfKind(topology, 'quorum-server');
    const servers = SITES.map((s) => server(topology, s));
    await run(process.execPath, [quorateBin(), 'certs', '--dir', certs, '--cluster', topology.cluster,
      ...servers.flatMap((s) => ['--node', s.nodeId]), '--server', '--address', qs.interfaces[0]!.address]);
    const copyConfig = async (node: LabNode & { config: string }): Promise<string> => {
      const dir = join(this.runDir, node.config);
      await cp(join(topology.dir, node.config), dir, { recursive: true });
      await symlink(certs, join(dir, 'certs'));
      await mkdir(join(dir, 'state'), { recursive: true });
      return dir;
    };

    for (const node of topology.nodes) {
      if (node.kind !== 'router') continue;
      const frr = await FrrInstance.start(lab, this.ns(node.name), {
        name: node.name, configFile: join(topology.dir, node.config, 'frr.conf'), daemons: node.daemons,
      });
      this.frr.set(node.name, frr);
    }

    this.quorumServerConfig = join(await copyConfig(qs), 'server.yaml');
    for (const site of SITES) {
      const srv = server(topology, site);
      const ns = this.ns(srv.name);
      for (const svc of topology.services) await ns.addAddress('lo', `${svc.address}/32`);
      const dir = await copyConfig(srv);
      const services = {} as Record<LabServiceName, ServiceInstance>;
      for (const name of LAB_SERVICES) {
        const svc = service(topology, name);
        services[name] = await startService(lab, ns, { host: svc.address, port: svc.port, body: `${site} ${name}` });
      }
      this.sites[site] = { server: srv, ns, router: router(topology, srv.router), routerNs: this.ns(srv.router), frr: this.frrOf(srv.router), dir, services };
    }
  }

  // ---- parts ---------------------------------------------------------------------------

  ns(nodeName: string): Namespace {
    const ns = this.namespaces.get(nodeName);
    if (!ns) throw new Error(`no namespace for node ${nodeName}`);
    return ns;
  }

  frrOf(routerName: string): FrrInstance {
    const frr = this.frr.get(routerName);
    if (!frr) throw new Error(`no FRR runs on ${routerName}`);
    return frr;
  }

  agent(site: Site): AgentProcess {
    const agent = this.sites[site].agent;
    if (!agent) throw new Error(`no agent runs at ${site}`);
    return agent;
  }

  /** Starts `quorate agent` at `site` with its committed agent.yaml; resolves once it talks to its gobgpd. */
  async startAgent(site: Site): Promise<AgentProcess> {
    const parts = this.sites[site];
    if (parts.agent?.process.running) throw new Error(`the agent at ${site} already runs`);
    const proc = await parts.ns.spawn(`agent-${site}`, process.execPath, [quorateBin(), 'agent', '--config', join(parts.dir, 'agent.yaml')]);
    const agent = new AgentProcess(proc);
    parts.agent = agent;
    await agent.waitForLog(/^connected to gobgpd$/);
    return agent;
  }

  /**
   * Starts `quorate server`. `fresh`: first write a state file holding no lease, as a server
   * that granted nothing would have left (no restart wait); otherwise it resumes its file.
   */
  async startQuorumServer(opts: { fresh?: boolean } = {}): Promise<AgentProcess> {
    if (this.quorumServer?.process.running) throw new Error('the quorum server already runs');
    const qs = nodeOfKind(this.topology, 'quorum-server');
    if (opts.fresh) {
      await writeFile(join(this.runDir, qs.config, 'state', 'quorum-server.json'),
        JSON.stringify({ format: 'quorate-quorum-server-state', version: 1, writtenAt: Date.now(), leases: [] }));
    }
    const proc = await this.ns(qs.name).spawn('quorum-server', process.execPath, [quorateBin(), 'server', '--config', this.quorumServerConfig]);
    this.quorumServer = new AgentProcess(proc);
    await this.quorumServer.waitForLog(/^quorum server listening$/);
    return this.quorumServer;
  }

  /**
   * The partition the quorum server granted the cluster's lease to last, from its state file
   * (kept after the lease ends: on a split with equal votes the server prefers it). Undefined:
   * it never granted one.
   */
  async quorumServerLastGrant(): Promise<NodeId[] | undefined> {
    const qs = nodeOfKind(this.topology, 'quorum-server');
    let text: string;
    try {
      text = await readFile(join(this.runDir, qs.config, 'state', 'quorum-server.json'), 'utf8');
    } catch {
      return undefined;
    }
    const state = JSON.parse(text) as { leases?: { cluster?: string; partition?: string[] }[] };
    const record = state.leases?.find((l) => l.cluster === this.topology.cluster);
    return record?.partition?.map((id) => nodeId(id));
  }

  /** Where the quorum server's log stands now: pass it to waitForGrant to see only later grants. */
  quorumServerLogMark(): number {
    return this.quorumServer?.logs.length ?? 0;
  }

  /**
   * Waits for the quorum server to grant the cluster's lease after log index `from`, and
   * returns the grant's message (`lease of payments granted to partition [ny-1]: …`). A split's
   * winner serves again only after this grant.
   */
  async waitForGrant(from: number, timeout: Millis = ms(20_000)): Promise<string> {
    const server = this.quorumServer;
    if (!server) throw new Error('no quorum server runs');
    const line = await server.waitForLog(/^lease of .* granted to partition/, timeout, from);
    return line.msg;
  }

  // ---- queries -------------------------------------------------------------------------

  /** The core's selected route for a service's prefix (undefined: none). */
  async coreRoute(svc: LabServiceName): Promise<CoreRoute | undefined> {
    const prefix = service(this.topology, svc).prefix.key;
    const core = this.frrOf('core');
    const table = await core.json<FrrShowRoute>(`show ip route ${prefix} json`);
    const entry = (table[prefix] ?? []).find((r) => r.selected);
    if (!entry) return undefined;
    return {
      prefix,
      protocol: entry.protocol,
      nextHops: (entry.nexthops ?? []).filter((h) => h.active !== false && h.ip).map((h) => {
        const owner = this.topology.nodes.find((n) => n.kind === 'router' && n.interfaces.some((i) => i.address === h.ip));
        return {
          address: h.ip!,
          interface: h.interfaceName ?? '',
          ...(owner ? { router: owner.name } : {}),
          ...(owner?.kind === 'router' && owner.site ? { site: owner.site } : {}),
        };
      }),
    };
  }

  /** The sites the core's OSPF route for `svc` leads to (empty: no OSPF route). */
  async coreSites(svc: LabServiceName): Promise<Set<Site>> {
    const route = await this.coreRoute(svc);
    if (route?.protocol !== 'ospf') return new Set();
    return new Set(route.nextHops.map((h) => h.site).filter((s): s is Site => s !== undefined));
  }

  /** Waits until the core's OSPF route for `svc` leads to exactly `sites`. The bound is for the failure message. */
  waitCoreSites(svc: LabServiceName, sites: readonly Site[], timeout: Millis = ms(30_000)): Promise<Set<Site>> {
    return waitUntil(async () => {
      const now = await this.coreSites(svc);
      return now.size === sites.length && sites.every((s) => now.has(s)) ? now : undefined;
    }, { timeout, what: `the core's OSPF route for ${svc} via exactly [${sites.join(',')}]` });
  }

  /** An HTTP GET of `http://<service address>/` from the client (curl, 1 s limit). */
  async clientGet(svc: LabServiceName, timeout: Millis = ms(1000)): Promise<ClientAnswer> {
    const s = service(this.topology, svc);
    const client = this.ns(nodeOfKind(this.topology, 'client').name);
    const url = `http://${s.address}${s.port === 80 ? '' : `:${s.port}`}/`;
    const result = await client.exec('curl', ['-sS', '--max-time', String(timeout / 1000), url], { allowFailure: true, timeout: ms(timeout + 5000) });
    if (result.code !== 0) return { ok: false, error: result.stderr.trim() || `curl exit ${result.code}` };
    const body = result.stdout.trim();
    const site = SITES.find((x) => body === `${x} ${svc}`);
    return { ok: true, body, ...(site ? { site } : {}) };
  }

  /** The site router's session with its server's gobgpd. */
  async bgpSession(site: Site): Promise<BgpSession> {
    const parts = this.sites[site];
    const neighbor = parts.server.interfaces[0]!.address;
    const peer = (await parts.frr.json<FrrBgpNeighbors>(`show bgp neighbors ${neighbor} json`))[neighbor] ?? {};
    const state = peer.bgpState ?? 'unknown';
    const notified = peer.lastResetDueTo?.startsWith('BGP Notification') ?? false;
    const lastResetReason = notified ? (peer.lastNotificationReason ?? peer.lastResetDueTo) : peer.lastResetDueTo;
    return {
      neighbor,
      state,
      prefixesReceived: peer.addressFamilyInfo?.ipv4Unicast?.acceptedPrefixCounter ?? 0,
      established: peer.connectionsEstablished ?? 0,
      dropped: peer.connectionsDropped ?? 0,
      ...(lastResetReason ? { lastResetReason } : {}),
      ...(state === 'Established' && peer.bgpTimerHoldTimeMsecs !== undefined ? { holdTime: ms(peer.bgpTimerHoldTimeMsecs) } : {}),
    };
  }

  /** Every site router's session, by site. */
  async bgpSessions(): Promise<Record<Site, BgpSession>> {
    const out = {} as Record<Site, BgpSession>;
    for (const site of SITES) out[site] = await this.bgpSession(site);
    return out;
  }

  async waitSessions(timeout: Millis = ms(30_000)): Promise<void> {
    for (const site of SITES) {
      await waitUntil(async () => (await this.bgpSession(site)).state === 'Established', { timeout, what: `${site}'s BGP session Established` });
    }
  }

  /** Both sessions up; the core routes web to both sites and db to NY. */
  async waitConverged(timeout: Millis = ms(30_000)): Promise<void> {
    await this.waitSessions(timeout);
    await this.waitCoreSites('web', SITES, timeout);
    await this.waitCoreSites('db', ['ny'], timeout);
  }

  /** Everything at once: the core's routes, the client's answers, sessions, processes. */
  async snapshot(): Promise<RoutedLabSnapshot> {
    const core = {} as Record<LabServiceName, Site[]>;
    const client = {} as Record<LabServiceName, ClientAnswer>;
    for (const svc of LAB_SERVICES) {
      core[svc] = [...(await this.coreSites(svc))].sort();
      client[svc] = await this.clientGet(svc);
    }
    const agents = {} as Record<Site, boolean>;
    const services = {} as Record<Site, Record<LabServiceName, boolean>>;
    for (const site of SITES) {
      agents[site] = this.sites[site].agent?.process.running ?? false;
      services[site] = { web: this.sites[site].services.web.process.running, db: this.sites[site].services.db.process.running };
    }
    return { core, client, sessions: await this.bgpSessions(), running: { agents, services, quorumServer: this.quorumServer?.process.running ?? false } };
  }

  // ---- faults --------------------------------------------------------------------------

  /** The service dies (SIGKILL) at `site`; its agent sees the check fail and withdraws. */
  async killService(site: Site, svc: LabServiceName): Promise<void> {
    const instance = this.sites[site].services[svc];
    if (instance.process.running) await instance.kill();
  }

  /** Starts a dead service again (same address and port). */
  async restartService(site: Site, svc: LabServiceName): Promise<void> {
    const parts = this.sites[site];
    if (parts.services[svc].process.running) return;
    const s = service(this.topology, svc);
    parts.services[svc] = await startService(this.lab, parts.ns, { host: s.address, port: s.port, body: `${site} ${svc}` });
  }

  /**
   * The whole server at `site` dies as in a power loss: its router drops all its traffic and
   * no session is closed, so the router's hold timer (3 s) ends the session. Its heartbeats
   * and quorum requests are lost too.
   */
  async killServer(site: Site): Promise<void> {
    const { server: srv, router: rtr, routerNs } = this.sites[site];
    const lan = rtr.interfaces.find((i) => i.network === srv.interfaces[0]!.network)!;
    await dropHost(routerNs, srv.interfaces[0]!.address, lan.name);
  }

  async reviveServer(site: Site): Promise<void> {
    await healRouterFault(this.sites[site].routerNs, 'server');
  }

  /**
   * Cuts the inter-site link: down at both ends, and the site routers drop forwarded
   * traffic between the two site LANs (topology.yaml `cut` says why). Clients and the quorum
   * server still reach both sites.
   */
  async cutInterSite(): Promise<void> {
    const { cut } = this.topology;
    for (const { node, device } of this.cutLinkEnds()) await this.ns(node).ip(['link', 'set', 'dev', device, 'down']);
    const subnet = (name: string): string => this.topology.networks.find((x) => x.name === name)!.subnet.key;
    for (const r of this.routersOn(cut.between)) await dropBetween(this.ns(r), subnet(cut.between[0]), subnet(cut.between[1]));
    this.cutApplied = true;
  }

  async healInterSite(): Promise<void> {
    for (const r of this.routersOn(this.topology.cut.between)) await healRouterFault(this.ns(r), 'cut');
    for (const { node, device } of this.cutLinkEnds()) await this.ns(node).linkUp(device);
    this.cutApplied = false;
  }

  /** SIGTERM: the quorum server stops (its state file keeps its grants). */
  async stopQuorumServer(): Promise<void> {
    await this.quorumServer?.process.stop(ms(5000));
  }

  /** SIGKILL the agent at `site` (its guard takes gobgpd down with it); resolves once it has exited. */
  async killAgent(site: Site): Promise<void> {
    const agent = this.sites[site].agent;
    if (!agent?.process.running) return;
    agent.process.kill('SIGKILL');
    await agent.process.exited;
  }

  /** The PID of the gobgpd running in `site`'s server namespace (undefined: none). */
  async gobgpdPid(site: Site): Promise<number | undefined> {
    for (const pid of await this.sites[site].ns.pids()) {
      const comm = await run('cat', [`/proc/${pid}/comm`], { allowFailure: true });
      if (comm.stdout.trim() === 'gobgpd') return pid;
    }
    return undefined;
  }

  /**
   * gobgpd at `site` dies (SIGKILL by PID, as in a crash); the agent starts a new one and
   * re-announces. Resolves with the new PID once it runs.
   */
  async restartGobgpd(site: Site, timeout: Millis = ms(20_000)): Promise<number> {
    const old = await this.gobgpdPid(site);
    if (old === undefined) throw new Error(`no gobgpd runs at ${site}`);
    process.kill(old, 'SIGKILL');
    return waitUntil(async () => {
      const now = await this.gobgpdPid(site);
      return now !== undefined && now !== old ? now : undefined;
    }, { timeout, what: `a new gobgpd at ${site}` });
  }

  /**
   * Undoes every fault: router filters and the cut link, dead services, dead agents, a
   * stopped quorum server (resuming its state file). Does not wait for the routes: call
   * waitConverged() for that.
   */
  async healAll(): Promise<void> {
    for (const node of this.topology.nodes) if (node.kind === 'router') await healRouterFault(this.ns(node.name));
    if (this.cutApplied) await this.healInterSite();
    else for (const { node, device } of this.cutLinkEnds()) await this.ns(node).linkUp(device);
    if (!this.quorumServer?.process.running) await this.startQuorumServer();
    for (const site of SITES) {
      for (const svc of LAB_SERVICES) await this.restartService(site, svc);
      if (!this.sites[site].agent?.process.running) await this.startAgent(site);
    }
  }

  private cutLinkEnds(): { node: string; device: string }[] {
    return this.topology.nodes.flatMap((n) => n.interfaces.filter((i) => i.network === this.topology.cut.link).map((i) => ({ node: n.name, device: i.name })));
  }

  private routersOn(networks: readonly string[]): string[] {
    return this.topology.nodes
      .filter((n) => n.kind === 'router' && n.interfaces.some((i) => networks.includes(i.network)))
      .map((n) => n.name);
  }
}
