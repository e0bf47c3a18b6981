/**
 * The guard: a tiny process between the agent and gobgpd (DESIGN.md rule S4).
 *
 *   agent ──setpriv --pdeathsig KILL──▶ guard ──setpriv --pdeathsig KILL──▶ gobgpd
 *
 * It exists because the agent cannot be trusted to clean up after itself: an agent that is
 * SIGKILLed, crashes, is SIGSTOPped or blocks its event loop must not leave gobgpd announcing.
 * The guard runs its own event loop, does nothing else, and kills gobgpd (SIGKILL: the kernel
 * closes the BGP sessions, so routers drop the routes at once) when
 *   - its stdin closes (the agent is gone), or
 *   - the deadline the agent keeps renewing passes (the agent is stalled), or
 *   - it is itself killed (the kernel's parent-death signal reaches gobgpd).
 * On SIGTERM it stops gobgpd cleanly (SIGTERM, then SIGKILL after a grace).
 * When gobgpd is gone it reports why on stdout and exits.
 *
 * Run as `node dist/src/speaker/guard.js '<GuardSpec JSON>'`; see guard-protocol.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { encodeMessage, parseRenew, parseSpec, type GuardExitReason, type GuardReport } from './guard-protocol.js';

/** setTimeout's largest delay; longer deadlines are re-checked when it fires. */
const MAX_TIMER_MS = 2_147_483_647;

function report(message: GuardReport): void {
  // Never let a broken pipe (the agent is gone) throw: the guard's job is to kill, not to talk.
  try {
    process.stdout.write(encodeMessage(message));
  } catch {
    // the agent cannot hear us any more; nothing to do
  }
}

function main(): void {
  const spec = parseSpec(process.argv[2]);
  if (!spec) {
    process.stderr.write('quorate guard: usage: guard.js \'{"command":[…],"setpriv":"…","deadlineMs":N,"termGraceMs":N,"agentPid":N}\'\n');
    process.exit(2);
  }
  if (process.ppid !== spec.agentPid) {
    // The agent died before our parent-death signal was armed: nobody would ever stop us.
    process.stderr.write(`quorate guard: parent ${process.ppid} is not the agent ${spec.agentPid}; not starting\n`);
    process.exit(3);
  }
  process.stdout.on('error', () => undefined);

  let reason: GuardExitReason | undefined;
  let deadline = performance.now() + spec.deadlineMs;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let child: ChildProcess | undefined;

  /** Records the first reason only: later ones are consequences of it. */
  const kill = (why: GuardExitReason, signal: NodeJS.Signals): void => {
    reason ??= why;
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
  };

  const checkDeadline = (): void => {
    const left = deadline - performance.now();
    if (left > 0) {
      deadlineTimer = setTimeout(checkDeadline, Math.min(Math.ceil(left), MAX_TIMER_MS));
      return;
    }
    kill('stalled', 'SIGKILL');
  };

  // Handlers first: a SIGTERM that arrives while we start must stop gobgpd cleanly, not kill
  // the guard by default action (the parent-death signal would then SIGKILL gobgpd).
  const terminate = (): void => {
    if (reason !== undefined) return;
    kill('terminated', 'SIGTERM');
    setTimeout(() => kill('terminated', 'SIGKILL'), spec.termGraceMs);
  };
  process.on('SIGTERM', terminate);
  process.on('SIGINT', terminate);
  process.on('SIGHUP', terminate);

  try {
    child = spawn(spec.setpriv, ['--pdeathsig', 'KILL', '--', ...spec.command], {
      // gobgpd's log lines go to our stderr, which the agent reads; our stdout is the protocol.
      stdio: ['ignore', 2, 2],
    });
  } catch (err) {
    report({ exited: null, signal: null, reason: 'spawn-failed', detail: (err as Error).message });
    process.exit(1);
  }

  child.once('error', (err) => {
    // spawn() failed asynchronously (e.g. setpriv vanished): there is no child to wait for.
    if (child.pid === undefined) {
      report({ exited: null, signal: null, reason: 'spawn-failed', detail: err.message });
      process.exit(1);
    }
  });
  child.once('exit', (code, signal) => {
    clearTimeout(deadlineTimer);
    report({ exited: code, signal, reason: reason ?? 'child-exited' });
    process.exit(0);
  });
  deadlineTimer = setTimeout(checkDeadline, Math.min(spec.deadlineMs, MAX_TIMER_MS));

  const fromAgent = createInterface({ input: process.stdin, crlfDelay: Infinity });
  fromAgent.on('line', (line) => {
    const message = parseRenew(line);
    if (!message || reason !== undefined) return;
    deadline = performance.now() + message.renew;
    // Re-arm exactly at the new deadline (the pending timer would only re-check and re-arm).
    clearTimeout(deadlineTimer);
    deadlineTimer = setTimeout(checkDeadline, Math.min(Math.ceil(message.renew), MAX_TIMER_MS));
  });
  fromAgent.on('close', () => kill('agent-gone', 'SIGKILL'));

  // Only now, with every handler in place, may the agent act on us.
  if (child.pid !== undefined) report({ started: child.pid });
}

main();
