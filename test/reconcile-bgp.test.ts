/**
 * The BGP reconciler against an in-memory speaker (a unit test of one module; the real
 * gobgpd cases are in agent-*.test.ts): what it sends, in which order, and what it never
 * touches.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { desiredBgpPaths, type DesiredPath } from '../src/announce/desired-bgp.js';
import { OriginatedRecord } from '../src/announce/originated-record.js';
import { BgpReconciler, type SpeakerPaths } from '../src/announce/reconcile-bgp.js';
import { serviceName } from '../src/core/ids.js';
import { parsePrefix, type Family, type PrefixKey } from '../src/core/prefix.js';
import type { BgpConfig, ServiceConfig } from '../src/config/types.js';
import { ms } from '../src/core/duration.js';
import type { PathSpec, RibPath } from '../src/gobgp/path.js';

const path = (prefix: string, med = 10): PathSpec => ({
  prefix: parsePrefix(prefix), nextHop: prefix.includes(':') ? '2001:db8:1::1' : '192.0.2.1', origin: 'igp', med,
  communities: [], largeCommunities: [], asPath: [],
});
const desired = (...paths: PathSpec[]): Map<PrefixKey, DesiredPath> =>
  new Map(paths.map((p) => [p.prefix.key, { service: serviceName('web'), path: p }]));

/** Holds local paths like gobgpd's global table; records every call. */
class MemorySpeaker implements SpeakerPaths {
  table: PathSpec[] = [];
  calls: string[] = [];
  async listLocalPaths(family: Family): Promise<RibPath[]> {
    this.calls.push(`list${family}`);
    return this.table.filter((p) => p.prefix.family === family).map((p) => ({ ...p, best: true, unmodeled: [] }));
  }
  async addPaths(paths: PathSpec[]): Promise<void> {
    this.calls.push(`add ${paths.map((p) => p.prefix.key).join(',')}`);
    for (const p of paths) this.table = [...this.table.filter((t) => t.prefix.key !== p.prefix.key), p];
  }
  async deletePaths(paths: PathSpec[]): Promise<void> {
    this.calls.push(`delete ${paths.map((p) => p.prefix.key).join(',')}`);
    const gone = new Set(paths.map((p) => p.prefix.key));
    this.table = this.table.filter((t) => !gone.has(t.prefix.key));
  }
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function setup(configured: string[] = ['203.0.113.10/32', '203.0.113.11/32', '2001:db8:10::10/128'], fullSyncEvery?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'quorate-reconcile-'));
  dirs.push(dir);
  const speaker = new MemorySpeaker();
  const record = new OriginatedRecord(dir);
  const reconciler = new BgpReconciler({
    speaker, record, logger: pino({ level: 'silent' }),
    configuredPrefixes: new Set(configured.map((c) => parsePrefix(c).key)),
    fullSyncEvery: fullSyncEvery === undefined ? undefined : ms(fullSyncEvery),
  });
  return { dir, speaker, record, reconciler };
}

describe('BgpReconciler', () => {
  it('sends only the difference on a change, withdrawals first, without listing the table', async () => {
    const { speaker, reconciler } = setup();
    await reconciler.setDesired(desired(path('203.0.113.10/32'), path('2001:db8:10::10/128')));
    speaker.calls = [];
    await reconciler.setDesired(desired(path('203.0.113.11/32'), path('2001:db8:10::10/128', 20)));
    expect(speaker.calls).toEqual(['delete 203.0.113.10/32', 'add 203.0.113.11/32,2001:db8:10::10/128']);
  });

  it('records a prefix before announcing it, so a restarted agent knows it was its own', async () => {
    const { dir, reconciler } = setup();
    await reconciler.setDesired(desired(path('203.0.113.10/32')));
    const onDisk = JSON.parse(readFileSync(join(dir, 'originated-prefixes.json'), 'utf8')) as { prefixes: string[] };
    expect(onDisk.prefixes).toEqual(['203.0.113.10/32']);
  });

  it('full sync: repairs a changed, a missing and a duplicated path; removes leftovers of ours; never touches others', async () => {
    const { speaker, record, reconciler } = setup(['203.0.113.10/32', '203.0.113.11/32', '2001:db8:10::10/128']);
    record.addAll([parsePrefix('198.51.100.9/32').key]); // announced by an earlier run, since removed from the config
    speaker.table = [
      path('203.0.113.10/32', 999), // changed by hand
      path('198.51.100.9/32'), // our leftover
      path('198.51.100.77/32'), // the operator's own
      path('203.0.113.11/32'), path('203.0.113.11/32'), // duplicated
    ];
    await reconciler.setDesired(desired(path('203.0.113.10/32'), path('203.0.113.11/32'), path('2001:db8:10::10/128')));
    speaker.calls = [];
    speaker.table = [path('203.0.113.10/32', 999), path('198.51.100.9/32'), path('198.51.100.77/32'), path('203.0.113.11/32'), path('203.0.113.11/32')];
    await reconciler.fullSync();
    expect(speaker.calls).toEqual([
      'list4', 'list6',
      'delete 198.51.100.9/32',
      'delete 203.0.113.11/32,203.0.113.11/32',
      'add 203.0.113.10/32,203.0.113.11/32,2001:db8:10::10/128',
    ]);
    expect(speaker.table.map((p) => `${p.prefix.key} med ${p.med}`).sort()).toEqual([
      '198.51.100.77/32 med 10', '2001:db8:10::10/128 med 10', '203.0.113.10/32 med 10', '203.0.113.11/32 med 10',
    ]);
    expect([...record.all()].sort()).toEqual(['2001:db8:10::10/128', '203.0.113.10/32', '203.0.113.11/32']);
  });

  it('a full sync of a table in the desired state changes nothing', async () => {
    const { speaker, reconciler } = setup();
    await reconciler.setDesired(desired(path('203.0.113.10/32')));
    speaker.calls = [];
    await reconciler.fullSync();
    expect(speaker.calls).toEqual(['list4', 'list6']);
  });

  it('after a failed call it reports unhealthy, and the next full sync recovers', async () => {
    const { speaker, reconciler } = setup();
    const add = speaker.addPaths.bind(speaker);
    speaker.addPaths = async () => { throw new Error('gobgpd unreachable'); };
    await reconciler.setDesired(desired(path('203.0.113.10/32')));
    expect(reconciler.healthy).toBe(false);
    speaker.addPaths = add;
    await reconciler.fullSync();
    expect(reconciler.healthy).toBe(true);
    expect(speaker.table.map((p) => p.prefix.key)).toEqual(['203.0.113.10/32']);
  });
});

