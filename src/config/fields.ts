/**
 * Schemas for the scalar values a config file spells as text (durations, prefixes,
 * addresses, communities, paths) and the strict mapping every section is built from.
 * Each turns the operator's text into the typed value the rest of quorate uses, or
 * fails with a message that says what was expected.
 */
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration, type Millis } from '../core/duration.js';
import { parsePrefix, type Prefix } from '../core/prefix.js';
import type { HostPort, LargeCommunity } from './types.js';
import { unknownKeyMessages } from './unknown-keys.js';

/**
 * A mapping that rejects keys it does not know. Every section uses it: a typo such as
 * `intervall` must be an error, not a silently ignored key that leaves a default in force.
 */
export function section<S extends z.core.$ZodLooseShape>(shape: S) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? unknownKeyMessages(iss.keys, known) : undefined),
  });
}

/**
 * The text parseDuration accepts, as a JSON Schema pattern, so an editor flags `5` or `5 s`
 * while it is typed. parseDuration trims the text first, hence the optional white space.
 */
export const DURATION_PATTERN = '^\\s*[0-9]+(\\.[0-9]+)?(ms|s|m|h)\\s*$';

export const duration = z.string().transform((text, ctx): Millis => {
  const d = parseDuration(text);
  if (d === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration: write a number and a unit, e.g. 500ms, 2s, 1.5s, 1m` });
    return z.NEVER;
  }
  return d;
}).meta({
  title: 'duration',
  pattern: DURATION_PATTERN,
  // Shown by the YAML language server instead of the bare pattern.
  patternErrorMessage: 'a duration is a number and a unit: 500ms, 2s, 1.5s, 1m, 1h',
});

/** A duration that must be above zero (intervals, timeouts, leases). */
export const positiveDuration = duration.refine((d) => d > 0, { message: 'must be longer than 0ms' });

export const prefix = z.string().transform((text, ctx): Prefix => {
  try {
    return parsePrefix(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
}).meta({ title: 'prefix' });

export const ipAddress = (family?: 4 | 6) =>
  z.string().refine((s) => (family ? isIP(s) === family : isIP(s) !== 0), {
    message: family ? `expected an IPv${family} address` : 'expected an IP address',
  }).meta({ title: family ? `IPv${family} address` : 'IP address' });

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An IP address or a DNS name (without port). */
export const host = z.string().refine((s) => isIP(s) !== 0 || HOSTNAME_RE.test(s), {
  message: 'expected an IP address or a host name',
}).meta({ title: 'IP address or host name' });

export const port = z.number().int().min(1).max(65535).meta({ title: 'port' });

/** `192.0.2.1:7480`, `[2001:db8::1]:7480` or `name.example:7480`. */
export const hostPort = z.string().transform((text, ctx): HostPort => {
  const parsed = parseHostPort(text);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
}).meta({ title: 'HOST:PORT' });

function parseHostPort(text: string): HostPort | string {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const plain = /^([^:[\]]+):(\d+)$/.exec(text);
  const match = bracketed ?? plain;
  if (!match) {
    return isIP(text) === 6
      ? `"${text}" needs a port; write an IPv6 address with its port as [${text}]:PORT`
      : `"${text}" is not HOST:PORT (e.g. 192.0.2.1:7480 or [2001:db8::1]:7480)`;
  }
  const [, h, p] = match as unknown as [string, string, string];
  if (bracketed && isIP(h) !== 6) return `"${h}" in brackets must be an IPv6 address`;
  if (!bracketed && isIP(h) === 0 && !HOSTNAME_RE.test(h)) return `"${h}" is neither an IP address nor a host name`;
  const n = Number(p);
  if (!Number.isInteger(n) || n < 1 || n > 65535) return `port ${p} is not in 1..65535`;
  return { host: h, port: n };
}

/** Node, cluster and service names: they appear in file paths, certificates and metrics labels. */
export const identifier = (what: string) =>
  z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62})$/, {
    message: `a ${what} is 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit`,
  }).meta({ title: 'name', patternErrorMessage: `a ${what} is 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit` });

/** `"65001:100"` → 65001·2¹⁶ + 100, the 32-bit value BGP carries (RFC 1997). */
export const community = z.string().transform((text, ctx): number => {
  const match = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  const asn = match ? Number(match[1]) : NaN;
  const value = match ? Number(match[2]) : NaN;
  if (!(asn <= 0xffff && value <= 0xffff)) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a community: write "ASN:VALUE", each 0..65535 (e.g. "65001:100")` });
    return z.NEVER;
  }
  // Multiplication, not `<<`: 65001 << 16 overflows JavaScript's signed 32-bit shift.
  return asn * 0x10000 + value;
}).meta({ title: 'community "ASN:VALUE"', pattern: '^[0-9]{1,5}:[0-9]{1,5}$', patternErrorMessage: 'a community is "ASN:VALUE", each 0..65535, e.g. "65001:100"' });

/** `"65001:1:10"` → { global, local1, local2 } (RFC 8092), each a 32-bit number. */
export const largeCommunity = z.string().transform((text, ctx): LargeCommunity => {
  const match = /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(text);
  const parts = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [];
  if (parts.length !== 3 || parts.some((n) => n > 0xffffffff)) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a large community: write "ASN:X:Y", each 0..4294967295 (e.g. "65001:1:10")` });
    return z.NEVER;
  }
  const [global, local1, local2] = parts as [number, number, number];
  return { global, local1, local2 };
}).meta({
  title: 'large community "ASN:X:Y"',
  pattern: '^[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}$',
  patternErrorMessage: 'a large community is "ASN:X:Y", each 0..4294967295, e.g. "65001:1:10"',
});

/** A file or folder path; a relative one is taken relative to the config file's folder. */
export const pathIn = (baseDir: string) =>
  z.string().min(1, { message: 'must not be empty' }).transform((p) => (isAbsolute(p) ? p : resolve(baseDir, p)))
    .meta({ title: 'path' });

export const uint32 = z.number().int().min(0).max(0xffffffff);
