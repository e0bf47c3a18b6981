/**
 * The contract lab: /work/shared/contract/agent.yaml and server.yaml run as written. Each is
 * copied unchanged into a temp dir next to the files it names (certificates from the real
 * `quorate certs`, and the `gobgpd-ny.toml` the agent runs), and the namespaces give them the
 * addresses they state:
 *
 *   ny  eth0 192.0.2.1/24 2001:db8:1::1/64 (+ 192.0.2.4 for iBGP)   agent ny-1, its gobgpd AS 65001,
 *       listeners 127.0.0.1:8080 (HTTP /healthz), :53 and :5432      and /usr/local/bin/check-dns
 *   nj  eth0 198.51.100.1/24 2001:db8:2::1/64                       the twin nj-1 (started on demand):
 *                                                                   the same file, its names and addresses
 *   rtr eth0 192.0.2.2/24 (+ .3 for iBGP) 2001:db8:1::2/64           BIRD: eBGP AS 65000 to both sites,
 *       eth1 203.0.113.1/24, eth2 198.51.100.254/24 2001:db8:2::2/64 iBGP AS 65001 to ny; forwards
 *   qs  eth0 203.0.113.250/24                                       `quorate server`
 *
 * Until nj-1 starts, ny sees 1 of 2 votes: a tie the quorum server breaks.
 *
 * The files keep their absolute host paths (/usr/local/bin/check-dns, the default state dir
 * /var/lib/quorate/<node>, the server's /var/lib/quorate/quorum-server.json). Writing them on
 * this host is not ours to do, so each agent and the server run in a private mount namespace
 * where temp dirs are bind-mounted over /usr/local/bin and /var/lib. /var/lib as a whole, not
 * /var/lib/quorate: a bind mount needs its target to exist, and creating /var/lib/quorate on
 * the host is exactly the write we avoid (neither process reads anything else under /var/lib).
 * The operator's commands (`status`, `drain`, `undrain`) join an agent's mount and network
 * namespaces by its PID, as they would share its host.
 */
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ms, type Millis } from '../src/core/duration.js';
import { parsePrefix } from '../src/core/prefix.js';
import { renderState, systemServerClock } from '../src/quorum-server/state-file.js';
import {
  AgentProcess, EBGP, IBGP, ROUTER_AS, ROUTER_IBGP_V4, ROUTER_V4, SERVER_AS, SERVER_IBGP_V4, quorateBin,
} from './agent-lab.js';
import { startBird, type BirdInstance, type BirdRoute } from './bird.js';
import { gobgpdConfig, type GobgpdNeighbor } from './gobgpd-config.js';
import { Lab, run, type Namespace, type RunResult } from './netns.js';
import { startService, type ServiceInstance } from './service.js';

export const CONTRACT_DIR = '/work/shared/contract';
export const QUORUM_SERVER_V4 = '203.0.113.250';
const ROUTER_QS_SIDE_V4 = '203.0.113.1';

/** What the contract's three services check, inside each site (loopback is per namespace). */
export const PAYMENTS_API_PORT = 8080;
export const DNS_PORT = 53;
export const DB_PORT = 5432;

export type SiteName = 'ny' | 'nj';

/** One site as the contract (or its twin) states it, and the router's side of its link. */
export interface SiteFacts {
  node: string;
  v4: string;
  v6: string;
  /** The site's subnet, which the other site and the quorum server route to via the router. */
  subnet: string;
  routerV4: string;
  routerV6: string;
  /** The router's interface towards the site. */
  routerDevice: string;
  /** BIRD's eBGP protocol for the site's gobgpd. */
  protocol: string;
  gobgpdToml: string;
}

export const SITE: Record<SiteName, SiteFacts> = {
  ny: { node: 'ny-1', v4: '192.0.2.1', v6: '2001:db8:1::1', subnet: '192.0.2.0/24', routerV4: ROUTER_V4, routerV6: '2001:db8:1::2', routerDevice: 'eth0', protocol: EBGP, gobgpdToml: 'gobgpd-ny.toml' },
  nj: { node: 'nj-1', v4: '198.51.100.1', v6: '2001:db8:2::1', subnet: '198.51.100.0/24', routerV4: '198.51.100.254', routerV6: '2001:db8:2::2', routerDevice: 'eth2', protocol: 'site_nj', gobgpdToml: 'gobgpd-nj.toml' },
};

