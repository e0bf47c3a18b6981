/** What every benchmark gets from the runner: its trial count, a progress line, and cleanup. */
export interface Teardownable {
  teardown(): Promise<void>;
}

export interface BenchContext {
  trials: number;
  progress(message: string): void;
  /**
   * Runs `body` with a lab that is torn down afterwards, on failure too; the runner also
   * tears it down on Ctrl-C (the lab's own exit guard covers a crash).
   */
  withLab<L extends Teardownable, T>(create: () => Promise<L>, body: (lab: L) => Promise<T>): Promise<T>;
}
