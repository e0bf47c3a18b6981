/**
 * Who gets a free lease when several partitions of one cluster ask within a settle window.
 * The order (DESIGN.md "Quorum"): more votes; on equal votes the partition that holds or
 * last held the lease (sticky: a flapping link must not move the service back and forth);
 * then the partition of the configured `prefer` node; then the partition with the lowest node
 * id. Arrival order is deliberately not a rule: first-come would race with a side that has not
 * yet noticed the cut, and make the policy meaningless.
 */
import type { NodeId } from '../core/ids.js';
import type { PartitionKey } from './lease-ask.js';

export interface Contender {
  key: PartitionKey;
  /** Sorted member ids. */
  partition: readonly NodeId[];
  votes: number;
}

export interface PolicyContext {
  /** The partition of the cluster's latest grant, and whether that lease may still be valid. */
  lastHolder?: { key: PartitionKey; stillValid: boolean };
  prefer?: NodeId;
}

export interface PolicyOutcome<C extends Contender> {
  winner: C;
  /** The rule that separated the winner from the runner-up, in words, for logs and answers. */
  criterion: string;
}

type Rule = { name: (c: Contender, ctx: PolicyContext) => string; compare: (a: Contender, b: Contender, ctx: PolicyContext) => number };

const RULES: Rule[] = [
  {
    name: (c) => `more votes (${c.votes})`,
    compare: (a, b) => b.votes - a.votes,
  },
  {
    name: (_c, ctx) => (ctx.lastHolder?.stillValid ? 'equal votes, current holder' : 'equal votes, held it last'),
    compare: (a, b, ctx) => Number(b.key === ctx.lastHolder?.key) - Number(a.key === ctx.lastHolder?.key),
  },
  {
    name: (_c, ctx) => `equal votes, holds the preferred node ${ctx.prefer}`,
    compare: (a, b, ctx) =>
      ctx.prefer === undefined ? 0 : Number(b.partition.includes(ctx.prefer)) - Number(a.partition.includes(ctx.prefer)),
  },
  {
    name: (c) => `equal votes, lowest node id (${c.partition[0]})`,
    compare: (a, b) => compareMembers(a.partition, b.partition),
  },
];

/**
 * Lowest node id first; when two partitions share their lowest id (views that are not
 * transitive), the next id decides, and so on: distinct member sets always differ somewhere.
 */
function compareMembers(a: readonly NodeId[], b: readonly NodeId[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}

function compare(a: Contender, b: Contender, ctx: PolicyContext): { order: number; rule?: Rule } {
  for (const rule of RULES) {
    const order = rule.compare(a, b, ctx);
    if (order !== 0) return { order, rule };
  }
  return { order: 0 };
}

/** The winner among `contenders` (at least one). Pure. */
export function chooseWinner<C extends Contender>(contenders: readonly C[], ctx: PolicyContext): PolicyOutcome<C> {
  if (contenders.length === 0) throw new Error('chooseWinner needs at least one contender');
  let winner = contenders[0]!;
  for (const c of contenders.slice(1)) if (compare(c, winner, ctx).order < 0) winner = c;
  // The runner-up is the contender beaten only by the latest rule: that rule decided.
  let decisive = -1;
  for (const c of contenders) {
    if (c === winner) continue;
    const { rule } = compare(winner, c, ctx);
    decisive = Math.max(decisive, rule ? RULES.indexOf(rule) : RULES.length - 1);
  }
  return { winner, criterion: decisive >= 0 ? RULES[decisive]!.name(winner, ctx) : 'the only partition heard' };
}
