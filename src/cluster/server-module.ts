/**
 * The `server` quorum module (DESIGN.md "Quorum"): while this node's partition holds exactly
 * half of the cluster's votes it asks the quorum server for a lease, keeps it renewed, and
 * says HAVEQUORUM only until the node's end of the lease (lease.ts, where the safety argument
 * is). The shell around a pure core: timers and gRPC here, the verdict in
 * server-module-verdict.ts.
 *
 * How it asks, and why:
 *   - Only in a tie. With more than half the server does not matter, with less it cannot help.
 *   - One request in flight at a time, each with a deadline of one heartbeat interval: an
 *     answer that comes later than the next ask is due is of no use.
 *   - Without a lease it asks every heartbeat interval, counted from the previous send. The
 *     server keeps a partition in the running while it re-asks within the settle window it
 *     sent (lease-table.ts), and that window is dead-after plus one interval (DESIGN.md), so a
 *     partition that is still there is never forgotten between two asks.
 *   - Holding a lease it renews at a third of the granted length; a failed renewal is retried
 *     every interval until the lease ends. The lease counts until its end whatever the server
 *     says meanwhile (unreachable, RETRY), except a refusal, which drops it at once.
 *   - A new partition (peers seen or lost, a changed digest) is a new request: the old lease
 *     no longer counts, and answers to requests made for the old partition are ignored.
 *   - Regaining a majority releases the lease (the voting module carries the node now), and
 *     a clean shutdown releases it after the agent has withdrawn (stop(), then release()).
 *     Any grant answering a request sent before a release is ignored (lease.ts).
 */
import type { Millis } from '../core/duration.js';
import { ms } from '../core/duration.js';
import type { ClusterName, NodeId } from '../core/ids.js';
import type { Logger } from '../observe/logger.js';
import type { LeaseOutcome, LeaseRequestInput, QuorumServerClient, ReleaseOutcome } from '../quorum-server/client.js';
import { DEFAULT_LEASE_SAFETY, nodeLeaseEnd, renewalDue, sentAfterRelease, type LeaseSafety } from './lease.js';
import type { ModuleVerdict } from './quorum-chain.js';
import { monotonicModuleClock, type ModuleClock } from './server-module-clock.js';
import {
  serverModulePhase, serverModuleVerdict, type HeldLease, type LastAnswer, type ServerModuleFacts, type ServerModulePhase,
} from './server-module-verdict.js';
import {
  partitionIdentity, partitionIds, partitionStanding, partitionVotes, type PartitionStanding, type PartitionView,
} from './server-module-view.js';

/** What the module needs of the quorum server client (a fake in unit tests). */
export type LeaseClient = Pick<QuorumServerClient, 'requestLease' | 'release'>;

export interface ServerModuleOptions {
  cluster: ClusterName;
  self: NodeId;
  client: LeaseClient;
  /** The lease length asked for (the config's `lease`); the server may grant less. */
  lease: Millis;
  heartbeat: { interval: Millis; deadAfter: Millis };
  logger: Logger;
  /** Must be the clock the client stamps `sentAt` with (both default to performance.now()). */
  clock?: ModuleClock;
  safety?: LeaseSafety;
  /** Deadline of each request; one heartbeat interval by default. */
  requestTimeout?: Millis;
  /** The verdict (or its `until`) may have changed: run the quorum chain again. */
  onChange?: () => void;
}

export interface ServerModuleStatus {
  phase: ServerModulePhase;
  verdict: ModuleVerdict;
  partition: NodeId[];
  partitionVotes: number;
  totalVotes: number;
  lease?: HeldLease & { remaining: Millis };
  lastAnswer?: LastAnswer;
  requestInFlight: boolean;
  lastReleaseSentAt?: Millis;
  /** The settle window sent with every request. */
  settle: Millis;
}

const NO_VIEW: PartitionView = { members: [], totalVotes: 0, membershipDigest: new Uint8Array() };

export class ServerQuorumModule {
  private readonly clock: ModuleClock;
  private readonly safety: LeaseSafety;
  private readonly settle: Millis;
  private readonly interval: Millis;
  private readonly requestTimeout: Millis;
  private readonly log: Logger;

