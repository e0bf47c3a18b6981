/**
 * One takeover as the client saw it, from the prober's answers to one address (probe every
 * 10 ms): the outage the issue asks for — from the last answer before the fault to the first
 * answer from the new holder — and the longest silence in that stretch (they differ when the
 * old holder keeps answering after the fault: an agent death with the address still alive, or
 * keepalived's crash). Pure, over recorded answers.
 */
import { ms, type Millis } from '../src/core/duration.js';
import type { EpochMillis } from '../lab/arp-clock.js';
import type { ProbeSample } from '../lab/arp-prober.js';

export interface TakeoverSeen {
  /** Last answer before the fault → first answer from the new holder. */
  outage: Millis;
  /** The longest gap between two consecutive answers (from anyone) within that stretch. */
  silence: Millis;
  /** The node that answered first after the fault other than the old holder. */
  newHolder: string;
  /** Its first answer (lab clock). */
  firstNewAt: EpochMillis;
  /** Answers from the old holder after the fault. */
  oldAnswersAfterFault: number;
}

/** `answers`: one target's answers; `oldHolder`: who answered before the fault. Undefined while no other node has answered. */
export function takeoverSeen(answers: readonly ProbeSample[], faultAt: EpochMillis, oldHolder: string): TakeoverSeen | undefined {
  const sorted = [...answers].sort((a, b) => a.receivedAt - b.receivedAt);
  const before = sorted.filter((a) => a.receivedAt < faultAt).at(-1);
  if (!before) throw new Error('takeoverSeen: no answer before the fault');
  const firstNew = sorted.find((a) => a.receivedAt >= faultAt && a.node !== oldHolder);
  if (!firstNew) return undefined;
  const stretch = sorted.filter((a) => a.receivedAt >= before.receivedAt && a.receivedAt <= firstNew.receivedAt);
  let silence = 0;
  for (let i = 1; i < stretch.length; i++) silence = Math.max(silence, stretch[i]!.receivedAt - stretch[i - 1]!.receivedAt);
  return {
    outage: ms(firstNew.receivedAt - before.receivedAt),
    silence: ms(silence),
    newHolder: firstNew.node,
    firstNewAt: firstNew.receivedAt,
    oldAnswersAfterFault: stretch.filter((a) => a.receivedAt >= faultAt && a.node === oldHolder).length,
  };
}
