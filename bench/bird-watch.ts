/**
 * Watching BIRD's table for the benchmarks, through its control socket (about 100 µs a
 * query). Polls every millisecond — the resolution of every figure that ends "at BIRD".
 */
import { ms, type Millis } from '../src/core/duration.js';
import type { Prefix } from '../src/core/prefix.js';
import type { BirdControl } from '../lab/bird-control.js';
import { epochNow, sleep, type EpochMillis } from './clock.js';

const POLL: Millis = ms(1);
const NETWORK_NOT_FOUND = 8001;

/** Whether BIRD holds any route covering `prefix` (`show route for PREFIX`). */
export async function holdsRouteFor(bird: BirdControl, prefix: Prefix): Promise<boolean> {
  const reply = await bird.raw(`show route for ${prefix.key}`);
  if (reply.code === NETWORK_NOT_FOUND) return false;
  if (reply.code >= 8000) throw new Error(`bird: show route for ${prefix.key} → ${reply.code} ${reply.lines.map((l) => l.text).join(' ')}`);
  return true;
}

/**
 * Polls every ms until `done` holds; returns the instant the answer that satisfied it
 * arrived. Throws after `timeout` (a bound for a stuck lab, not a measurement).
 */
export async function pollUntil(done: () => Promise<boolean>, timeout: Millis, what: string, every: Millis = POLL): Promise<EpochMillis> {
  const deadline = epochNow() + timeout;
  for (;;) {
    const ok = await done();
    const at = epochNow();
    if (ok) return at;
    if (at > deadline) throw new Error(`bench: ${what} did not happen within ${timeout} ms`);
    await sleep(every);
  }
}

/** The instant BIRD no longer holds a route for `prefix`. */
export function untilRouteGone(bird: BirdControl, prefix: Prefix, timeout: Millis): Promise<EpochMillis> {
  return pollUntil(async () => !(await holdsRouteFor(bird, prefix)), timeout, `route for ${prefix.key} leaving BIRD`);
}

/** The instant BIRD holds a route for `prefix`. */
export function untilRouteHeld(bird: BirdControl, prefix: Prefix, timeout: Millis): Promise<EpochMillis> {
  return pollUntil(() => holdsRouteFor(bird, prefix), timeout, `route for ${prefix.key} at BIRD`);
}

/**
 * Routes BIRD imported over a BGP protocol (`show protocols all NAME`, the `Routes: N
 * imported` line of the channel `family`): cheap however large the table is.
 */
export async function importedCount(bird: BirdControl, protocol: string, family: 'ipv4' | 'ipv6'): Promise<number> {
  const reply = await bird.command(`show protocols all ${protocol}`);
  let channel = '';
  for (const { text } of reply.lines) {
    const ch = /^\s*Channel (\S+)/.exec(text);
    if (ch) channel = ch[1]!;
    const routes = /^\s*Routes:\s+(\d+) imported/.exec(text);
    if (routes && channel === family) return Number(routes[1]);
  }
  return 0;
}

/**
 * Polls (every `every`, default 1 ms) until every protocol in `protocols` has imported exactly
 * `count` routes of `family`. `firstAt`: the first poll that saw any route at all.
 */
export async function untilImported(
  bird: BirdControl,
  protocols: readonly string[],
  family: 'ipv4' | 'ipv6',
  count: number,
  timeout: Millis,
  every: Millis = POLL,
): Promise<{ firstAt: EpochMillis | undefined; allAt: EpochMillis }> {
  let firstAt: EpochMillis | undefined;
  const allAt = await pollUntil(
    async () => {
      let all = true;
      for (const p of protocols) {
        const n = await importedCount(bird, p, family);
        if (n > 0) firstAt ??= epochNow();
        if (n !== count) all = false;
      }
      return all;
    },
    timeout,
    `${count} ${family} routes imported by ${protocols.join(' and ')}`,
    every,
  );
  return { firstAt, allAt };
}
