/** zod's issues as findings, with messages written for operators rather than programmers. */
import type { z } from 'zod';
import type { Finding, PathSegment } from './finding.js';
import { splitUnknownKeyMessages } from './unknown-keys.js';

/**
 * The per-parse error map: fills in a message wherever a schema did not set its own.
 * zod's defaults ("Invalid input: expected string, received number") name JavaScript types;
 * an operator edits YAML, so say what to write instead.
 */
export const operatorMessages: z.core.$ZodErrorMap = (iss) => {
  const last = iss.path?.[iss.path.length - 1];
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return typeof last === 'string' ? `"${last}" is required` : 'a value is required';
      return `expected ${describeExpected(iss.expected)}, got ${describeInput(iss.input)}`;
    case 'invalid_value':
      return `expected ${iss.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${describeInput(iss.input)}`;
    case 'too_small':
      if (iss.origin === 'array') return `needs at least ${iss.minimum} item${Number(iss.minimum) === 1 ? '' : 's'}`;
      if (iss.origin === 'string') return Number(iss.minimum) <= 1 ? 'must not be empty' : `needs at least ${iss.minimum} characters`;
      return `must be at least ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'array') return `takes at most ${iss.maximum} items`;
      if (iss.origin === 'string') return `takes at most ${iss.maximum} characters`;
      return `must be at most ${iss.maximum}`;
    case 'invalid_key':
      return 'invalid key';
    default:
      return undefined;
  }
};

function describeExpected(expected: string): string {
  switch (expected) {
    case 'string': return 'text';
    case 'number': return 'a number';
    case 'int': return 'a whole number';
    case 'boolean': return 'true or false';
    case 'object': return 'a mapping (key: value)';
    case 'array': return 'a list';
    case 'record': return 'a mapping (key: value)';
    default: return expected;
  }
}

function describeInput(input: unknown): string {
  if (input === null) return 'nothing (null)';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return `text "${input}"`;
  if (typeof input === 'number') return Number.isInteger(input) ? `the number ${input}` : `the number ${input}`;
  if (typeof input === 'boolean') return `${input}`;
  return typeof input;
}

/** One finding per issue; an issue naming several unknown keys becomes one per key. */
export function issuesToFindings(issues: readonly z.core.$ZodIssue[], prefix: PathSegment[]): Finding[] {
  const findings: Finding[] = [];
  for (const iss of issues) {
    const path = [...prefix, ...iss.path.filter((p): p is PathSegment => typeof p !== 'symbol')];
    if (iss.code === 'unrecognized_keys') {
      const messages = splitUnknownKeyMessages(iss.message, iss.keys);
      iss.keys.forEach((key, i) => findings.push({ path: [...path, key], severity: 'error', message: messages[i]!, at: 'key' }));
    } else {
      findings.push({ path, severity: 'error', message: iss.message });
    }
  }
  return findings;
}
