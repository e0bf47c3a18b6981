/**
 * ArpReconciler against a scripted host (unit tests of one module; the real kernel is in
 * test/arp-kernel.test.ts): what it tells the agent while commands are still running, and
 * what it does with a decision made before a stall.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ms, type Millis } from '../src/core/duration.js';
import { parsePrefix } from '../src/core/prefix.js';
import type { CommandResult, HostCommands } from '../src/arp/host-commands.js';
import { ArpReconciler } from '../src/arp/reconcile-arp.js';

const VIP = parsePrefix('192.0.2.100/32');
const logger = pino({ level: 'silent' });

/** A host whose `ip addr del` waits until the test lets it finish; every other command succeeds at once. */
function scriptedHost(): { cmd: HostCommands; calls: string[][]; finishRemoval: () => void } {
  const calls: string[][] = [];
  let finish: (() => void) | undefined;
  const ok: CommandResult = { code: 0, stdout: '[]', stderr: '' };
  const cmd: HostCommands = {
    run: (argv) => {
      calls.push([...argv]);
      if (argv[0] === 'ip' && argv.includes('del')) return new Promise((resolve) => { finish = () => resolve(ok); });
      return Promise.resolve(ok);
    },
  };
  return { cmd, calls, finishRemoval: () => finish?.() };
}

describe('ArpReconciler (scripted host)', () => {
  it('does not say an address is released while its removal is still running', async () => {
    const host = scriptedHost();
    const r = new ArpReconciler({ cmd: host.cmd, logger, options: { garp: { count: 1, refresh: ms(0) } } });
    await r.setDesired(new Map([[VIP.key, { prefix: VIP, interface: 'eth0', until: ms(Infinity) }]]));
    expect(r.released(VIP.key)).toBe(false);
    const removal = r.setDesired(new Map());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(host.calls.some((c) => c.includes('del'))).toBe(true);
    expect(r.released(VIP.key)).toBe(false); // `ip addr del` has not returned yet
    host.finishRemoval();
    await removal;
    expect(r.released(VIP.key)).toBe(true);
    await r.stop();
  });

  it('adds and renews only on a fresh decision: after a stall it waits to be told again', async () => {
    const host = scriptedHost();
    let now: Millis = ms(1000);
    let asked = 0;
    const r = new ArpReconciler({
      cmd: host.cmd, logger, now: () => now, options: { garp: { count: 1, refresh: ms(0) } },
      decisionFreshness: ms(250), onRenewalDue: () => { asked++; },
    });
    await r.setDesired(new Map([[VIP.key, { prefix: VIP, interface: 'eth0', until: ms(Infinity) }]]));
    const replaces = (): number => host.calls.filter((c) => c.includes('replace')).length;
    expect(replaces()).toBe(1);
    // Five seconds later (a stall), a drift repair pass runs on the old decision: no renewal.
    now = ms(6000);
    await r.sync();
    expect(replaces()).toBe(1);
    // The renewal timer asks the caller to decide again instead of renewing by itself.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(asked).toBeGreaterThan(0);
    expect(replaces()).toBe(1);
    await r.stop();
  });
});
