// Original file: proto/gobgp/gobgp.proto

import type { TableType as _apipb_TableType, TableType__Output as _apipb_TableType__Output } from '../apipb/TableType.js';
import type { Family as _apipb_Family, Family__Output as _apipb_Family__Output } from '../apipb/Family.js';
import type { Path as _apipb_Path, Path__Output as _apipb_Path__Output } from '../apipb/Path.js';

export interface DeletePathRequest {
  'table_type'?: (_apipb_TableType);
  'vrf_id'?: (string);
  'family'?: (_apipb_Family | null);
  'path'?: (_apipb_Path | null);
  'uuid'?: (Buffer | Uint8Array | string);
}

export interface DeletePathRequest__Output {
  'table_type': (_apipb_TableType__Output);
  'vrf_id': (string);
  'family': (_apipb_Family__Output | null);
  'path': (_apipb_Path__Output | null);
  'uuid': (Buffer);
}
