/**
 * Watches BIRD's table in the background for the cluster lab: every few milliseconds (well
 * under 20 ms) it reads the routes of each watched prefix and records which sites announce
 * it, told apart by BGP next hop. Tests then ask questions of the whole history — "was there
 * a sample where both sites announced db?" — instead of hoping to look at the right moment.
 */
import type { Millis } from '../src/core/duration.js';
import { parsePrefix, type Prefix } from '../src/core/prefix.js';
import { BirdControl } from './bird-control.js';
import { waitUntil } from './wait.js';

/** One reading of BIRD's table: for each watched prefix, the sites announcing it. */
export interface Sample<S extends string> {
  /** Date.now() when the reading was asked for. */
  at: number;
  announcers: ReadonlyMap<string, ReadonlySet<S>>;
}

export interface SamplerOptions<S extends string> {
  socketPath: string;
  /** The prefixes to watch, as written in the config (`203.0.113.20/32`). */
  prefixes: readonly string[];
  /** Next-hop address → site. A route with an unknown next hop is recorded under `unknown`. */
  siteOf: (nextHop: string) => S | undefined;
  /** Pause between readings (default 5 ms): a reading itself takes a millisecond or two. */
  pause?: Millis;
}

export class AnnouncementSampler<S extends string> {
  readonly samples: Sample<S | 'unknown'>[] = [];
  /** The longest time between the starts of two readings, to report the sampling resolution. */
  maxGap = 0;
  private running = true;
  private readonly loop: Promise<void>;
  private readonly prefixes: Prefix[];

  private constructor(private readonly control: BirdControl, private readonly opts: SamplerOptions<S>) {
    this.prefixes = opts.prefixes.map((p) => parsePrefix(p));
    this.loop = this.run();
  }

  /** Opens its own control connection (so test queries never queue behind it) and starts reading. */
  static async start<S extends string>(opts: SamplerOptions<S>): Promise<AnnouncementSampler<S>> {
    return new AnnouncementSampler(await BirdControl.connect(opts.socketPath), opts);
  }

  private async run(): Promise<void> {
    const pause = this.opts.pause ?? 5;
    let last = 0;
    while (this.running) {
      const at = Date.now();
      if (last) this.maxGap = Math.max(this.maxGap, at - last);
      last = at;
      try {
        const tables = await Promise.all(this.prefixes.map((p) => this.control.showRoute(p)));
        const announcers = new Map<string, Set<S | 'unknown'>>();
        this.prefixes.forEach((p, i) => {
          const sites = new Set<S | 'unknown'>();
          for (const route of tables[i]!) {
            const hop = route.bgp.nextHop[0] ?? route.gateways[0]?.address ?? '';
            sites.add(this.opts.siteOf(hop) ?? 'unknown');
          }
          announcers.set(p.key, sites);
        });
        this.samples.push({ at, announcers });
      } catch {
        if (!this.running) break;
        // BIRD is always up in the cluster lab; a failed read is simply a missing sample.
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  /** Index of the next sample: pass it as `from` to look only at what happens after now. */
  mark(): number {
    return this.samples.length;
  }

  /** Samples since `from` in which `prefix` was announced by more than one site. */
  overlaps(prefix: string, from = 0): Sample<S | 'unknown'>[] {
    const key = parsePrefix(prefix).key;
    return this.samples.slice(from).filter((s) => (s.announcers.get(key)?.size ?? 0) > 1);
  }

  /** Samples since `from` in which `site` announced `prefix`. */
  announcedBy(prefix: string, site: S, from = 0): Sample<S | 'unknown'>[] {
    const key = parsePrefix(prefix).key;
    return this.samples.slice(from).filter((s) => s.announcers.get(key)?.has(site));
  }

  /** The first sample since `from` (and its time) where `prefix` is announced by exactly `sites`. */
  firstWith(prefix: string, sites: readonly S[], from = 0): Sample<S | 'unknown'> | undefined {
    const key = parsePrefix(prefix).key;
    return this.samples.slice(from).find((s) => sameSet(s.announcers.get(key), sites));
  }

  /**
   * Waits until a sample since `from` shows `prefix` announced by exactly `sites`, and returns
   * it (its time is when BIRD first showed it, to the sampler's resolution).
   */
  waitFor(prefix: string, sites: readonly S[], from: number, timeout: Millis): Promise<Sample<S | 'unknown'>> {
    return waitUntil(() => this.firstWith(prefix, sites, from), { timeout, interval: 10 as Millis, what: `a sample with ${prefix} from exactly [${sites.join(',')}]` });
  }

  /** A readable line per change of the announcers, for failure messages and the report. */
  timeline(from = 0): string[] {
    const out: string[] = [];
    let previous = '';
    const start = this.samples[from]?.at ?? 0;
    for (const s of this.samples.slice(from)) {
      const text = [...s.announcers].map(([p, sites]) => `${p}:[${[...sites].sort().join(',')}]`).join(' ');
      if (text !== previous) out.push(`+${s.at - start} ms ${text}`);
      previous = text;
    }
    return out;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.control.close();
  }
}

function sameSet<T>(set: ReadonlySet<T> | undefined, items: readonly T[]): boolean {
  const size = set?.size ?? 0;
  return size === items.length && items.every((i) => set?.has(i));
}
