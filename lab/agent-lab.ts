/**
 * The agent's lab: a server namespace (the demo service, the agent, and gobgpd — run by the
 * agent, or an external one) joined by a veth to a router namespace with BIRD, which peers
 * with gobgpd over eBGP (protocol `speaker`) and iBGP (protocol `speaker_i`, for local-pref).
 * Integration tests, the demo (`npm run lab`) and the benchmarks all stand on it.
 *
 *   srv: eth0 192.0.2.1/24 (+ .4 for iBGP) 2001:db8:1::1/64 ─── rtr: eth0 192.0.2.2/24 (+ .3 for iBGP) 2001:db8:1::2/64
 *        gobgpd AS 65001, agent, service              BIRD AS 65000 (eBGP) and 65001 (iBGP)
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { ms, type Millis } from '../src/core/duration.js';
import { parsePrefix } from '../src/core/prefix.js';
import { startBird, type BirdInstance, type BirdRoute } from './bird.js';
import { gobgpdConfig, type GobgpdConfigOptions } from './gobgpd-config.js';
import { startGobgpd, type GobgpdInstance } from './gobgpd.js';
import { Lab, run, type Namespace, type RunResult } from './netns.js';
import type { LabProcess } from './process.js';
import { startService, type ServiceInstance } from './service.js';

export const SERVER_V4 = '192.0.2.1';
export const SERVER_V6 = '2001:db8:1::1';
export const ROUTER_V4 = '192.0.2.2';
export const ROUTER_IBGP_V4 = '192.0.2.3';
/** BIRD allows one session per neighbor address: the iBGP session goes to a second one. */
export const SERVER_IBGP_V4 = '192.0.2.4';
export const SERVER_AS = 65001;
export const ROUTER_AS = 65000;
/** BIRD's protocol names for the two sessions. */
export const EBGP = 'speaker';
export const IBGP = 'speaker_i';

export interface AgentLabOptions {
  /** Short name for this lab's namespaces (unique per test file). */
  tag: string;
  /** `run`: the agent runs gobgpd itself (fail-safe); `external`: the lab runs gobgpd. */
  speaker: 'run' | 'external';
}

/** A JSON log line of the agent. */
export interface AgentLogLine {
  level: number;
  time: string;
  msg: string;
  [key: string]: unknown;
}

export class AgentProcess {
  readonly logs: AgentLogLine[] = [];
  private partial = '';

