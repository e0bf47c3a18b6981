/**
 * reconcileBgp: makes the speaker originate exactly the desired paths for the prefixes this
 * agent manages, and nothing else of those prefixes. Level-triggered and idempotent:
 *
 * - on every change of the desired state, a *delta* is sent at once (the difference from what
 *   was last applied, withdrawals first: that is the failover fast path, no ListPath on it);
 * - on a timer and after any fault, a *full sync* lists what gobgpd really holds and repairs
 *   drift: a restarted gobgpd gets its paths back, a path changed or added by hand for a managed
 *   prefix is corrected, duplicates collapse to one, leftovers of an earlier run are removed.
 *
 * Managed prefixes = every prefix in the config ∪ the OriginatedRecord. Paths for any other
 * prefix (other speakers' or an operator's own) are never touched.
 */
import type { Logger } from 'pino';
import type { Millis } from '../core/duration.js';
import type { Family, PrefixKey } from '../core/prefix.js';
import type { PathSpec, RibPath } from '../gobgp/path.js';
import { samePath } from '../gobgp/path.js';
import type { DesiredBgp } from './desired-bgp.js';
import type { OriginatedRecord } from './originated-record.js';

/** The part of the GoBGP client the reconciler needs. */
export interface SpeakerPaths {
  listLocalPaths(family: Family): Promise<RibPath[]>;
  addPaths(paths: PathSpec[]): Promise<void>;
  deletePaths(paths: PathSpec[]): Promise<void>;
}

export interface ReconcileStats {
  kind: 'delta' | 'full';
  added: number;
  withdrawn: number;
  /** Full sync only: paths that differed from what was applied (drift repaired). */
  repaired: number;
}

export interface BgpReconcilerOptions {
  speaker: SpeakerPaths;
  record: OriginatedRecord;
  /** Every prefix the config names, served or not. */
  configuredPrefixes: ReadonlySet<PrefixKey>;
  logger: Logger;
  onApplied?: (stats: ReconcileStats) => void;
  onError?: (err: unknown) => void;
  /**
   * A full sync runs this long after the last operation ended (whatever its kind or outcome),
   * so a burst of changes is not slowed by listing the whole table in the middle of it.
   */
  fullSyncEvery?: Millis;
}

export class BgpReconciler {
  private desired: DesiredBgp = new Map();
  /** What the speaker holds of ours, as far as the last successful operation knows. */
  private applied = new Map<PrefixKey, PathSpec>();
  private wanted: 'delta' | 'full' | null = null;
  private loop: Promise<void> | null = null;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  private configured: ReadonlySet<PrefixKey>;

  constructor(private readonly opts: BgpReconcilerOptions) {
    this.configured = opts.configuredPrefixes;
  }

  /** After a config reload. Prefixes no longer configured stay managed through the record. */
  setConfiguredPrefixes(prefixes: ReadonlySet<PrefixKey>): void {
    this.configured = prefixes;
  }

  /** Sets the desired paths and sends the difference right away. */
  setDesired(next: DesiredBgp): Promise<void> {
    this.desired = next;
    return this.request('delta');
  }

  /** Compares with what gobgpd really holds and repairs the difference. */
  fullSync(): Promise<void> {
    return this.request('full');
  }

  /** Stops the periodic full sync (operations already asked for still run). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Resolves once no operation is running or wanted. */
  async idle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  /** Whether the last operation failed (the speaker is then retried by the caller's timer). */
  get healthy(): boolean {
    return this.lastError === null;
  }

  appliedPaths(): ReadonlyMap<PrefixKey, PathSpec> {
    return this.applied;
  }

  private request(kind: 'delta' | 'full'): Promise<void> {
    // A full sync subsumes a delta.
    this.wanted = this.wanted === 'full' || kind === 'full' ? 'full' : 'delta';
    if (!this.loop) {
      clearTimeout(this.timer);
      this.loop = this.drain().finally(() => {
        this.loop = null;
        this.scheduleFullSync();
      });
    }
    return this.loop;
  }

