/**
 * `lab up | down | status | fault NAME` — the routed lab held between commands (issue 5
 * item 3). `up` starts a detached holder (`lab serve`, lab/lab-cli-holder.ts) and returns once
 * the lab is up and converged; the others talk to the holder over its unix socket
 * (lab/lab-cli-wire.ts). `up --foreground` holds the lab in this terminal: Ctrl-C removes it.
 *
 *   node dist/lab/lab-cli.js up            # or: npm run lab:up
 *   node dist/lab/lab-cli.js status        #     npm run lab:status
 *   node dist/lab/lab-cli.js fault link-cut   (faults: see `fault list`)
 *   node dist/lab/lab-cli.js fault heal
 *   node dist/lab/lab-cli.js down          #     npm run lab:down
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ms } from '../src/core/duration.js';
import { holdLab } from './lab-cli-holder.js';
import { askHolder, labLogPath, labPidPath, labSocketPath, labStateDir, type LabResponse } from './lab-cli-wire.js';
import { routedLabRequirements } from './routed-lab-requirements.js';
import { SHOW_FAULTS } from './show-faults.js';
import { waitUntil } from './wait.js';
import { isAlive } from './netns.js';

const USAGE = `usage: lab up [--foreground] | down | status | fault NAME | fault list
state dir: ${labStateDir()} (QUORATE_LAB_DIR overrides)`;

/** The holder's answer, or undefined when no lab is up (nobody listens on the socket). */
async function ask(request: Parameters<typeof askHolder>[0], timeout = ms(60_000)): Promise<LabResponse | undefined> {
  try {
    return await askHolder(request, timeout);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return undefined;
    throw err;
  }
}

function tail(file: string, lines = 30): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

async function up(foreground: boolean): Promise<number> {
  const req = routedLabRequirements();
  if (!req.ok) {
    console.error(`the lab cannot run here: ${req.reason}`);
    return 1;
  }
  if (await ask({ cmd: 'ping' }, ms(5000))) {
    console.log(`the lab is already up (${labSocketPath()}); \`lab down\` removes it`);
    return 0;
  }
  if (foreground) {
    await holdLab();
    console.log('Ctrl-C removes the lab.');
    return -1; // keep running: the holder's signal handlers end the process
  }
  const dir = labStateDir();
  await mkdir(dir, { recursive: true });
  await rm(labSocketPath(dir), { force: true });
  const log = openSync(labLogPath(dir), 'w');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve'], { detached: true, stdio: ['ignore', log, log] });
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  console.log(`starting the lab (holder pid ${child.pid}, log ${labLogPath(dir)}) …`);
  try {
    await waitUntil(async () => {
      if (exited !== undefined) throw new Error(`the holder exited (code ${exited})`);
      return (await ask({ cmd: 'ping' }, ms(5000))) !== undefined;
    }, { timeout: ms(120_000), interval: ms(500), what: 'the lab to come up' });
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${tail(labLogPath(dir))}`);
    if (exited === undefined && child.pid) process.kill(child.pid, 'SIGTERM');
    return 1;
  }
  const status = await ask({ cmd: 'status' });
  console.log(`the lab is up.\n${status?.text ?? ''}`);
  return 0;
}

/** The holder's PID from its PID file (undefined: none recorded). */
function holderPid(): number | undefined {
  const file = labPidPath();
  const pid = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : NaN;
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}


async function down(): Promise<number> {
  const pid = holderPid();
  const res = await ask({ cmd: 'down' });
  if (!res) {
    await rm(labSocketPath(), { force: true });
    console.log('no lab is up');
    return 0;
  }
  console.log(res.text);
  // The holder exits once the teardown is done (its socket goes earlier, when it stops listening).
  await waitUntil(() => (pid === undefined ? !existsSync(labPidPath()) : !isAlive(pid)), { timeout: ms(60_000), interval: ms(200), what: 'the holder to finish the teardown' });
  console.log('the lab is down: no namespace, process or address of it is left');
  return 0;
}

async function forward(request: Parameters<typeof askHolder>[0]): Promise<number> {
  const res = await ask(request, ms(120_000));
  if (!res) {
    console.error('no lab is up: `lab up` first');
    return 1;
  }
  console.log(res.text);
  return res.ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, arg] = argv;
  switch (cmd) {
    case 'up':
      return up(argv.includes('--foreground'));
    case 'serve':
      await holdLab();
      return -1;
    case 'down':
      return down();
    case 'status':
      return forward({ cmd: 'status' });
    case 'fault':
      if (!arg || arg === 'list') {
        for (const f of SHOW_FAULTS) console.log(`${f.name.padEnd(22)} ${f.title}: ${f.demonstrates}`);
        return arg ? 0 : 2;
      }
      return forward({ cmd: 'fault', name: arg });
    default:
      console.error(USAGE);
      return cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
