/**
 * The ExaBGP baseline's lab: the same shape as the agent's (lab/agent-lab.ts) — a server
 * namespace with the demo service and ExaBGP 4.2 with its healthcheck, a router namespace
 * with its own BIRD peered over eBGP — but a separate pair of namespaces, so the baseline
 * and the agent never share a CPU-hungry neighbour during a timing.
 */
import { readFileSync } from 'node:fs';
import { ms } from '../src/core/duration.js';
import { parsePrefix, type Prefix } from '../src/core/prefix.js';
import { startBird, type BirdInstance } from '../lab/bird.js';
import { startExabgp, type ExabgpConfigOptions, type ExabgpInstance } from '../lab/exabgp.js';
import { Lab, type Namespace } from '../lab/netns.js';
import { startService, type ServiceInstance } from '../lab/service.js';

export const EXA_SERVER_V4 = '192.0.2.1';
export const EXA_ROUTER_V4 = '192.0.2.2';
export const EXA_SERVER_AS = 65001;
export const EXA_ROUTER_AS = 65000;
/** BIRD's protocol name for the session with ExaBGP. */
export const EXA_SESSION = 'exabgp';

export interface ExabgpCheckSettings {
  /** Seconds (exabgp's unit). */
  interval: number;
  rise: number;
  fall: number;
  /** Whole seconds. */
  timeout: number;
}

export class ExabgpLab {
  service!: ServiceInstance;
  bird!: BirdInstance;
  exabgp!: ExabgpInstance;
  server!: Namespace;
  router!: Namespace;
  readonly prefix: Prefix;

  private constructor(readonly lab: Lab, private readonly check: ExabgpCheckSettings, prefix: string) {
    this.prefix = parsePrefix(prefix);
  }

  static async create(tag: string, check: ExabgpCheckSettings, prefix: string): Promise<ExabgpLab> {
    const lab = await Lab.create(tag);
    const self = new ExabgpLab(lab, check, prefix);
    try {
      self.server = await lab.namespace('srv');
      self.router = await lab.namespace('rtr');
      await lab.veth(
        { ns: self.server, device: 'eth0', addresses: [`${EXA_SERVER_V4}/24`] },
        { ns: self.router, device: 'eth0', addresses: [`${EXA_ROUTER_V4}/24`] },
      );
      self.bird = await startBird(lab, self.router, {
        routerId: EXA_ROUTER_V4,
        neighbors: [{ name: EXA_SESSION, address: EXA_SERVER_V4, localAddress: EXA_ROUTER_V4, localAs: EXA_ROUTER_AS, peerAs: EXA_SERVER_AS, families: ['ipv4'] }],
      });
      self.service = await startService(lab, self.server, { host: '127.0.0.1', port: 0, body: 'exa-1' });
      await self.startExabgp();
    } catch (err) {
      await lab.teardown();
      throw err;
    }
    return self;
  }

  /** The check command: exabgp has only command checks, so curl plays quorate's http check. */
  get checkCommand(): string {
    return `curl -sf --max-time ${this.check.timeout} ${this.service.url}/healthz`;
  }

  exabgpOptions(): ExabgpConfigOptions {
    return {
      routerId: EXA_SERVER_V4,
      localAddress: EXA_SERVER_V4,
      localAs: EXA_SERVER_AS,
      neighbor: EXA_ROUTER_V4,
      peerAs: EXA_ROUTER_AS,
      healthcheck: {
        command: this.checkCommand,
        prefixes: [this.prefix],
        nextHop: EXA_SERVER_V4,
        interval: this.check.interval,
        fastInterval: this.check.interval,
        rise: this.check.rise,
        fall: this.check.fall,
        timeout: this.check.timeout,
      },
    };
  }

  /** Starts (or starts again) exabgp; resolves once it has loaded its config. */
  async startExabgp(): Promise<void> {
    this.exabgp = await startExabgp(this.lab, this.server, this.exabgpOptions());
  }

  async waitSession(): Promise<void> {
    await this.bird.control.waitEstablished(EXA_SESSION, ms(30_000));
  }

  /** PIDs of exabgp's healthcheck process(es): its children whose command line says so. */
  healthcheckPids(): number[] {
    const pid = this.exabgp.process.pid;
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
    return children.filter((child) => {
      try {
        return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('healthcheck');
      } catch {
        return false;
      }
    });
  }

  teardown(): Promise<void> {
    return this.lab.teardown();
  }
}