  private scheduleFullSync(): void {
    const every = this.opts.fullSyncEvery;
    if (every === undefined || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fullSync(), every);
  }

  /** One operation at a time; changes that arrive meanwhile are folded into the next one. */
  private async drain(): Promise<void> {
    while (this.wanted) {
      const kind = this.wanted;
      this.wanted = null;
      try {
        const stats = kind === 'full' ? await this.runFull() : await this.runDelta();
        if (this.lastError) this.opts.logger.info({ kind }, 'speaker reachable again: paths in sync');
        this.lastError = null;
        this.opts.onApplied?.(stats);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (message !== this.lastError) this.opts.logger.warn({ kind, err: message }, 'could not update the speaker; retrying on the next reconcile');
        this.lastError = message;
        this.opts.onError?.(err);
        // What the speaker holds is now unknown: the next timer tick runs a full sync.
        return;
      }
    }
  }

  private async runDelta(): Promise<ReconcileStats> {
    const withdraw: PathSpec[] = [];
    for (const [key, path] of this.applied) if (!this.desired.has(key)) withdraw.push(path);
    const add: PathSpec[] = [];
    for (const [key, { path }] of this.desired) {
      const have = this.applied.get(key);
      if (!have || !samePath(have, path)) add.push(path);
    }
    await this.apply(withdraw, add, [], new Map(this.desired));
    return { kind: 'delta', added: add.length, withdrawn: withdraw.length, repaired: 0 };
  }

  private async runFull(): Promise<ReconcileStats> {
    const desired = new Map(this.desired);
    const managed = new Set<PrefixKey>([...this.configured, ...this.opts.record.all(), ...desired.keys()]);
    const held = new Map<PrefixKey, RibPath[]>();
    for (const family of [4, 6] as const) {
      for (const path of await this.opts.speaker.listLocalPaths(family)) {
        if (!managed.has(path.prefix.key)) continue; // not ours: never touched
        const list = held.get(path.prefix.key);
        if (list) list.push(path);
        else held.set(path.prefix.key, [path]);
      }
    }

    const withdraw: PathSpec[] = [];
    const add: PathSpec[] = [];
    const removeFirst: PathSpec[] = [];
    let repaired = 0;
    for (const [key, paths] of held) {
      const want = desired.get(key);
      if (!want) {
        withdraw.push(...paths);
        if (!this.applied.has(key)) repaired++;
      } else if (paths.length > 1) {
        // Duplicates (e.g. added by hand with another path id): clear them, then add ours.
        removeFirst.push(...paths);
        add.push(want.path);
        repaired++;
      } else if (!samePath(paths[0]!, want.path)) {
        add.push(want.path); // re-adding the same prefix replaces the path
        repaired++;
      }
    }
    for (const [key, { path }] of desired) {
      if (!held.has(key)) {
        add.push(path);
        if (this.applied.has(key)) repaired++;
      }
    }
    if (repaired > 0) {
      this.opts.logger.warn({ repaired, added: add.length, withdrawn: withdraw.length + removeFirst.length }, 'speaker table drifted from the desired state: repaired');
    }
    await this.apply(withdraw, add, removeFirst, desired);
    this.opts.record.replace(desired.keys());
    return { kind: 'full', added: add.length, withdrawn: withdraw.length, repaired };
  }

  private async apply(withdraw: PathSpec[], add: PathSpec[], removeFirst: PathSpec[], target: Map<PrefixKey, { path: PathSpec }>): Promise<void> {
    // Withdrawals first: a failing service must leave the routers as fast as possible.
    if (withdraw.length > 0) await this.opts.speaker.deletePaths(withdraw);
    if (removeFirst.length > 0) await this.opts.speaker.deletePaths(removeFirst);
    if (add.length > 0) {
      // Recorded before announced: a crash in between must not leave an unknown path behind.
      this.opts.record.addAll(add.map((p) => p.prefix.key));
      await this.opts.speaker.addPaths(add);
    }
    this.applied = new Map([...target].map(([key, { path }]) => [key, path]));
  }
}
