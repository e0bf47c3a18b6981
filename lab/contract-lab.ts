/**
 * The contract lab: /work/shared/contract/agent.yaml and server.yaml run as written. Each is
 * copied unchanged into a temp dir next to the files it names (certificates from the real
 * `quorate certs`, and the `gobgpd-ny.toml` the agent runs), and the namespaces give them the
 * addresses they state:
 *
 *   ny  eth0 192.0.2.1/24 2001:db8:1::1/64 (+ 192.0.2.4 for iBGP)   agent ny-1, its gobgpd AS 65001,
 *       listeners 127.0.0.1:8080 (HTTP /healthz), :53 and :5432      and /usr/local/bin/check-dns
 *   rtr eth0 192.0.2.2/24 (+ .3 for iBGP) 2001:db8:1::2/64           BIRD: eBGP AS 65000, iBGP AS 65001
 *       eth1 203.0.113.1/24                                         forwards between ny and qs
 *   qs  eth0 203.0.113.250/24                                       `quorate server`
 *
 * nj-1 (198.51.100.1) is absent: ny sees 1 of 2 votes, a tie, and the quorum server decides.
 *
 * The files keep their absolute host paths (/usr/local/bin/check-dns, the default state dir
 * /var/lib/quorate/ny-1, the server's /var/lib/quorate/quorum-server.json). Writing them on
 * this host is not ours to do, so the agent and the server each run in a private mount
 * namespace where temp dirs are bind-mounted over /usr/local/bin and /var/lib. /var/lib as a
 * whole, not /var/lib/quorate: a bind mount needs its target to exist, and creating
 * /var/lib/quorate on the host is exactly the write we avoid (neither process reads anything
 * else under /var/lib). The operator's commands (`status`, `drain`, `undrain`) join the
 * agent's mount and network namespaces by its PID, as they would share its host.
 */
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ms, type Millis } from '../src/core/duration.js';
import { parsePrefix } from '../src/core/prefix.js';
import { renderState, systemServerClock } from '../src/quorum-server/state-file.js';
import {
  AgentProcess, EBGP, IBGP, ROUTER_AS, ROUTER_IBGP_V4, ROUTER_V4, SERVER_AS, SERVER_IBGP_V4, SERVER_V4, SERVER_V6, quorateBin,
} from './agent-lab.js';
import { startBird, type BirdInstance, type BirdRoute } from './bird.js';
import { gobgpdConfig } from './gobgpd-config.js';
import { Lab, run, type Namespace, type RunResult } from './netns.js';
import { startService, type ServiceInstance } from './service.js';

export const CONTRACT_DIR = '/work/shared/contract';
export const QUORUM_SERVER_V4 = '203.0.113.250';
const ROUTER_QS_SIDE_V4 = '203.0.113.1';
/** nj-1's site, as agent.yaml names it: routed towards the router, where nobody answers. */
const NJ_SITE = '198.51.100.0/24';

/** What the contract's three services check, inside ny (loopback is per namespace). */
export const PAYMENTS_API_PORT = 8080;
export const DNS_PORT = 53;
export const DB_PORT = 5432;

/** A bind mount made inside a private mount namespace before the command runs. */
export interface BindMount {
  source: string;
  target: string;
}