/** The site whose eBGP next hop this is (BIRD's view of who announces). */
export function siteOfNextHop(address: string | undefined): SiteName | undefined {
  return (Object.keys(SITE) as SiteName[]).find((s) => SITE[s].v4 === address || SITE[s].v6 === address);
}

/**
 * nj-1's file: agent.yaml with only its names and addresses changed, as the contract's first
 * lines say ("Its twin at New Jersey (nj-1) runs the same file with its own names and
 * addresses"). Each edit must match exactly once, so a changed contract fails loudly here
 * instead of yielding a half-edited twin.
 */
export function twinConfig(contract: string): string {
  const edits: [string, string][] = [
    ['  id: ny-1\n', '  id: nj-1\n'],
    [`listen: ${SITE.ny.v4}:7480`, `listen: ${SITE.nj.v4}:7480`],
    [`- id: nj-1\n      address: ${SITE.nj.v4}:7480`, `- id: ny-1\n      address: ${SITE.ny.v4}:7480`],
    ['cert: certs/ny-1.pem', 'cert: certs/nj-1.pem'],
    ['key: certs/ny-1.key', 'key: certs/nj-1.key'],
    [`config: ${SITE.ny.gobgpdToml}`, `config: ${SITE.nj.gobgpdToml}`],
    [`ipv4: ${SITE.ny.v4}\n`, `ipv4: ${SITE.nj.v4}\n`],
    [`ipv6: ${SITE.ny.v6}\n`, `ipv6: ${SITE.nj.v6}\n`],
  ];
  let text = contract;
  for (const [from, to] of edits) {
    const count = text.split(from).length - 1;
    if (count !== 1) throw new Error(`twin of agent.yaml: expected "${from.trim()}" once, found it ${count} times`);
    text = text.replace(from, to);
  }
  return text;
}

/** A bind mount made inside a private mount namespace before the command runs. */
export interface BindMount {
  source: string;
  target: string;
}

/**
 * A command line that runs `argv` in a new mount namespace (nothing propagates back to the
 * host) with `mounts` in place. Paths travel as positional parameters, never spliced into the
 * script, so no path needs quoting. `exec` keeps the PID: the lab's PID is the command's.
 */
export function inPrivateMounts(mounts: readonly BindMount[], argv: readonly string[]): { command: string; args: string[] } {
  const steps = mounts.map((_, i) => `mount --bind "$${2 * i + 1}" "$${2 * i + 2}"`);
  const script = [...steps, `shift ${2 * mounts.length}`, 'exec "$@"'].join(' && ');
  return {
    command: 'unshare',
    args: ['--mount', '--propagation', 'private', 'sh', '-c', script, 'contract-mounts', ...mounts.flatMap((m) => [m.source, m.target]), ...argv],
  };
}

/** One site's namespace, its copy of the agent config and what the copy names, its agent. */
export interface ContractSite {
  readonly name: SiteName;
  readonly facts: SiteFacts;
  readonly ns: Namespace;
  /** The copy of agent.yaml (nj: its twin) with certs/ and the gobgpd TOML beside it. */
  readonly dir: string;
  readonly config: string;
  /** Mounted over /usr/local/bin for the agent: holds check-dns. */
  readonly binDir: string;
  /** Each check-dns run appends its arguments here (a host path, outside the mounts). */
  readonly checkDnsLog: string;
  /** Mounted over /var/lib for the agent: its state dir is `quorate/<node>` in here. */
  readonly varLib: string;
  /** The listeners the checks probe; a test that restarts one puts the new instance here. */
  services: { paymentsApi: ServiceInstance; dns: ServiceInstance; db: ServiceInstance };
  agent?: AgentProcess;
}

export class ContractLab {
  readonly sites = {} as Record<SiteName, ContractSite>;
  router!: Namespace;
  qs!: Namespace;
  bird!: BirdInstance;
  /** The copy of server.yaml and its certs/. */
  serverDir!: string;
  /** Mounted over /var/lib for the quorum server: its state file is `quorate/quorum-server.json`. */
  serverVarLib!: string;
  server?: AgentProcess;

