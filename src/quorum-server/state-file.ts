/**
 * The state file: every grant is recorded here before it is answered, so a restarted server
 * knows which leases may still be valid and does not grant over them.
 *
 * A monotonic clock does not survive a restart, so the file holds wall-clock ends. On load
 * each is turned back into this process's monotonic time, conservatively: the lease table then
 * adds the takeover gap as for any lease. The one thing this cannot survive is the wall clock
 * jumping forward across the restart (a lease would look older than it is); a jump backward
 * only makes leases look longer, and no lease is resumed as longer than `lease.max`, which is
 * the most it could have had left.
 *
 * Writes are atomic (a temporary file, fsync, rename, fsync of the folder) and grouped: while
 * one write is under way, every grant decided meanwhile waits for the next write, which
 * carries them all. So one disk flush serves many answers under load.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ms, type Millis } from '../core/duration.js';
import { clusterName, nodeId, type NodeId } from '../core/ids.js';
import type { MembershipDigest } from './lease-ask.js';
import type { HolderRecord } from './lease-table.js';

const FORMAT = 'quorate-quorum-server-state';
const VERSION = 1;

/** Both clocks at one instant: monotonic for the table, wall for the file. */
export interface ServerClock {
  mono(): Millis;
  /** Epoch milliseconds. */
  wall(): number;
}

export const systemServerClock: ServerClock = {
  mono: () => ms(performance.now()),
  wall: () => Date.now(),
};

const fileSchema = z.object({
  format: z.literal(FORMAT),
  version: z.number().int().positive(),
  writtenAt: z.number(),
  leases: z.array(z.object({
    cluster: z.string().min(1),
    digest: z.string().regex(/^[0-9a-f]+$/),
    partition: z.array(z.string().min(1)).min(1),
    votes: z.number().int().positive(),
    grantedTo: z.string().min(1),
    ends: z.array(z.object({ node: z.string().min(1), endWall: z.number() })),
  })),
});
type StateFileContent = z.infer<typeof fileSchema>;

/**
 * The file's text for the table's records, ends converted to wall-clock time and recorded
 * `headroom` later than they are (never earlier: a restart only waits longer), so that
 * renewals within the headroom need no write.
 */
export function renderState(records: readonly HolderRecord[], clock: ServerClock, headroom = 0): string {
  const mono = clock.mono();
  const wall = clock.wall();
  const content: StateFileContent = {
    format: FORMAT,
    version: VERSION,
    writtenAt: wall,
    leases: records.map((r) => ({
      cluster: r.cluster, digest: r.digest, partition: [...r.partition], votes: r.votes, grantedTo: r.grantedTo,
      // Rounded up: a recorded end is never earlier than the real one.
      ends: r.ends.map((e) => ({ node: e.node, endWall: Math.ceil(wall + (e.end + headroom - mono)) })),
    })),
  };
  return `${JSON.stringify(content)}\n`;
}

export type LoadedState =
  | { ok: true; records: HolderRecord[] }
  /** `missing`: no file at all (a first start); otherwise it exists and could not be used. */
  | { ok: false; missing: boolean; problem: string };

/** Reads the file and resumes its leases in this process's monotonic time. */
export async function loadState(path: string, clock: ServerClock, leaseMax: Millis): Promise<LoadedState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { ok: false, missing, problem: missing ? `${path} does not exist` : `cannot read ${path}: ${(err as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, missing: false, problem: `${path} is not JSON: ${(err as Error).message}` };
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) return { ok: false, missing: false, problem: `${path} is not a quorate server state file: ${parsed.error.issues[0]?.message}` };
  if (parsed.data.version > VERSION) return { ok: false, missing: false, problem: `${path} has version ${parsed.data.version}; this server reads ${VERSION}` };
  const mono = clock.mono();
  const wall = clock.wall();
  const records = parsed.data.leases.map((l): HolderRecord => ({
    cluster: clusterName(l.cluster),
    digest: l.digest as MembershipDigest,
    partition: [...l.partition].sort() as NodeId[],
    votes: l.votes,
    grantedTo: nodeId(l.grantedTo),
    ends: l.ends.map((e) => ({
      node: nodeId(e.node),
      // A lease had at most leaseMax left when it was recorded, so it cannot have more now.
      end: ms(mono + Math.min(e.endWall - wall, leaseMax)),
    })),
  }));
  return { ok: true, records };
}

/** Writes `text` to `path` so that a crash leaves either the old file or the new one, whole. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  // The rename itself lives in the folder: flush it too, or a crash could undo it.
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

export async function ensureStateFolder(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
}

/** Group commit of the table's records; `persist()` resolves once a write made after the call has landed. */
export class StateFileWriter {
  private inFlight: Promise<void> | undefined;
  private queued: { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | undefined;

  /**
   * `render` is called when a write starts, so it captures every grant decided before it. It
   * may return `landed` too, called once that text is on disk (and only then): what a caller
   * derives from the rendered text must not be trusted before.
   */
  constructor(private readonly path: string, private readonly render: () => string | { text: string; landed(): void }) {}

  persist(): Promise<void> {
    if (!this.inFlight) return this.start();
    // The write under way may have rendered before the caller's change: join the next one.
    if (!this.queued) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
      this.queued = { promise, resolve, reject };
    }
    return this.queued.promise;
  }

  /** Resolves when no write is under way or queued. */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => undefined);
  }

  private start(): Promise<void> {
    let rendered: ReturnType<typeof this.render>;
    try {
      rendered = this.render();
    } catch (err) {
      return Promise.reject(err);
    }
    const { text, landed } = typeof rendered === 'string' ? { text: rendered, landed: undefined } : rendered;
    const write = writeAtomically(this.path, text).then(() => landed?.()).finally(() => {
      this.inFlight = undefined;
      const next = this.queued;
      if (next) {
        this.queued = undefined;
        this.start().then(next.resolve, next.reject);
      }
    });
    this.inFlight = write;
    return write;
  }
}