describe('BgpReconciler timer', () => {
  afterEach(() => vi.useRealTimers());

  it('runs a full sync one interval after the last operation, not in the middle of a burst; stop() ends it', async () => {
    vi.useFakeTimers();
    const { speaker, reconciler } = setup(undefined, 1000);
    await reconciler.setDesired(desired(path('203.0.113.10/32')));
    await vi.advanceTimersByTimeAsync(600);
    await reconciler.setDesired(desired(path('203.0.113.10/32'), path('203.0.113.11/32')));
    await vi.advanceTimersByTimeAsync(600);
    expect(speaker.calls.filter((c) => c.startsWith('list'))).toEqual([]); // 1200 ms, but never 1000 quiet ones
    await vi.advanceTimersByTimeAsync(500);
    expect(speaker.calls.filter((c) => c.startsWith('list'))).toEqual(['list4', 'list6']);
    reconciler.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(speaker.calls.filter((c) => c.startsWith('list'))).toHaveLength(2);
  });
});

describe('desiredBgpPaths', () => {
  const bgp: BgpConfig = {
    gobgp: { address: 'unix:///x' }, nextHop: { ipv4: '192.0.2.1', ipv6: '2001:db8:1::1' },
    communities: [65001 * 65536 + 100], largeCommunities: [{ global: 65001, local1: 0, local2: 1 }],
    reconcileInterval: ms(1000), callTimeout: ms(1000), gracefulShutdown: ms(0),
  };
  const service: ServiceConfig = {
    name: serviceName('web'), prefixes: [parsePrefix('203.0.113.10/32'), parsePrefix('2001:db8:10::10/128')],
    mode: 'anycast', priority: 100, preempt: true, via: ['bgp'], checks: [],
    bgp: { origin: 'igp', med: 5, localPref: 200, communities: [65001 * 65536 + 10, 65001 * 65536 + 100], largeCommunities: [{ global: 65001, local1: 1, local2: 10 }], asPathPrepend: 2 },
  };

  it('one path per prefix of each served service, with the node and service attributes merged', () => {
    const paths = desiredBgpPaths([{ service: service.name, serve: true, method: 'bgp', reason: '' }], [service], bgp, 65001);
    expect([...paths.keys()]).toEqual(['203.0.113.10/32', '2001:db8:10::10/128']);
    expect(paths.get('2001:db8:10::10/128' as PrefixKey)!.path).toMatchObject({
      nextHop: '2001:db8:1::1', med: 5, localPref: 200, asPath: [65001, 65001],
      communities: [65001 * 65536 + 10, 65001 * 65536 + 100],
      largeCommunities: [{ global: 65001, local1: 0, local2: 1 }, { global: 65001, local1: 1, local2: 10 }],
    });
    expect(desiredBgpPaths([{ service: service.name, serve: false, reason: 'checks failing' }], [service], bgp, 65001).size).toBe(0);
  });

  it('a graceful shutdown adds GRACEFUL_SHUTDOWN (65535:0) and sets local-pref 0, keeping everything else', () => {
    const paths = desiredBgpPaths([{ service: service.name, serve: true, method: 'bgp', reason: '', gracefulShutdown: true }], [service], bgp, 65001);
    expect(paths.get('203.0.113.10/32' as PrefixKey)!.path).toMatchObject({
      med: 5, localPref: 0, asPath: [65001, 65001],
      communities: [65001 * 65536 + 10, 65001 * 65536 + 100, 65535 * 65536 + 0],
    });
  });
});