  private constructor(readonly lab: Lab) {}

  static create(tag: string): Promise<ContractLab> {
    return Lab.build(tag, async (lab) => {
      const self = new ContractLab(lab);
      await self.build();
      return self;
    });
  }

  get serverConfig(): string {
    return join(this.serverDir, 'server.yaml');
  }

  /** A site's state dir as the host sees it (agent.yaml's default, under the mount). */
  stateDir(site: SiteName): string {
    return join(this.sites[site].varLib, 'quorate', SITE[site].node);
  }

  private async build(): Promise<void> {
    const { lab } = this;
    this.router = await lab.namespace('rtr');
    this.qs = await lab.namespace('qs');
    await lab.veth(
      { ns: this.qs, device: 'eth0', addresses: [`${QUORUM_SERVER_V4}/24`] },
      { ns: this.router, device: 'eth1', addresses: [`${ROUTER_QS_SIDE_V4}/24`] },
    );
    await this.router.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    for (const site of Object.values(SITE)) await this.qs.addRoute(site.subnet, 'via', ROUTER_QS_SIDE_V4);

    const certs = await lab.tempDir('certs');
    await run(process.execPath, [quorateBin(), 'certs', '--dir', certs, '--cluster', 'payments',
      '--node', SITE.ny.node, '--node', SITE.nj.node, '--server', '--address', QUORUM_SERVER_V4]);
    this.serverDir = await lab.tempDir('server');
    await placeFiles(certs, join(this.serverDir, 'certs'), ['ca.pem', 'quorum-server.pem', 'quorum-server.key']);
    await copyFile(join(CONTRACT_DIR, 'server.yaml'), this.serverConfig);
    this.serverVarLib = await lab.tempDir('server-var-lib');
    await mkdir(join(this.serverVarLib, 'quorate'));

    const contract = await readFile(join(CONTRACT_DIR, 'agent.yaml'), 'utf8');
    this.sites.ny = await this.buildSite('ny', contract, certs);
    this.sites.nj = await this.buildSite('nj', twinConfig(contract), certs);

    this.bird = await startBird(lab, this.router, {
      routerId: ROUTER_V4,
      neighbors: [
        ...(Object.values(SITE).map((site) => ({
          name: site.protocol, address: site.v4, localAddress: site.routerV4, localAs: ROUTER_AS, peerAs: SERVER_AS,
        }))),
        // local-pref crosses iBGP only: a second session to ny shows the one the service sets.
        { name: IBGP, address: SERVER_IBGP_V4, localAddress: ROUTER_IBGP_V4, localAs: SERVER_AS, peerAs: SERVER_AS },
      ],
    });
  }