  constructor(readonly process: LabProcess) {
    process.child.stdout?.on('data', (chunk: Buffer) => {
      const text = this.partial + chunk.toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          this.logs.push(JSON.parse(line) as AgentLogLine);
        } catch {
          this.logs.push({ level: 50, time: '', msg: `unparsed: ${line}` });
        }
      }
    });
  }

  get pid(): number {
    return this.process.pid;
  }

  /**
   * Waits for a log line whose msg matches (or that the predicate accepts), among lines
   * after `from` (an index into logs).
   */
  async waitForLog(pattern: RegExp | ((line: AgentLogLine) => boolean), timeout: Millis = ms(30_000), from = 0): Promise<AgentLogLine> {
    const deadline = Date.now() + timeout;
    const accepts = typeof pattern === 'function' ? pattern : (l: AgentLogLine) => pattern.test(l.msg);
    for (;;) {
      const hit = this.logs.slice(from).find(accepts);
      if (hit) return hit;
      if (!this.process.running) throw new Error(`agent exited before logging ${pattern}:\n${this.process.output()}`);
      if (Date.now() > deadline) throw new Error(`agent: no log ${pattern} within ${timeout} ms:\n${this.process.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export class AgentLab {
  service!: ServiceInstance;
  bird!: BirdInstance;
  /** The lab's own gobgpd (speaker `external`). */
  gobgpd?: GobgpdInstance;
  server!: Namespace;
  router!: Namespace;
  dir!: string;
  /** gRPC target of gobgpd, for the `gobgp` CLI (in `run` mode the agent's own socket). */
  apiTarget!: string;
  gobgpdConfigPath!: string;
  /** What gobgpd's config was rendered from (to start an identical one again). */
  gobgpdConfigOptions!: GobgpdConfigOptions;

  private constructor(readonly lab: Lab, readonly options: AgentLabOptions) {}

  static create(options: AgentLabOptions): Promise<AgentLab> {
    return Lab.build(options.tag, async (lab) => {
      const self = new AgentLab(lab, options);
      await self.build();
      return self;
    });
  }

  private async build(): Promise<void> {
    const { lab } = this;
    this.server = await lab.namespace('srv');
    this.router = await lab.namespace('rtr');
    await lab.veth(
      { ns: this.server, device: 'eth0', addresses: [`${SERVER_V4}/24`, `${SERVER_IBGP_V4}/24`, `${SERVER_V6}/64`] },
      { ns: this.router, device: 'eth0', addresses: [`${ROUTER_V4}/24`, `${ROUTER_IBGP_V4}/24`, '2001:db8:1::2/64'] },
    );
    this.dir = await lab.tempDir('agent');
    this.bird = await startBird(lab, this.router, {
      routerId: ROUTER_V4,
      neighbors: [
        { name: EBGP, address: SERVER_V4, localAddress: ROUTER_V4, localAs: ROUTER_AS, peerAs: SERVER_AS },
        { name: IBGP, address: SERVER_IBGP_V4, localAddress: ROUTER_IBGP_V4, localAs: SERVER_AS, peerAs: SERVER_AS },
      ],
    });
    const gobgpdOptions: GobgpdConfigOptions = {
      as: SERVER_AS,
      routerId: SERVER_V4,
      // gobgpd 3.10 waits 5–10 s before it connects out: it listens, BIRD connects.
      neighbors: [
        { address: ROUTER_V4, peerAs: ROUTER_AS, passive: true },
        { address: ROUTER_IBGP_V4, peerAs: SERVER_AS, passive: true },
      ],
    };
    this.gobgpdConfigOptions = gobgpdOptions;
    this.gobgpdConfigPath = join(this.dir, 'gobgpd.toml');
    await writeFile(this.gobgpdConfigPath, gobgpdConfig(gobgpdOptions));
    if (this.options.speaker === 'external') {
      this.gobgpd = await startGobgpd(lab, this.server, gobgpdOptions);
      this.apiTarget = this.gobgpd.apiTarget;
    } else {
      this.apiTarget = `unix://${join(this.dir, 'gobgpd.sock')}`;
    }
    this.service = await startService(lab, this.server, { host: '127.0.0.1', port: 0, body: 'srv-1' });
  }

  /**
   * The agent's config as an object (YAML keys), with one anycast service `web` for an IPv4
   * and an IPv6 prefix carrying every attribute. Tests adjust it before `writeConfig`.
   */
  baseConfig(overrides: { services?: unknown[]; checkInterval?: string; rise?: number; fall?: number } = {}): Record<string, unknown> {
    const gobgp = this.options.speaker === 'run'
      ? { run: { config: this.gobgpdConfigPath, 'stall-timeout': '500ms' }, address: this.apiTarget }
      : { address: this.apiTarget };
    const check = {
      http: { url: `${this.service.url}/healthz` },
      interval: overrides.checkInterval ?? '100ms',
      timeout: '80ms',
      rise: overrides.rise ?? 2,
      fall: overrides.fall ?? 2,
    };
    return {
      node: { id: 'srv-1' },
      cluster: { name: 'lab' },
      'state-dir': join(this.dir, 'state'),
      bgp: {
        gobgp,
        'next-hop': { ipv4: SERVER_V4, ipv6: SERVER_V6 },
        communities: ['65001:100'],
        'reconcile-interval': '500ms',
      },
      services: overrides.services ?? [
        {
          name: 'web',
          prefixes: ['203.0.113.10/32', '2001:db8:10::10/128'],
          mode: 'anycast',
          checks: [check],
          bgp: { med: 10, 'local-pref': 200, communities: ['65001:10'], 'large-communities': ['65001:1:10'] },
        },
        {
          // Prepending the local AS is for eBGP neighbors: an iBGP neighbor sees its own AS
          // in the path and drops the route as a loop.
          name: 'web-prepended',
          prefixes: ['203.0.113.30/32', '2001:db8:10::30/128'],
          mode: 'anycast',
          checks: [check],
          bgp: { 'as-path-prepend': 2 },
        },
      ],
    };
  }

  async writeConfig(config: Record<string, unknown>, name = 'agent.yaml'): Promise<string> {
    const path = join(this.dir, name);
    await writeFile(path, stringify(config));
    return path;
  }

  /** Starts `quorate agent` in the server namespace; resolves once it has started its parts. */
  async startAgent(configPath: string, extraEnv: Record<string, string> = {}): Promise<AgentProcess> {
    const proc = await this.server.spawn('agent', process.execPath, [quorateBin(), 'agent', '--config', configPath], { env: extraEnv });
    const agent = new AgentProcess(proc);
    await agent.waitForLog(/^connected to gobgpd$/);
    return agent;
  }

  /** BIRD's routes for `prefix` (from both sessions). */
  routes(prefix: string, protocol?: string): Promise<BirdRoute[]> {
    return this.bird.control.showRoute(parsePrefix(prefix), protocol ? { protocol } : {});
  }

  /** Waits until BIRD holds `count` routes for `prefix` (optionally from one protocol). */
  waitRoutes(prefix: string, count: number, protocol?: string, timeout: Millis = ms(20_000)): Promise<BirdRoute[]> {
    return this.bird.control.waitFor(
      async () => {
        const routes = await this.routes(prefix, protocol);
        return routes.length === count ? routes : undefined;
      },
      timeout,
      { what: `${count} route(s) for ${prefix}${protocol ? ` from ${protocol}` : ''} at BIRD` },
    );
  }

  async waitSessions(timeout: Millis = ms(30_000)): Promise<void> {
    await this.bird.control.waitEstablished(EBGP, timeout);
    await this.bird.control.waitEstablished(IBGP, timeout);
  }

  gobgp(args: readonly string[]): Promise<RunResult> {
    return run('gobgp', ['--target', this.apiTarget, ...args]);
  }

  teardown(): Promise<void> {
    return this.lab.teardown();
  }
}

/** The project's bin/quorate (the compiled CLI; build first). */
export function quorateBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, 'bin', 'quorate');
}
