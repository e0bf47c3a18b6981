// Original file: proto/gobgp/gobgp.proto

import type { TimersConfig as _apipb_TimersConfig, TimersConfig__Output as _apipb_TimersConfig__Output } from '../apipb/TimersConfig.js';
import type { TimersState as _apipb_TimersState, TimersState__Output as _apipb_TimersState__Output } from '../apipb/TimersState.js';

export interface Timers {
  'config'?: (_apipb_TimersConfig | null);
  'state'?: (_apipb_TimersState | null);
}

export interface Timers__Output {
  'config': (_apipb_TimersConfig__Output | null);
  'state': (_apipb_TimersState__Output | null);
}