/**
 * A command line that runs `argv` in a new mount namespace (nothing propagates back to the host)
 * with `mounts` in place. Paths travel as positional parameters, never spliced into the
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

export class ContractLab {
  ny!: Namespace;
  router!: Namespace;
  qs!: Namespace;
  bird!: BirdInstance;
  /** The copy of agent.yaml and what it names (certs/, gobgpd-ny.toml). */
  agentDir!: string;
  /** The copy of server.yaml and its certs/. */
  serverDir!: string;
  /** Mounted over /usr/local/bin for the agent: holds check-dns. */
  agentBinDir!: string;
  /** Each check-dns run appends its arguments here (a host path, outside the mounts). */
  checkDnsLog!: string;
  /** Mounted over /var/lib for the agent: its state dir is `quorate/ny-1` in here. */
  agentVarLib!: string;
  /** Mounted over /var/lib for the quorum server: its state file is `quorate/quorum-server.json`. */
  serverVarLib!: string;
  services!: { paymentsApi: ServiceInstance; dns: ServiceInstance; db: ServiceInstance };
  agent?: AgentProcess;
  server?: AgentProcess;

  private constructor(readonly lab: Lab) {}

  static create(tag: string): Promise<ContractLab> {
    return Lab.build(tag, async (lab) => {
      const self = new ContractLab(lab);
      await self.build();
      return self;
    });
  }

  get agentConfig(): string {
    return join(this.agentDir, 'agent.yaml');
  }

  get serverConfig(): string {
    return join(this.serverDir, 'server.yaml');
  }

  /** The agent's state dir as the host sees it (agent.yaml's default, under the mount). */
  get agentStateDir(): string {
    return join(this.agentVarLib, 'quorate', 'ny-1');
  }

  private async build(): Promise<void> {
    const { lab } = this;
    this.ny = await lab.namespace('ny');
    this.router = await lab.namespace('rtr');
    this.qs = await lab.namespace('qs');
    await lab.veth(
      { ns: this.ny, device: 'eth0', addresses: [`${SERVER_V4}/24`, `${SERVER_IBGP_V4}/24`, `${SERVER_V6}/64`] },
      { ns: this.router, device: 'eth0', addresses: [`${ROUTER_V4}/24`, `${ROUTER_IBGP_V4}/24`, '2001:db8:1::2/64'] },
    );
    await lab.veth(
      { ns: this.qs, device: 'eth0', addresses: [`${QUORUM_SERVER_V4}/24`] },
      { ns: this.router, device: 'eth1', addresses: [`${ROUTER_QS_SIDE_V4}/24`] },
    );
    await this.router.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    await this.ny.addRoute(`${QUORUM_SERVER_V4}/32`, 'via', ROUTER_V4);
    await this.ny.addRoute(NJ_SITE, 'via', ROUTER_V4);
    await this.qs.addRoute('192.0.2.0/24', 'via', ROUTER_QS_SIDE_V4);
    await this.qs.addRoute(NJ_SITE, 'via', ROUTER_QS_SIDE_V4);

    await this.writeFiles();

    this.bird = await startBird(lab, this.router, {
      routerId: ROUTER_V4,
      neighbors: [
        { name: EBGP, address: SERVER_V4, localAddress: ROUTER_V4, localAs: ROUTER_AS, peerAs: SERVER_AS },
        // local-pref crosses iBGP only: a second session shows the one the service sets.
        { name: IBGP, address: SERVER_IBGP_V4, localAddress: ROUTER_IBGP_V4, localAs: SERVER_AS, peerAs: SERVER_AS },
      ],
    });
    // The demo service is an HTTP server: to the tcp checks of dns and db-vip it is a TCP
    // listener like any other, and it can be stopped by PID to fail them.
    this.services = {
      paymentsApi: await startService(lab, this.ny, { host: '127.0.0.1', port: PAYMENTS_API_PORT, body: 'payments-api on ny-1' }),
      dns: await startService(lab, this.ny, { host: '127.0.0.1', port: DNS_PORT, body: 'dns on ny-1' }),
      db: await startService(lab, this.ny, { host: '127.0.0.1', port: DB_PORT, body: 'db on ny-1' }),
    };
  }

  /** The two copies, the certificates, gobgpd-ny.toml, check-dns, and the /var/lib stand-ins. */
  private async writeFiles(): Promise<void> {
    const { lab } = this;
    this.agentDir = await lab.tempDir('agent');
    this.serverDir = await lab.tempDir('server');
    const issued = await lab.tempDir('certs');
    await run(process.execPath, [quorateBin(), 'certs', '--dir', issued, '--cluster', 'payments',
      '--node', 'ny-1', '--node', 'nj-1', '--server', '--address', QUORUM_SERVER_V4]);
    // Each machine gets the CA's certificate and its own pair, never the CA's key.
    await placeFiles(issued, join(this.agentDir, 'certs'), ['ca.pem', 'ny-1.pem', 'ny-1.key']);
    await placeFiles(issued, join(this.serverDir, 'certs'), ['ca.pem', 'quorum-server.pem', 'quorum-server.key']);
    await copyFile(join(CONTRACT_DIR, 'agent.yaml'), this.agentConfig);
    await copyFile(join(CONTRACT_DIR, 'server.yaml'), this.serverConfig);

    await writeFile(join(this.agentDir, 'gobgpd-ny.toml'), gobgpdConfig({
      as: SERVER_AS,
      routerId: SERVER_V4,
      // gobgpd 3.10 waits 5–10 s before it connects out: it listens, BIRD connects.
      neighbors: [
        { address: ROUTER_V4, peerAs: ROUTER_AS, passive: true },
        { address: ROUTER_IBGP_V4, peerAs: SERVER_AS, passive: true },
      ],
    }));

    this.agentBinDir = await lab.tempDir('usr-local-bin');
    this.checkDnsLog = join(await lab.tempDir('check-dns-log'), 'runs');
    const checkDns = join(this.agentBinDir, 'check-dns');
    // Healthy while something accepts on the DNS port: what a quick DNS check would ask
    // (bash, for its /dev/tcp).
    await writeFile(checkDns, [
      '#!/bin/bash',
      `echo "$*" >> '${this.checkDnsLog}'`,
      `exec 3<>/dev/tcp/127.0.0.1/${DNS_PORT} 2>/dev/null || exit 1`,
      '',
    ].join('\n'));
    await chmod(checkDns, 0o755);

    this.agentVarLib = await lab.tempDir('agent-var-lib');
    this.serverVarLib = await lab.tempDir('server-var-lib');
    await mkdir(join(this.agentVarLib, 'quorate'));
    await mkdir(join(this.serverVarLib, 'quorate'));
  }

  /** The agent's private mounts: check-dns in /usr/local/bin, its state dir under /var/lib. */
  private get agentMounts(): BindMount[] {
    return [{ source: this.agentBinDir, target: '/usr/local/bin' }, { source: this.agentVarLib, target: '/var/lib' }];
  }

  private get serverMounts(): BindMount[] {
    return [{ source: this.serverVarLib, target: '/var/lib' }];
  }

  /** `quorate check` on the agent copy, in ny with the agent's mounts (so check-dns exists). */
  checkAgentConfig(): Promise<RunResult> {
    const { command, args } = inPrivateMounts(this.agentMounts, [process.execPath, quorateBin(), 'check', '-c', this.agentConfig]);
    return this.ny.exec(command, args, { allowFailure: true });
  }

  checkServerConfig(): Promise<RunResult> {
    const { command, args } = inPrivateMounts(this.serverMounts, [process.execPath, quorateBin(), 'check', '-c', this.serverConfig]);
    return this.qs.exec(command, args, { allowFailure: true });
  }

  /**
   * Starts `quorate server -c COPY/server.yaml` in qs. `fresh`: first leave the state file a
   * server that ran before and granted nothing would have (without one, a first start waits
   * lease.max plus the takeover gap before any grant: 10 s of nothing to learn here).
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

  /** Starts `quorate agent -c COPY/agent.yaml` in ny; resolves once it talks to its gobgpd. */
  async startAgent(): Promise<AgentProcess> {
    if (this.agent?.process.running) throw new Error('the agent already runs');
    const { command, args } = inPrivateMounts(this.agentMounts, [process.execPath, quorateBin(), 'agent', '-c', this.agentConfig]);
    const proc = await this.ny.spawn('agent-ny-1', command, args);
    this.agent = new AgentProcess(proc);
    await this.agent.waitForLog(/^connected to gobgpd$/);
    return this.agent;
  }

  /**
   * `quorate ARGS -c COPY/agent.yaml` run where an operator of ny would run it: in the
   * agent's mount and network namespaces (its state dir, its loopback).
   */
  operator(...args: string[]): Promise<RunResult> {
    const pid = this.agent?.process.running ? this.agent.pid : undefined;
    if (pid === undefined) throw new Error('no agent runs: the operator commands join its namespaces');
    return run('nsenter', ['-t', String(pid), '-m', '-n', process.execPath, quorateBin(), ...args, '-c', this.agentConfig], { allowFailure: true });
  }

  /** `quorate plan -c COPY/agent.yaml`: reads only the copy and what it names. */
  plan(...args: string[]): Promise<RunResult> {
    return run(process.execPath, [quorateBin(), 'plan', '-c', this.agentConfig, ...args], { allowFailure: true });
  }

  /** BIRD's routes for `prefix`, optionally from one session (EBGP or IBGP). */
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

  async waitSessions(timeout: Millis = ms(30_000)): Promise<void> {
    await this.bird.control.waitEstablished(EBGP, timeout);
    await this.bird.control.waitEstablished(IBGP, timeout);
  }

  /** The arguments check-dns was run with, one line per run. */
  async checkDnsRuns(): Promise<string[]> {
    const text = await readFile(this.checkDnsLog, 'utf8').catch(() => '');
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