  private async buildSite(name: SiteName, configText: string, certs: string): Promise<ContractSite> {
    const { lab } = this;
    const facts = SITE[name];
    const other = SITE[name === 'ny' ? 'nj' : 'ny'];
    const ns = await lab.namespace(name);
    // ny also holds the iBGP session's address (BIRD allows one session per neighbor address).
    const extra = name === 'ny' ? [`${SERVER_IBGP_V4}/24`] : [];
    const routerExtra = name === 'ny' ? [`${ROUTER_IBGP_V4}/24`] : [];
    await lab.veth(
      { ns, device: 'eth0', addresses: [`${facts.v4}/24`, ...extra, `${facts.v6}/64`] },
      { ns: this.router, device: facts.routerDevice, addresses: [`${facts.routerV4}/24`, ...routerExtra, `${facts.routerV6}/64`] },
    );
    await ns.addRoute(`${QUORUM_SERVER_V4}/32`, 'via', facts.routerV4);
    await ns.addRoute(other.subnet, 'via', facts.routerV4);

    const dir = await lab.tempDir(`agent-${name}`);
    const config = join(dir, 'agent.yaml');
    await writeFile(config, configText);
    // Each machine gets the CA's certificate and its own pair, never the CA's key.
    await placeFiles(certs, join(dir, 'certs'), ['ca.pem', `${facts.node}.pem`, `${facts.node}.key`]);
    const neighbors: GobgpdNeighbor[] = [{ address: facts.routerV4, peerAs: ROUTER_AS, passive: true }];
    if (name === 'ny') neighbors.push({ address: ROUTER_IBGP_V4, peerAs: SERVER_AS, passive: true });
    // gobgpd 3.10 waits 5–10 s before it connects out: it listens, BIRD connects.
    await writeFile(join(dir, facts.gobgpdToml), gobgpdConfig({ as: SERVER_AS, routerId: facts.v4, neighbors }));

    const binDir = await lab.tempDir(`bin-${name}`);
    const checkDnsLog = join(await lab.tempDir(`dns-log-${name}`), 'runs');
    const checkDns = join(binDir, 'check-dns');
    // Healthy while something accepts on the DNS port: what a quick DNS check would ask
    // (bash, for its /dev/tcp).
    await writeFile(checkDns, [
      '#!/bin/bash',
      `echo "$*" >> '${checkDnsLog}'`,
      `exec 3<>/dev/tcp/127.0.0.1/${DNS_PORT} 2>/dev/null || exit 1`,
      '',
    ].join('\n'));
    await chmod(checkDns, 0o755);
    const varLib = await lab.tempDir(`var-lib-${name}`);
    await mkdir(join(varLib, 'quorate'));

    // The demo service is an HTTP server: to the tcp checks of dns and db-vip it is a TCP
    // listener like any other, and it can be stopped by PID to fail them.
    const services = {
      paymentsApi: await startService(lab, ns, { host: '127.0.0.1', port: PAYMENTS_API_PORT, body: `payments-api on ${facts.node}` }),
      dns: await startService(lab, ns, { host: '127.0.0.1', port: DNS_PORT, body: `dns on ${facts.node}` }),
      db: await startService(lab, ns, { host: '127.0.0.1', port: DB_PORT, body: `db on ${facts.node}` }),
    };
    return { name, facts, ns, dir, config, binDir, checkDnsLog, varLib, services };
  }

  /** An agent's private mounts: check-dns in /usr/local/bin, its state dir under /var/lib. */
  private agentMounts(site: ContractSite): BindMount[] {
    return [{ source: site.binDir, target: '/usr/local/bin' }, { source: site.varLib, target: '/var/lib' }];
  }

  private get serverMounts(): BindMount[] {
    return [{ source: this.serverVarLib, target: '/var/lib' }];
  }

  /** `quorate check` on a site's copy, in its namespace with its agent's mounts (so check-dns exists). */
  checkAgentConfig(name: SiteName): Promise<RunResult> {
    const site = this.sites[name];
    const { command, args } = inPrivateMounts(this.agentMounts(site), [process.execPath, quorateBin(), 'check', '-c', site.config]);
    return site.ns.exec(command, args, { allowFailure: true });
  }

  checkServerConfig(): Promise<RunResult> {
    const { command, args } = inPrivateMounts(this.serverMounts, [process.execPath, quorateBin(), 'check', '-c', this.serverConfig]);
    return this.qs.exec(command, args, { allowFailure: true });
  }

  /**
   * Starts `quorate server -c COPY/server.yaml` in qs. `fresh`: first leave the state file a
   * server that ran before and granted nothing would have (without one, a first start waits
   * lease.max plus the takeover gap before any grant: 10 s of nothing to learn here).
   * Otherwise it resumes from the file its last run wrote.
   */
  async startQuorumServer(opts: { fresh?: boolean } = {}): Promise<AgentProcess> {
    if (this.server?.process.running) throw new Error('the quorum server already runs');
    if (opts.fresh) await writeFile(join(this.serverVarLib, 'quorate', 'quorum-server.json'), renderState([], systemServerClock));
    const { command, args } = inPrivateMounts(this.serverMounts, [process.execPath, quorateBin(), 'server', '-c', this.serverConfig]);
    const proc = await this.qs.spawn('quorum-server', command, args);
    this.server = new AgentProcess(proc);
    await this.server.waitForLog(/^quorum server listening$/);
    return this.server;
  }

  async stopQuorumServer(): Promise<void> {
    await this.server?.process.stop(ms(5000));
  }

