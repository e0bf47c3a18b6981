// Original file: proto/gobgp/gobgp.proto

import type { TableType as _apipb_TableType, TableType__Output as _apipb_TableType__Output } from '../apipb/TableType.js';
import type { Family as _apipb_Family, Family__Output as _apipb_Family__Output } from '../apipb/Family.js';
import type { TableLookupPrefix as _apipb_TableLookupPrefix, TableLookupPrefix__Output as _apipb_TableLookupPrefix__Output } from '../apipb/TableLookupPrefix.js';

// Original file: proto/gobgp/gobgp.proto

export const _apipb_ListPathRequest_SortType = {
  NONE: 'NONE',
  PREFIX: 'PREFIX',
} as const;

export type _apipb_ListPathRequest_SortType =
  | 'NONE'
  | 0
  | 'PREFIX'
  | 1

export type _apipb_ListPathRequest_SortType__Output = typeof _apipb_ListPathRequest_SortType[keyof typeof _apipb_ListPathRequest_SortType]

export interface ListPathRequest {
  'table_type'?: (_apipb_TableType);
  'name'?: (string);
  'family'?: (_apipb_Family | null);
  'prefixes'?: (_apipb_TableLookupPrefix)[];
  'sort_type'?: (_apipb_ListPathRequest_SortType);
  'enable_filtered'?: (boolean);
  'enable_nlri_binary'?: (boolean);
  'enable_attribute_binary'?: (boolean);
  'enable_only_binary'?: (boolean);
}

export interface ListPathRequest__Output {
  'table_type': (_apipb_TableType__Output);
  'name': (string);
  'family': (_apipb_Family__Output | null);
  'prefixes': (_apipb_TableLookupPrefix__Output)[];
  'sort_type': (_apipb_ListPathRequest_SortType__Output);
  'enable_filtered': (boolean);
  'enable_nlri_binary': (boolean);
  'enable_attribute_binary': (boolean);
  'enable_only_binary': (boolean);
}