  private view: PartitionView = NO_VIEW;
  private identity = '';
  private standing: PartitionStanding = 'minority';
  /** Bumped with every new partition: answers to an older generation are ignored. */
  private generation = 0;
  private lease: HeldLease | undefined;
  private last: LastAnswer | undefined;
  private inFlight = false;
  /** A request was sent since the last release: the server may count a grant for this node. */
  private askedSinceRelease = false;
  private lastReleaseSentAt: Millis | undefined;
  /** This node's send order over requests and releases (lease.ts: sentAfterRelease). */
  private sendSeq = 0;
  private lastReleaseSeq: number | undefined;
  private stopped = false;
  private cancelAsk: (() => void) | undefined;
  private cancelExpiry: (() => void) | undefined;

  constructor(private readonly opts: ServerModuleOptions) {
    this.clock = opts.clock ?? monotonicModuleClock;
    this.safety = opts.safety ?? DEFAULT_LEASE_SAFETY;
    this.interval = opts.heartbeat.interval;
    // DESIGN.md: the settle window is at least dead-after plus one interval, so that the other
    // side of a cut has noticed it (and asked) before the server decides.
    this.settle = ms(opts.heartbeat.deadAfter + opts.heartbeat.interval);
    this.requestTimeout = opts.requestTimeout ?? opts.heartbeat.interval;
    this.log = opts.logger;
  }

  /** The agent calls this with the current partition whenever membership may have changed; cheap when nothing did. */
  update(view: PartitionView): void {
    if (this.stopped) return;
    const identity = partitionIdentity(view);
    if (identity === this.identity) return;
    const before = this.standing;
    const hadLease = this.lease !== undefined && this.clock.now() < this.lease.end;
    this.view = view;
    this.identity = identity;
    this.standing = partitionStanding(view);
    this.generation++;
    this.dropLease();
    this.last = undefined;
    this.cancelAsk?.();
    this.cancelAsk = undefined;

    const votes = `${partitionVotes(view)} of ${view.totalVotes} votes`;
    const fields = { partition: partitionIds(view), votes: partitionVotes(view), totalVotes: view.totalVotes };
    if (hadLease && this.standing === 'majority') this.log.info(fields, `quorum lease no longer needed: the partition holds a majority (${votes}); releasing it`);
    else if (hadLease) this.log.warn(fields, `quorum lease lost: the partition changed (${votes}); it must be asked for again`);
    if (this.standing === 'tie') {
      this.log.info(fields, `the partition holds exactly half of the votes (${votes}): asking the quorum server`);
      this.ask();
    } else if (before === 'tie') {
      this.log.info(fields, `the partition no longer holds exactly half of the votes (${votes}): the quorum server is not consulted`);
    }
    if (this.standing === 'majority' && this.askedSinceRelease) {
      // With a majority the voting module carries the node; handing the lease back lets a
      // later split be decided afresh instead of waiting this lease out.
      void this.release();
    }
    this.opts.onChange?.();
  }

  /** The module's say at `now` (node's monotonic clock); pure given the module's state. */
  verdict(now: Millis): ModuleVerdict {
    return serverModuleVerdict(this.facts(), now);
  }

  status(now: Millis = this.clock.now()): ServerModuleStatus {
    const facts = this.facts();
    return {
      phase: serverModulePhase(facts, now),
      verdict: serverModuleVerdict(facts, now),
      partition: partitionIds(this.view),
      partitionVotes: facts.partitionVotes,
      totalVotes: facts.totalVotes,
      ...(this.lease ? { lease: { ...this.lease, remaining: ms(Math.max(0, this.lease.end - now)) } } : {}),
      ...(this.last ? { lastAnswer: this.last } : {}),
      requestInFlight: this.inFlight,
      ...(this.lastReleaseSentAt !== undefined ? { lastReleaseSentAt: this.lastReleaseSentAt } : {}),
      settle: this.settle,
    };
  }

