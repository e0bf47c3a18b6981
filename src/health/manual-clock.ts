/**
 * A clock that moves only when told to: tests of the monitor (and of modules that drive one)
 * advance it and see exactly which runs, timeouts and changes happen.
 */
import type { Clock } from './clock.js';

interface PendingTimer { due: number; seq: number; fn: () => void }

export class ManualClock implements Clock {
  private current: number;
  private readonly timers = new Set<PendingTimer>();
  private seq = 0;

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(delayMs: number, fn: () => void): () => void {
    const timer: PendingTimer = { due: this.current + Math.max(0, delayMs), seq: this.seq++, fn };
    this.timers.add(timer);
    return () => {
      this.timers.delete(timer);
    };
  }

  /** Timers not yet run or cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward by `ms`, running every timer that falls due, in order, at its own due
   * time. Between timers it lets promise callbacks and I/O callbacks run, so a probe that
   * answers "immediately" has answered before the next timer.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await settle();
    for (;;) {
      const next = this.nextDue();
      if (!next || next.due > target) break;
      this.timers.delete(next);
      this.current = next.due;
      next.fn();
      await settle();
    }
    this.current = target;
    await settle();
  }

  private nextDue(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** One turn of the event loop: pending promise callbacks, then setImmediate's queue. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