  /** Starts `quorate agent -c COPY/agent.yaml` at a site; resolves once it talks to its gobgpd. */
  async startAgent(name: SiteName): Promise<AgentProcess> {
    const site = this.sites[name];
    if (site.agent?.process.running) throw new Error(`the agent at ${name} already runs`);
    const { command, args } = inPrivateMounts(this.agentMounts(site), [process.execPath, quorateBin(), 'agent', '-c', site.config]);
    const agent = new AgentProcess(await site.ns.spawn(`agent-${site.facts.node}`, command, args));
    site.agent = agent;
    await agent.waitForLog(/^connected to gobgpd$/);
    return agent;
  }

  /** SIGTERM: the agent withdraws, releases what it holds and exits. */
  async stopAgent(name: SiteName): Promise<void> {
    await this.sites[name].agent?.process.stop(ms(5000));
  }

  /**
   * `quorate ARGS -c COPY/agent.yaml` run where an operator of the site would run it: in its
   * agent's mount and network namespaces (its state dir, its loopback).
   */
  operator(name: SiteName, ...args: string[]): Promise<RunResult> {
    const site = this.sites[name];
    const agent = site.agent;
    if (!agent?.process.running) throw new Error(`no agent runs at ${name}: the operator commands join its namespaces`);
    return run('nsenter', ['-t', String(agent.pid), '-m', '-n', process.execPath, quorateBin(), ...args, '-c', site.config], { allowFailure: true });
  }

  /** `quorate plan -c COPY/agent.yaml`: reads only the copy and what it names. */
  plan(name: SiteName, ...args: string[]): Promise<RunResult> {
    return run(process.execPath, [quorateBin(), 'plan', '-c', this.sites[name].config, ...args], { allowFailure: true });
  }

  /** BIRD's routes for `prefix`, optionally from one session. */
  routes(prefix: string, protocol?: string): Promise<BirdRoute[]> {
    return this.bird.control.showRoute(parsePrefix(prefix), protocol ? { protocol } : {});
  }

  /** Waits until BIRD holds `count` routes for `prefix`. The bound is for the failure message. */
  waitRoutes(prefix: string, count: number, timeout: Millis = ms(20_000)): Promise<BirdRoute[]> {
    return this.bird.control.waitFor(async () => {
      const routes = await this.routes(prefix);
      return routes.length === count ? routes : undefined;
    }, timeout, { what: `${count} route(s) for ${prefix} at BIRD` });
  }

  /** The sites BIRD holds an eBGP route for `prefix` from, by next hop. */
  async announcers(prefix: string): Promise<SiteName[]> {
    const routes = (await this.routes(prefix)).filter((r) => r.protocol !== IBGP);
    return routes.map((r) => siteOfNextHop(r.bgp.nextHop[0])).filter((s): s is SiteName => s !== undefined).sort();
  }

  /** Waits until exactly `sites` announce `prefix` at BIRD. */
  waitAnnouncers(prefix: string, sites: readonly SiteName[], timeout: Millis = ms(20_000)): Promise<SiteName[]> {
    const want = [...sites].sort().join(',');
    return this.bird.control.waitFor(async () => {
      const now = await this.announcers(prefix);
      return now.join(',') === want ? now : undefined;
    }, timeout, { what: `${prefix} announced by exactly [${want}] at BIRD` });
  }

  /** Waits for the BGP sessions of a site's gobgpd (ny: eBGP and iBGP). */
  async waitSessions(name: SiteName, timeout: Millis = ms(30_000)): Promise<void> {
    await this.bird.control.waitEstablished(SITE[name].protocol, timeout);
    if (name === 'ny') await this.bird.control.waitEstablished(IBGP, timeout);
  }

  /** The arguments check-dns was run with at a site, one line per run. */
  async checkDnsRuns(name: SiteName): Promise<string[]> {
    const text = await readFile(this.sites[name].checkDnsLog, 'utf8').catch(() => '');
    return text.split('\n').filter((line) => line.length > 0);
  }

  teardown(): Promise<void> {
    return this.lab.teardown();
  }
}

async function placeFiles(from: string, to: string, names: readonly string[]): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of names) await copyFile(join(from, name), join(to, name));
}