  /**
   * Gives the lease back. Call only once this node has stopped serving on it (clean shutdown:
   * withdraw, stop(), then release()); the module calls it itself on regaining a majority. The
   * lease stops counting at once, and any grant answering a request sent before now is ignored.
   */
  async release(timeout: Millis = this.requestTimeout): Promise<ReleaseOutcome> {
    this.lastReleaseSentAt = this.clock.now();
    this.lastReleaseSeq = ++this.sendSeq;
    this.askedSinceRelease = false;
    const held = this.lease !== undefined;
    this.dropLease();
    if (this.last?.verdict === 'GRANTED') this.last = undefined;
    if (held) this.opts.onChange?.();
    const outcome = await this.opts.client.release({ cluster: this.opts.cluster, node: this.opts.self }, timeout);
    if ('unreachable' in outcome) this.log.warn({ reason: outcome.reason }, 'quorum lease release not delivered: the server counts the lease until it ends');
    else if (outcome.released) this.log.info('quorum lease released');
    else this.log.debug({ reason: outcome.reason }, 'quorum lease release: nothing held');
    return outcome;
  }

  /** Stops asking and renewing; leaves no timer. The lease, if any, still counts until its end. */
  stop(): void {
    this.stopped = true;
    this.cancelAsk?.();
    this.cancelAsk = undefined;
    this.cancelExpiry?.();
    this.cancelExpiry = undefined;
  }

  private facts(): ServerModuleFacts {
    return {
      standing: this.standing,
      partitionVotes: partitionVotes(this.view),
      totalVotes: this.view.totalVotes,
      ...(this.lease ? { lease: this.lease } : {}),
      ...(this.last ? { last: this.last } : {}),
    };
  }

  private ask(): void {
    if (this.stopped || this.inFlight || this.standing !== 'tie') return;
    this.cancelAsk?.();
    this.cancelAsk = undefined;
    const generation = this.generation;
    const view = this.view;
    const input: LeaseRequestInput = {
      cluster: this.opts.cluster,
      node: this.opts.self,
      membershipDigest: view.membershipDigest,
      partition: partitionIds(view),
      partitionVotes: partitionVotes(view),
      totalVotes: view.totalVotes,
      lease: this.opts.lease,
      settle: this.settle,
    };
    this.inFlight = true;
    this.askedSinceRelease = true;
    const seq = ++this.sendSeq;
    void this.opts.client.requestLease(input, this.requestTimeout).then((outcome) => {
      this.inFlight = false;
      if (this.stopped) return;
      if (generation !== this.generation) {
        // Asked for a partition that is no longer ours: the answer says nothing about this one.
        this.ask();
        return;
      }
      if (!sentAfterRelease(seq, this.lastReleaseSeq)) {
        this.log.debug({ verdict: outcome.verdict }, 'ignoring an answer to a request sent before the latest release');
        this.ask();
        return;
      }
      this.apply(outcome);
      this.scheduleNextAsk(outcome);
    });
  }

