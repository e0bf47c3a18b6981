/**
 * What validation found, before it has a place in a file: the path of the value in the
 * YAML document (kebab-case keys, list indices) and the message. The loader turns each
 * into a `FILE:LINE:COL` diagnostic.
 */
export type PathSegment = string | number;

export interface Finding {
  path: PathSegment[];
  severity: 'error' | 'warning';
  message: string;
  /** Point at the key itself rather than its value (unknown keys, misplaced sections). */
  at?: 'key';
}

export const error = (path: PathSegment[], message: string): Finding => ({ path, severity: 'error', message });
export const warning = (path: PathSegment[], message: string): Finding => ({ path, severity: 'warning', message });
