/**
 * The quorum chain, as in the Linux-HA quorum API: modules are consulted in order; each says
 * HAVEQUORUM, NOQUORUM or QUORUMTIE; a tie passes to the next module; a tie from the last
 * module is NOQUORUM. Pure: every module's input is a value, time included.
 */
import type { Millis } from '../core/duration.js';

export type ModuleVerdict =
  /** `until`: the instant (monotonic) the verdict stops holding; undefined = while the inputs hold. */
  | { vote: 'HAVEQUORUM'; until?: Millis; reason: string }
  | { vote: 'NOQUORUM'; reason: string }
  | { vote: 'QUORUMTIE'; reason: string };

export interface QuorumVerdict {
  quorate: boolean;
  /** While quorate: the instant the node must have stopped serving by, if bounded (a lease). */
  validUntil?: Millis;
  /** Which module decided, and why — logged and exposed as is. */
  reason: string;
  /** Every consulted module's say, in order. */
  trail: { module: string; verdict: ModuleVerdict }[];
}

export function runQuorumChain(modules: { name: string; verdict: ModuleVerdict }[]): QuorumVerdict {
  const trail: QuorumVerdict['trail'] = [];
  for (const { name, verdict } of modules) {
    trail.push({ module: name, verdict });
    if (verdict.vote === 'HAVEQUORUM') {
      return { quorate: true, validUntil: verdict.until, reason: `${name}: ${verdict.reason}`, trail };
    }
    if (verdict.vote === 'NOQUORUM') return { quorate: false, reason: `${name}: ${verdict.reason}`, trail };
  }
  const last = trail.at(-1);
  return {
    quorate: false,
    reason: last ? `${last.module}: ${last.verdict.reason} (a tie from the last module is no quorum)` : 'no quorum module configured',
    trail,
  };
}
