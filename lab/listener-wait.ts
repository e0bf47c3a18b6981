/**
 * Waiting for something a lab watcher learns by events (a process's output, a prober's
 * answers, a packet capture): check now and at every notification of `listeners`, settle at
 * the first outcome, and always remove the listener and the timer.
 */
import type { Millis } from '../src/core/duration.js';

export interface ListenerWait<T> {
  /** The value waited for, or undefined while it has not come. */
  probe: () => T | undefined;
  /** An error once waiting is pointless (the watched process exited), else undefined. */
  failed?: () => Error | undefined;
  /** The error when `timeout` passes first (built then, so it can quote the latest state). */
  timedOut: () => Error;
  timeout: Millis;
}

export function waitOnListeners<T>(listeners: Set<() => void>, wait: ListenerWait<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      listeners.delete(check);
      settle();
    };
    const check = (): void => {
      const value = wait.probe();
      if (value !== undefined) return finish(() => resolve(value));
      const failure = wait.failed?.();
      if (failure) finish(() => reject(failure));
    };
    const timer = setTimeout(() => finish(() => reject(wait.timedOut())), wait.timeout);
    listeners.add(check);
    check();
  });
}
