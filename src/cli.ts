import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { detectConfigKind, formatDiagnostic, loadAgentConfig, loadServerConfig, type Diagnostic } from './config/load.js';
import { formatQuorumServerStatus, type QuorumServerStatusReport } from './quorum-server/status.js';
import { startQuorumServer } from './quorum-server/command.js';
import { checkConfigFile } from './config/check.js';
import { createLogger } from './observe/logger.js';
import { Agent } from './agent.js';
import { runCertsCommand } from './tls/certs-command.js';
import { formatPlanTable, planFor } from './plan/plan.js';
import { speakerAs } from './plan/speaker-as.js';
import { askAgent, askListener } from './observe/status-client.js';
import type { DrainAnswer } from './observe/status-server.js';
import { formatStatus, type AgentStatusReport } from './observe/status-report.js';
import { MaintenanceFiles } from './drain/maintenance-files.js';
import type { AgentConfig } from './config/types.js';
import { ms } from './core/duration.js';
import { frrFilter } from './plan/router-filter.js';
import { birdFilter } from './plan/bird-filter.js';
import { isAsNumber } from './plan/router-session.js';

/** `quorate <command>`: the entry point of bin/quorate. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('quorate')
    .description("Failover agent: announces a service's prefixes through GoBGP only while it is healthy and its node holds quorum")
    .version(packageVersion())
    .showHelpAfterError();

  program
    .command('check')
    .description('validate an agent or quorum server config; print every problem as FILE:LINE:COL: message (exit 1 on any error)')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .action((opts: { config: string }) => {
      const result = checkConfigFile(opts.config);
      const [summary] = result.lines.splice(-1);
      for (const line of result.lines) console.error(line);
      console.log(summary);
      process.exitCode = result.exitCode;
    });

  program
    .command('plan')
    .description('print what this node announces (or holds) for each service when healthy and quorate, unhealthy, without quorum, drained — every attribute')
    .requiredOption('-c, --config <file>', 'the agent config (YAML)')
    .option('--format <format>', 'table, json, or frr / bird (the router side of the session: exact-match filter, prefix limit, 1/3 s timers, no graceful restart)', 'table')
    .option('--router-as <asn>', 'with --format frr or bird: the router\'s AS')
    .option('--speaker-as <asn>', 'with --format frr or bird: the speaker\'s AS (default: from gobgpd\'s TOML with bgp.gobgp.run)')
    .action((opts: { config: string; format: string; routerAs?: string; speakerAs?: string }) => {
      if (!['table', 'json', 'frr', 'bird'].includes(opts.format)) {
        console.error(`--format must be table, json, frr or bird, not "${opts.format}"`);
        process.exitCode = 2;
        return;
      }
      const { config, diagnostics } = loadAgentConfig(opts.config, 'check');
      if (report(diagnostics) || !config) {
        process.exitCode = 1;
        return;
      }
      const localAs = opts.speakerAs !== undefined ? Number(opts.speakerAs) : speakerAs(config);
      if (opts.format === 'frr' || opts.format === 'bird') {
        const routerAs = Number(opts.routerAs);
        if (!isAsNumber(routerAs) || localAs === undefined || !isAsNumber(localAs)) {
          console.error(`--format ${opts.format} needs --router-as N, and --speaker-as N unless bgp.gobgp.run names a gobgpd TOML with [global.config] as (AS numbers are 1 to 4294967295)`);
          process.exitCode = 2;
          return;
        }
        const render = opts.format === 'frr' ? frrFilter : birdFilter;
        process.stdout.write(render(config, { routerAs, speakerAs: localAs }));
        return;
      }
      const rows = planFor(config, localAs);
      console.log(opts.format === 'json' ? JSON.stringify(rows, null, 2) : formatPlanTable(rows));
    });

  program
    .command('agent')
    .description('run the agent: health-check the services and announce them while healthy and quorate')
    .requiredOption('-c, --config <file>', 'the agent config (YAML)')
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .action(async (opts: { config: string; logLevel: string }) => {
      const { config, diagnostics } = loadAgentConfig(opts.config, 'run');
      if (report(diagnostics) || !config) {
        process.exitCode = 1;
        return;
      }
      const log = createLogger({ level: opts.logLevel });
      const agent = new Agent(config, log);
      let stopping: Promise<void> | undefined;
      const stop = (signal: string) => {
        stopping ??= agent.stop(signal).then(
          () => process.exit(0),
          (err: unknown) => {
            log.error({ err: String(err) }, 'error while stopping');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      // SIGHUP: reload. A config with any error is rejected whole; the running one stays.
      process.on('SIGHUP', () => {
        const next = loadAgentConfig(opts.config, 'run');
        for (const d of next.diagnostics) log[d.severity === 'error' ? 'error' : 'warn']({ diagnostic: formatDiagnostic(d) }, `config: ${formatDiagnostic(d)}`);
        if (!next.config) {
          log.error({ file: opts.config }, 'reload rejected: the config has errors; the running config stays in force');
          return;
        }
        agent.reload(next.config).catch((err: unknown) => log.error({ err: String(err) }, 'reload failed'));
      });
      try {
        await agent.start();
      } catch (err) {
        log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'agent could not start');
        await agent.stop('start failed').catch(() => undefined);
        process.exit(1);
      }
    });

  program
    .command('server')
    .description('run a quorum server: breaks ties for clusters that see exactly half their votes')
    .requiredOption('-c, --config <file>', 'the quorum server config (YAML)')
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .action(async (opts: { config: string; logLevel: string }) => {
      const { config, diagnostics } = loadServerConfig(opts.config, 'run');
      if (report(diagnostics) || !config) {
        process.exitCode = 1;
        return;
      }
      const log = createLogger({ level: opts.logLevel });
      try {
        const server = await startQuorumServer(config, log);
        const stop = (signal: string) => {
          log.info({ signal }, 'quorum server stopping');
          void server.stop().then(() => process.exit(0));
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      } catch (err) {
        log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'quorum server could not start');
        process.exit(1);
      }
    });

  program
    .command('status')
    .description('print what the running agent sees and decided: services, checks, quorum, peers, BGP sessions, held addresses (with a quorum server\'s config: its leases)')
    .option('-c, --config <file>', 'the agent config (YAML): finds the agent by its state-dir control socket or status.listen; or a quorum server\'s config (its status.listen)', DEFAULT_AGENT_CONFIG)
    .option('--json', 'print the agent\'s /status JSON as is')
    .action(async (opts: { config: string; json?: boolean }) => {
      if (detectConfigKind(opts.config) === 'server') {
        await quorumServerStatusCommand(opts.config, opts.json === true);
        return;
      }
      const config = loadForControl(opts.config);
      if (!config) return;
      const answer = await askAgent(config, 'GET', '/status');
      if (!answer || answer.code !== 200) {
        console.error(`quorate status: no agent answers for ${opts.config} (control socket in ${config.stateDir}${config.status ? `, or ${config.status.listen.host}:${config.status.listen.port}` : ''})`);
        process.exitCode = 3;
        return;
      }
      process.stdout.write(opts.json ? answer.body : formatStatus(JSON.parse(answer.body) as AgentStatusReport));
    });

  for (const [name, drain] of [['drain', true], ['undrain', false]] as const) {
    program
      .command(`${name} <service>`)
      .description(drain
        ? 'withdraw a service gracefully (an exclusive one moves to its next node) and keep it withdrawn, across restarts, until undrain; "all" for every service'
        : 'end a drain: the service is served again when healthy and quorate; "all" for every service')
      .option('-c, --config <file>', 'the agent config (YAML)', DEFAULT_AGENT_CONFIG)
      .action(async (service: string, opts: { config: string }) => {
        const config = loadForControl(opts.config);
        if (!config) return;
        const known = service === 'all' || config.services.some((s) => s.name === service);
        if (!known) {
          console.error(`quorate ${name}: no service "${service}" in ${opts.config} (services: ${config.services.map((s) => s.name).join(', ')})`);
          process.exitCode = 1;
          return;
        }
        const answer = await askAgent(config, 'POST', `/${name}/${encodeURIComponent(service)}`);
        if (answer) {
          if (answer.code === 200) {
            for (const a of (JSON.parse(answer.body) as { services: DrainAnswer[] }).services) {
              const exclusive = config.services.find((s) => s.name === a.service)?.mode === 'exclusive';
              const where = !drain ? '' : a.elsewhere.length === 0
                ? '; no other node serves it now'
                : exclusive ? `; ${a.elsewhere.join(', ')} takes it over` : `; still served by ${a.elsewhere.join(', ')}`;
              console.log(`${a.service}: ${drain ? 'drained' : 'undrained'} (agent on ${answer.via})${where}`);
            }
          } else {
            console.error(`quorate ${name}: the agent refused (${answer.code}): ${answer.body.trim()}`);
            process.exitCode = 1;
          }
          return;
        }
        // No agent runs: the maintenance file alone carries the drain to its next start.
        const files = new MaintenanceFiles({
          dir: config.maintenanceDir, services: () => config.services.map((s) => s.name), every: ms(1000),
          logger: createLogger({ level: 'warn', pretty: false }), onChange: () => undefined,
        });
        const names = service === 'all' ? config.services.map((s) => s.name) : config.services.filter((s) => s.name === service).map((s) => s.name);
        await files.set(names, drain, 'quorate ' + name);
        console.log(`${service}: ${drain ? 'drained' : 'undrained'} by maintenance file in ${config.maintenanceDir} (no agent answers now; it applies at the agent's start)`);
      });
  }

  const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
  program
    .command('certs')
    .description('create a CA and node / quorum server certificates for labs and tests (a real PKI: see the README)')
    .requiredOption('-d, --dir <dir>', 'where the CA, certificates and keys go (an existing CA there is reused)')
    .option('--cluster <name>', 'the cluster the node certificates bind')
    .option('--node <id>', 'a node certificate binding --cluster and this id (repeatable)', collect)
    .option('--server', 'a quorum server certificate')
    .option('--address <ip-or-dns>', 'an address of the quorum server, put in its certificate (repeatable)', collect)
    .option('--days <n>', 'validity in days', (v) => Number(v))
    .option('--renew', 'issue again even where a certificate exists')
    .action(async (opts: { dir: string; cluster?: string; node?: string[]; server?: boolean; address?: string[]; days?: number; renew?: boolean }) => {
      try {
        await runCertsCommand({ dir: opts.dir, cluster: opts.cluster, nodes: opts.node, server: opts.server, addresses: opts.address, days: opts.days, renew: opts.renew });
      } catch (err) {
        console.error(`quorate certs: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = 1;
      }
    });

  await program.parseAsync(argv, { from: 'user' });
}

const DEFAULT_AGENT_CONFIG = '/etc/quorate/agent.yaml';

/** `quorate status -c server.yaml`: the quorum server's leases, from its status.listen. */
async function quorumServerStatusCommand(file: string, json: boolean): Promise<void> {
  const { config, diagnostics } = loadServerConfig(file, 'check');
  if (report(diagnostics.filter((d) => d.severity === 'error')) || !config) {
    process.exitCode = 1;
    return;
  }
  if (!config.status) {
    console.error(`quorate status: ${file} has no status.listen: the quorum server answers no status API`);
    process.exitCode = 1;
    return;
  }
  const answer = await askListener(config.status.listen, 'GET', '/status');
  const listen = `${config.status.listen.host}:${config.status.listen.port}`;
  if (!answer || answer.code !== 200) {
    console.error(`quorate status: no quorum server answers on ${listen}`);
    process.exitCode = 3;
    return;
  }
  process.stdout.write(json ? answer.body : formatQuorumServerStatus(JSON.parse(answer.body) as QuorumServerStatusReport, listen));
}

/** The config of the agent to talk to; errors are printed and set the exit code. */
function loadForControl(file: string): AgentConfig | undefined {
  const { config, diagnostics } = loadAgentConfig(file, 'check');
  if (report(diagnostics.filter((d) => d.severity === 'error')) || !config) {
    process.exitCode = 1;
    return undefined;
  }
  return config;
}

/** Prints diagnostics to stderr; true when any is an error. */
function report(diagnostics: Diagnostic[]): boolean {
  for (const d of diagnostics) console.error(formatDiagnostic(d));
  return diagnostics.some((d) => d.severity === 'error');
}

/** The version in the package.json above this file (src/ or dist/src/). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}
