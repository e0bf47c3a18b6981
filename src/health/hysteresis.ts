/**
 * Rise/fall hysteresis of one check, as a pure function: a check changes state only after
 * `rise` passes (or `fall` failures) in a row, so one lost packet does not move a service.
 */
export interface HysteresisState {
  up: boolean;
  /** Consecutive passes (0 after any failure). */
  passes: number;
  /** Consecutive failures (0 after any pass). */
  fails: number;
}

/** Every check starts DOWN: a service is announced only after it has shown `rise` passes. */
export const INITIAL_HYSTERESIS: HysteresisState = { up: false, passes: 0, fails: 0 };

export function applyResult(state: HysteresisState, ok: boolean, limits: { rise: number; fall: number }): HysteresisState {
  if (ok) {
    const passes = state.passes + 1;
    return { up: state.up || passes >= limits.rise, passes, fails: 0 };
  }
  const fails = state.fails + 1;
  return { up: state.up && fails < limits.fall, passes: 0, fails };
}
