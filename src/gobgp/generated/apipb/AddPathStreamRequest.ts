// Original file: proto/gobgp/gobgp.proto

import type { TableType as _apipb_TableType, TableType__Output as _apipb_TableType__Output } from '../apipb/TableType.js';
import type { Path as _apipb_Path, Path__Output as _apipb_Path__Output } from '../apipb/Path.js';

export interface AddPathStreamRequest {
  'table_type'?: (_apipb_TableType);
  'vrf_id'?: (string);
  'paths'?: (_apipb_Path)[];
}

export interface AddPathStreamRequest__Output {
  'table_type': (_apipb_TableType__Output);
  'vrf_id': (string);
  'paths': (_apipb_Path__Output)[];
}
