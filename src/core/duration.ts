/** A span of time in milliseconds. Branded so a bare number (seconds? ms?) cannot slip in. */
export type Millis = number & { readonly __unit: 'ms' };

export const ms = (n: number): Millis => n as Millis;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Parses `200ms`, `4s`, `1.5s`, `2m`, `1h`. Returns undefined for anything else. */
export function parseDuration(text: string): Millis | undefined {
  const match = DURATION_RE.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * UNIT_MS[match[2]!]!;
  return Number.isFinite(value) ? ms(Math.round(value)) : undefined;
}

/** The shortest exact rendering: 1500 → `1500ms`, 2000 → `2s`. */
export function formatDuration(d: Millis): string {
  if (d !== 0 && d % 3_600_000 === 0) return `${d / 3_600_000}h`;
  if (d !== 0 && d % 60_000 === 0) return `${d / 60_000}m`;
  if (d !== 0 && d % 1000 === 0) return `${d / 1000}s`;
  return `${d}ms`;
}
