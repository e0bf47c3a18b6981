/**
 * The quorum server's state file on a real filesystem: wall-clock ends round-trip into
 * monotonic time conservatively, an unusable file is reported (the server then waits), and
 * grouped writes land every grant decided before they started.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { clusterName, nodeId } from '../src/core/ids.js';
import { membershipDigest } from '../src/quorum-server/lease-ask.js';
import type { HolderRecord } from '../src/quorum-server/lease-table.js';
import { loadState, renderState, StateFileWriter, type ServerClock } from '../src/quorum-server/state-file.js';

const dir = mkdtempSync(join(tmpdir(), 'quorate-qs-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const clockAt = (mono: number, wall: number): ServerClock => ({ mono: () => ms(mono), wall: () => wall });

const record = (end: number): HolderRecord => ({
  cluster: clusterName('payments'), digest: membershipDigest(Uint8Array.from([7])), partition: [nodeId('ny-1')], votes: 1,
  grantedTo: nodeId('ny-1'), ends: [{ node: nodeId('ny-1'), end: ms(end) }],
});

describe('quorum server state file', () => {
  it('resumes a lease with the time it had left, in the new process\'s monotonic time', async () => {
    const file = join(dir, 'roundtrip.json');
    // Written at wall 1_000_000 by a process whose monotonic clock read 500; the lease ends 800 ms later.
    writeFileSync(file, renderState([record(1300)], clockAt(500, 1_000_000)));
    // Read 300 ms later (wall) by a new process whose monotonic clock reads 20.
    const loaded = await loadState(file, clockAt(20, 1_000_300), ms(2000));
    expect(loaded).toMatchObject({ ok: true, records: [{ cluster: 'payments', partition: ['ny-1'], ends: [{ node: 'ny-1', end: 520 }] }] });
  });

  it('never resumes a lease as longer than lease.max (a wall clock set back)', async () => {
    const file = join(dir, 'clock-back.json');
    writeFileSync(file, renderState([record(1500)], clockAt(500, 1_000_000)));
    const loaded = await loadState(file, clockAt(0, 900_000), ms(2000));
    expect(loaded.ok && loaded.records[0]?.ends[0]?.end).toBe(2000);
  });

  it('reports a missing file and an unusable one apart', async () => {
    expect(await loadState(join(dir, 'nope.json'), clockAt(0, 0), ms(2000))).toMatchObject({ ok: false, missing: true });
    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '{"format":"something else"');
    expect(await loadState(garbage, clockAt(0, 0), ms(2000))).toMatchObject({ ok: false, missing: false, problem: expect.stringMatching(/not JSON/) });
    writeFileSync(garbage, '{"format":"quorate-quorum-server-state","version":1,"writtenAt":0,"leases":[{"cluster":""}]}');
    expect(await loadState(garbage, clockAt(0, 0), ms(2000))).toMatchObject({ ok: false, missing: false, problem: expect.stringMatching(/not a quorate server state file/) });
  });

  it('groups writes: every persist() resolves after a write that includes what was decided before it', async () => {
    const file = join(dir, 'grouped.json');
    let decided = 0;
    let renders = 0;
    const writer = new StateFileWriter(file, () => {
      renders++;
      return JSON.stringify({ decided });
    });
    const seenAfter: number[] = [];
    const waits: Promise<void>[] = [];
    for (let i = 1; i <= 20; i++) {
      decided = i;
      const mine = i;
      waits.push(writer.persist().then(() => {
        const onDisk = (JSON.parse(readFileSync(file, 'utf8')) as { decided: number }).decided;
        seenAfter.push(onDisk - mine);
      }));
    }
    await Promise.all(waits);
    await writer.idle();
    expect(seenAfter.every((d) => d >= 0)).toBe(true);
    expect(renders).toBeLessThan(20); // grouped, not one write per grant
  });
});