  private apply(outcome: LeaseOutcome): void {
    const now = this.clock.now();
    const previous = this.last;
    const held = this.lease !== undefined && now < this.lease.end;
    const fields = { partition: partitionIds(this.view), requestId: outcome.requestId };
    const answer = (verdict: LastAnswer['verdict'], extra: Partial<LastAnswer> = {}): LastAnswer =>
      ({ verdict, reason: outcome.reason, sentAt: outcome.sentAt, receivedAt: now, ...extra });

    switch (outcome.verdict) {
      case 'GRANTED': {
        const end = nodeLeaseEnd(outcome.sentAt, outcome.granted, this.safety);
        if (end <= now) {
          this.last = answer('UNUSABLE', { holderPartition: outcome.holderPartition });
          if (previous?.verdict !== 'UNUSABLE') {
            this.log.warn({ ...fields, grantedMs: outcome.granted, marginMs: this.safety.margin },
              `the quorum server granted ${outcome.granted} ms, too short to outlast the safety margin: not used (ask for a longer lease)`);
          }
          break;
        }
        this.last = answer('GRANTED', { holderPartition: outcome.holderPartition });
        const lease: HeldLease = held && this.lease
          ? { ...this.lease, sentAt: outcome.sentAt, receivedAt: now, granted: outcome.granted, end: ms(Math.max(end, this.lease.end)), renewals: this.lease.renewals + 1 }
          : { sentAt: outcome.sentAt, receivedAt: now, granted: outcome.granted, end, renewals: 0 };
        this.lease = lease;
        const detail = { ...fields, grantedMs: outcome.granted, validForMs: lease.end - now };
        if (held) this.log.debug(detail, 'quorum lease renewed');
        else this.log.info(detail, `quorum lease granted for ${outcome.granted} ms: ${outcome.reason}`);
        this.armExpiry(lease.end);
        break;
      }
      case 'REFUSED': {
        this.last = answer('REFUSED', { holderPartition: outcome.holderPartition });
        // The server no longer counts this partition as the holder: serving on would be
        // serving on a lease nobody respects. Drop it at once, not at its end.
        this.dropLease();
        if (held) {
          this.log.warn({ ...fields, holder: outcome.holderPartition }, `quorum lease lost: refused by the quorum server: ${outcome.reason}`);
        } else if (previous?.verdict !== 'REFUSED' || previous.holderPartition?.join() !== outcome.holderPartition.join()) {
          this.log.info({ ...fields, holder: outcome.holderPartition }, `quorum lease refused: ${outcome.reason}`);
        }
        break;
      }
      case 'RETRY':
      case 'UNREACHABLE': {
        this.last = answer(outcome.verdict);
        if (previous?.verdict === outcome.verdict) break;
        const what = outcome.verdict === 'RETRY' ? 'the quorum server has not decided' : 'the quorum server is unreachable';
        if (held) this.log.warn({ ...fields, validUntil: this.lease!.end }, `quorum lease renewal failed (${what}: ${outcome.reason}); it counts until it ends in ${this.lease!.end - now} ms`);
        else if (outcome.verdict === 'RETRY') this.log.info(fields, `${what}: ${outcome.reason}`);
        else this.log.warn(fields, `${what}: ${outcome.reason}`);
        break;
      }
    }
    const changed = previous?.verdict !== this.last?.verdict || outcome.verdict === 'GRANTED';
    if (changed) this.opts.onChange?.();
  }

  private scheduleNextAsk(outcome: LeaseOutcome): void {
    if (this.stopped || this.standing !== 'tie') return;
    const now = this.clock.now();
    let at: number;
    if (outcome.verdict === 'GRANTED' && this.lease && this.last?.verdict === 'GRANTED') {
      at = renewalDue(this.lease.sentAt, this.lease.granted, this.lease.end);
    } else {
      // Counted from the previous send, so asks stay one interval apart (inside the settle
      // window) even when answers are slow. RETRY may say the decision comes sooner.
      at = outcome.sentAt + this.interval;
      if (outcome.verdict === 'RETRY') at = Math.min(at, now + Math.max(outcome.retryAfter, this.interval / 10));
    }
    this.cancelAsk?.();
    this.cancelAsk = this.clock.schedule(ms(Math.max(0, at - now)), () => {
      this.cancelAsk = undefined;
      this.ask();
    });
  }

  /** At the lease's end: one log line and a fresh verdict (the chain must learn it is over). */
  private armExpiry(end: Millis): void {
    this.cancelExpiry?.();
    // Timers run on the event loop's millisecond clock and may fire a fraction of a millisecond
    // before `end` by performance.now(): round up, and re-arm if it still came early.
    this.cancelExpiry = this.clock.schedule(ms(Math.max(0, Math.ceil(end - this.clock.now()))), () => {
      this.cancelExpiry = undefined;
      if (this.stopped || !this.lease || this.lease.end !== end) return;
      if (this.clock.now() < end) {
        this.armExpiry(end);
        return;
      }
      this.log.warn({ partition: partitionIds(this.view), lastAnswer: this.last?.verdict, reason: this.last?.reason },
        'quorum lease expired without renewal');
      this.opts.onChange?.();
    });
  }

  private dropLease(): void {
    this.lease = undefined;
    this.cancelExpiry?.();
    this.cancelExpiry = undefined;
  }
}
