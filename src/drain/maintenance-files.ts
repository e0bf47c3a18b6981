/**
 * Maintenance files, as ExaBGP's healthcheck has its disable file: a file in the maintenance
 * folder named after a service drains that service. The file is the truth — `quorate drain`
 * writes it, an operator may `touch` it, and a restarted agent reads it before it decides
 * anything, so a drained service is never announced for an instant after a restart.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Millis } from '../core/duration.js';
import type { ServiceName } from '../core/ids.js';
import type { Logger } from '../observe/logger.js';

export interface MaintenanceFilesOptions {
  dir: string;
  /** The configured services: a file of another name is reported once and ignored. */
  services: () => readonly ServiceName[];
  /** Called when the drained set changed through the folder (a file came or went). */
  onChange: (drained: ReadonlySet<ServiceName>, cause: string) => void;
  /** How often the folder is read besides change notifications (which can be missed). */
  every: Millis;
  logger: Logger;
}

export class MaintenanceFiles {
  private drainedNow = new Set<ServiceName>();
  private readonly strangers = new Set<string>();
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  /** Reads run one after another, so a drain's own read never overlaps an older one. */
  private reads: Promise<void> = Promise.resolve();

  constructor(private readonly opts: MaintenanceFilesOptions) {}

  /** The file that drains `service`. */
  fileOf(service: ServiceName): string {
    return join(this.opts.dir, service);
  }

  drained(): ReadonlySet<ServiceName> {
    return this.drainedNow;
  }

  /**
   * Reads the folder now, synchronously: the agent calls this before its first decision.
   * Creates the folder if it is missing (0700: only the agent's user drains by file).
   */
  load(): ReadonlySet<ServiceName> {
    mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    this.drainedNow = this.filter(readdirSync(this.opts.dir));
    return this.drainedNow;
  }

  /** Watches the folder; a change is reported through onChange. */
  start(): void {
    try {
      this.watcher = watch(this.opts.dir, () => void this.refresh('maintenance file changed'));
      this.watcher.on('error', () => undefined); // the periodic read still runs
    } catch (err) {
      this.opts.logger.warn({ dir: this.opts.dir, err: String(err) }, 'cannot watch the maintenance folder; reading it periodically');
    }
    this.timer = setInterval(() => void this.refresh('maintenance folder read'), this.opts.every);
    this.timer.unref();
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.timer);
  }

  /**
   * Drains or undrains services by writing or removing their files (durable before it returns:
   * written to a temporary name, synced, renamed). Returns the new drained set.
   */
  async set(services: readonly ServiceName[], drained: boolean, by: string): Promise<ReadonlySet<ServiceName>> {
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    for (const service of services) {
      const file = this.fileOf(service);
      if (drained) {
        const temp = `${file}.${process.pid}.tmp`;
        const handle = await open(temp, 'w', 0o600);
        try {
          await handle.writeFile(`drained by ${by} at ${new Date().toISOString()}\n`);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, file);
      } else {
        await rm(file, { force: true });
      }
    }
    await this.refresh(drained ? 'drain' : 'undrain', false);
    return this.drainedNow;
  }

  private refresh(cause: string, report = true): Promise<void> {
    this.reads = this.reads.then(async () => {
      const next = this.filter(await readdir(this.opts.dir).catch(() => []));
      const before = this.drainedNow;
      this.drainedNow = next;
      const changed = next.size !== before.size || [...next].some((s) => !before.has(s));
      if (changed && report) this.opts.onChange(next, cause);
    });
    return this.reads;
  }

  private filter(names: readonly string[]): Set<ServiceName> {
    const known = new Map<string, ServiceName>(this.opts.services().map((s) => [s, s]));
    const out = new Set<ServiceName>();
    for (const name of names) {
      if (name.endsWith('.tmp')) continue;
      const service = known.get(name);
      if (service) out.add(service);
      else if (!this.strangers.has(name)) {
        this.strangers.add(name);
        this.opts.logger.warn({ file: join(this.opts.dir, name) }, `maintenance file "${name}" names no configured service: ignored`);
      }
    }
    return out;
  }
}
