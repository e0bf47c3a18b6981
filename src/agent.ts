/**
 * The agent: the only place that knows every part. It wires
 *   checks → health ──────────────────────┐                  ┌→ desired paths → BgpReconciler → gobgpd
 *   peers' heartbeats, quorum chain (keeper) ┴→ decide (pure) ┤
 *   interfaces (ARP usable?) ─────────────────┘                 └→ desired addresses → ArpReconciler → ip addr + GARP
 * and reports every step (logs, metrics, the status API).
 */
import type { Server } from 'node:http';
import type { AgentConfig, Method } from './config/types.js';
import { formatDuration, ms, type Millis } from './core/duration.js';
import type { ServiceName } from './core/ids.js';
import type { Prefix, PrefixKey } from './core/prefix.js';
import { decide, successor, type ServiceDecision } from './decide.js';
import type { QuorumVerdict } from './cluster/quorum-chain.js';
import { QuorumKeeper } from './cluster/quorum-keeper.js';
import { WITHDRAW_MARGIN } from './cluster/lease.js';
import type { LocalNodeState, ServiceState } from './cluster/membership-node-state.js';
import type { ServiceHealthChange } from './health/monitor.js';
import { ServiceMonitors } from './health/service-monitors.js';
import { desiredBgpPaths } from './announce/desired-bgp.js';
import { BgpReconciler } from './announce/reconcile-bgp.js';
import { OriginatedRecord } from './announce/originated-record.js';
import { GobgpClient } from './gobgp/client.js';
import { ArpReconciler, type DesiredArp } from './arp/reconcile-arp.js';
import { localHostCommands } from './arp/host-commands.js';
import { InterfaceWatch } from './arp/interface-watch.js';
import { TakeoverProbes } from './arp/takeover-probes.js';
import { ownWithdrawBound } from './cluster/withdraw-bound.js';
import { GuardedSpeaker } from './speaker/speaker.js';
import { AgentMetrics } from './observe/metrics.js';
import { controlSocketPath, startStatusServer, type DrainAnswer } from './observe/status-server.js';
import type { AgentStatusReport, ServiceReport } from './observe/status-report.js';
import { MaintenanceFiles } from './drain/maintenance-files.js';
import type { PeerInfo } from './gobgp/peer.js';
import { mkdirSync } from 'node:fs';
import { Notifier } from './observe/notify.js';
import { FlapDamping } from './health/flap-damping.js';
import type { Logger } from './observe/logger.js';

/** How often the interfaces of services via arp are read (a link down moves a service within this). */
const ARP_INTERFACE_READ_EVERY = ms(500);

/** How often the maintenance folder is read besides its change notifications. */
const MAINTENANCE_READ_EVERY = ms(1000);

/** An address is added or renewed only on a decision at most this old (src/arp/reconcile-arp.ts). */
const ARP_DECISION_FRESHNESS = ms(250);

/** Monotonic milliseconds: decisions never depend on the wall clock. */
const monotonicNow = (): Millis => ms(performance.now());

export class Agent {
  private readonly metrics = new AgentMetrics(() => {
    const q = this.quorum;
    return q?.quorate && q.validUntil !== undefined ? Math.max(0, q.validUntil - monotonicNow()) : undefined;
  });
  private readonly health: ServiceMonitors;
  /** Drained services: the maintenance files are the truth, so a drain survives a restart. */
  private readonly maintenance: MaintenanceFiles;
  private decisions = new Map<ServiceName, ServiceDecision>();
  private quorum: QuorumVerdict | undefined;
  private readonly keeper: QuorumKeeper;
  /** Re-decides when a lease or a handover wait ends (time alone changes the outcome). */
  private wakeUp: NodeJS.Timeout | undefined;
  private speaker?: GuardedSpeaker;
  private client?: GobgpClient;
  private reconciler?: BgpReconciler;
  private localAs?: number;
  private readonly statusServers: Server[] = [];
  private readonly startedAt = Date.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private unwatchPeers?: () => void;
  /** The speaker's BGP sessions, by neighbor address, as gobgpd last reported them. */
  private readonly sessions = new Map<string, PeerInfo>();
  /** Services via arp: their addresses, whether their interfaces can hold them, early-takeover probes. */
  private arp?: ArpReconciler;
  private interfaces?: InterfaceWatch;
  private probes?: TakeoverProbes;
  /** Flap damping: a held-down service counts as unhealthy; the timer re-decides when a hold ends. */
  private readonly damping = new FlapDamping();
  private releaseTimer: NodeJS.Timeout | undefined;
  private readonly notifier?: Notifier;

  constructor(private config: AgentConfig, private readonly log: Logger) {
    this.health = new ServiceMonitors({
      logger: log.child({ component: 'health' }),
      onChange: (change) => this.onHealthChange(change),
      onOutcome: ({ service, kind, outcome }) =>
        this.metrics.checkDuration.observe({ service, kind, result: outcome.ok ? 'ok' : 'fail' }, (outcome.endedAt - outcome.startedAt) / 1000),
    });
    this.maintenance = new MaintenanceFiles({
      dir: config.maintenanceDir,
      services: () => this.config.services.map((s) => s.name),
      every: MAINTENANCE_READ_EVERY,
      logger: log.child({ component: 'drain' }),
      onChange: (drained, cause) => {
        this.logDrainChanges(drained, `${cause} in ${config.maintenanceDir}`);
        this.recompute(cause);
      },
    });
    this.keeper = new QuorumKeeper({
      config,
      localState: () => this.localState(),
      onChange: () => this.recompute('cluster'),
      logger: log,
      registry: this.metrics.registry,
    });
    this.damping.configure(config.services);
    if (config.notify) {
      this.notifier = new Notifier({
        config: config.notify, node: config.node.id, cluster: config.cluster.name, logger: log.child({ component: 'notify' }),
        onResult: (result) => this.metrics.notifyRuns.inc({ result }),
      });
    }
  }

  async start(): Promise<void> {
    const { config, log } = this;
    log.info({ node: config.node.id, cluster: config.cluster.name, services: config.services.map((s) => s.name) }, 'quorate agent starting');
    // Before anything is decided: a service drained before a restart stays drained.
    const drained = this.maintenance.load();
    if (drained.size > 0) log.info({ services: [...drained], dir: config.maintenanceDir }, `starting with ${[...drained].join(', ')} drained (maintenance files)`);
    for (const s of config.services) this.metrics.serviceDrained.set({ service: s.name }, drained.has(s.name) ? 1 : 0);
    this.lastDrained = new Set(drained);
    this.maintenance.start();
    const source = {
      status: () => this.status(),
      registry: this.metrics.registry,
      setDrained: (service: string, drain: boolean, by: string) => this.setDrained(service, drain, by),
    };
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    const control = controlSocketPath(config.stateDir);
    this.statusServers.push(await startStatusServer({ socket: control }, source));
    if (config.status) {
      this.statusServers.push(await startStatusServer({ tcp: config.status.listen }, source));
      log.info({ listen: `${config.status.listen.host}:${config.status.listen.port}`, control }, 'status API listening');
    }
    // Addresses first: a restarted agent drops what it no longer should hold before anything else.
    if (config.services.some((s) => s.via.includes('arp'))) await this.startArp();
    if (config.bgp) await this.startBgp();
    await this.keeper.start();
    await this.health.apply(config.services);
    this.recompute('start');
    log.info('quorate agent started');
  }

  private async startBgp(): Promise<void> {
    const bgp = this.config.bgp!;
    let target = bgp.gobgp.address;
    if (bgp.gobgp.run) {
      this.speaker = new GuardedSpeaker({ run: bgp.gobgp.run, apiTarget: bgp.gobgp.address, logger: this.log.child({ component: 'speaker' }), autoRenew: false });
      const started = await this.speaker.start();
      target = started.target;
      // Renewed from this event loop on purpose: if the loop stalls, renewals stop and the
      // guard kills gobgpd.
      this.timers.push(setInterval(() => this.renewGuard(), Math.max(10, Math.floor(bgp.gobgp.run.stallTimeout / 4))));
      this.speaker.on('exit', (info: unknown) => void this.onSpeakerExit(info));
    }
    if (!target) throw new Error('bgp.gobgp needs `run` or `address`');
    this.client = new GobgpClient({ target, callTimeout: bgp.callTimeout, logger: this.log.child({ component: 'gobgp' }) });
    this.localAs = await this.waitForSpeaker();
    this.reconciler = new BgpReconciler({
      speaker: this.client,
      record: new OriginatedRecord(this.config.stateDir),
      configuredPrefixes: configuredPrefixes(this.config),
      logger: this.log.child({ component: 'reconcile' }),
      onApplied: (stats) => {
        this.renewGuard();
        this.metrics.reconciles.inc({ kind: stats.kind, result: 'ok' });
        this.metrics.driftRepaired.inc(stats.repaired);
        this.metrics.pathsAnnounced.set(this.reconciler?.appliedPaths().size ?? 0);
        this.metrics.bgpInSync.set(this.reconciler?.healthy ? 1 : 0);
      },
      onError: () => {
        this.metrics.reconciles.inc({ kind: 'any', result: 'error' });
        this.metrics.bgpInSync.set(0);
      },
      fullSyncEvery: bgp.reconcileInterval,
    });
    // Leftovers of an earlier run (ours, per the record) go before anything is announced.
    await this.reconciler.fullSync();
    this.unwatchPeers = this.client.watchPeers((peer) => {
      const established = peer.established;
      const before = this.sessions.get(peer.address);
      this.sessions.set(peer.address, peer);
      if (before?.established === established) return;
      this.log.info({ peer: peer.address, asn: peer.asn, state: peer.state }, established ? 'BGP session established' : 'BGP session not established');
      this.metrics.bgpPeersEstablished.set([...this.sessions.values()].filter((p) => p.established).length);
      this.recompute(`BGP session with ${peer.address} ${established ? 'established' : 'lost'}`);
    });
  }

  private async startArp(): Promise<void> {
    const { config, log } = this;
    const cmd = localHostCommands;
    const settings = config.arp;
    this.arp = new ArpReconciler({
      cmd,
      logger: log.child({ component: 'arp' }),
      options: { lifetime: settings.lifetime, garp: settings.gratuitous },
      onApplied: (stats) => {
        this.metrics.addressesHeld.set(this.arp?.held().size ?? 0);
        this.metrics.arpRepaired.inc(stats.repaired);
      },
      onError: () => this.metrics.arpErrors.inc(),
      // Renewals follow a fresh decision, never the one made before a stall (reconcile-arp.ts).
      onRenewalDue: () => this.recompute('address renewal due'),
      decisionFreshness: ARP_DECISION_FRESHNESS,
    });
    // Leftovers of an earlier run (any configured service address on its interface) go now.
    await this.arp.cleanup(config.services.flatMap((s) => (s.arp && s.via.includes('arp') ? s.prefixes.map((prefix) => ({ prefix, interface: s.arp!.interface })) : [])));
    this.interfaces = new InterfaceWatch({
      cmd, services: () => this.config.services, every: ARP_INTERFACE_READ_EVERY, logger: log.child({ component: 'arp' }),
      onChange: () => this.recompute('interface state changed'),
    });
    await this.interfaces.start();
    this.probes = new TakeoverProbes({
      cmd, count: settings.takeoverProbes.count, wait: settings.takeoverProbes.wait, now: monotonicNow,
      logger: log.child({ component: 'arp' }), onResult: (service) => this.recompute(`duplicate-address probes for ${service} done`),
    });
  }

  /**
   * Renews the guard's deadline: the stall timeout, but while anything is announced under a
   * bounded quorum (a lease), never past the lease's end plus a grace shorter than the lease
   * margin — so a stalled agent's speaker dies before the quorum server could grant the
   * lease to another partition (cluster/lease.ts has the margin's argument).
   */
  private renewGuard(): void {
    const run = this.config.bgp?.gobgp.run;
    if (!this.speaker || !run) return;
    const validUntil = this.quorum?.validUntil;
    const announcing = (this.reconciler?.appliedPaths().size ?? 0) > 0 || [...this.decisions.values()].some((d) => d.serve);
    if (validUntil === undefined || !announcing) return this.speaker.renew(run.stallTimeout);
    const left = validUntil + WITHDRAW_MARGIN / 2 - monotonicNow();
    this.speaker.renew(ms(Math.max(0, Math.min(run.stallTimeout, left))));
  }

  /** The speaker's AS (for AS-path prepend); waits, with backoff, until gobgpd answers. */
  private async waitForSpeaker(): Promise<number> {
    for (let attempt = 0, delay = 100; ; attempt++, delay = Math.min(delay * 2, 2000)) {
      try {
        const global = await this.client!.getGlobal();
        this.log.info({ asn: global.asn, routerId: global.routerId }, 'connected to gobgpd');
        return global.asn;
      } catch (err) {
        if (this.stopping) throw err;
        if (attempt === 0 || attempt % 10 === 0) this.log.warn({ err: String(err) }, 'gobgpd not answering yet');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async onSpeakerExit(info: unknown): Promise<void> {
    if (this.stopping) return;
    this.metrics.speakerRestarts.inc();
    this.log.error({ info }, 'gobgpd exited; restarting it');
    for (let delay = 200; !this.stopping; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.speaker!.start();
        // Same socket path, same client: it reconnects by itself. Put the paths back at once.
        await this.reconciler?.fullSync();
        return;
      } catch (err) {
        this.log.error({ err: String(err) }, 'could not restart gobgpd');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private onHealthChange(change: ServiceHealthChange): void {
    this.metrics.serviceHealthy.set({ service: change.service }, change.healthy ? 1 : 0);
    this.dampAndNotify(change);
    // `checkEndedAt`: when the deciding probe returned (epoch ms), so the agent's own share of a
    // failover can be measured from the log (bench/).
    this.recompute(`${change.service} ${change.healthy ? 'healthy' : 'unhealthy'}: ${change.cause}`, change.outcome.endedAt);
  }

  /** Feeds the flap damper; notifies the service's new state (held down hides the health beneath). */
  private dampAndNotify(change: ServiceHealthChange): void {
    const now = monotonicNow();
    const start = this.damping.record(change.service, now, change.healthy);
    if (start) {
      const reason = `${start.changes} health changes within ${formatDuration(start.within)}`;
      this.log.warn({ service: change.service, changes: start.changes, within: start.within, holdDown: start.holdDown, heldDownUntil: wallTime(start.until) },
        `${change.service} held down for flapping: ${reason}; released once stable for ${formatDuration(start.holdDown)}`);
      this.metrics.flapHoldDowns.inc({ service: change.service });
      this.metrics.serviceHeldDown.set({ service: change.service }, 1);
      this.notifier?.notify({ event: 'service', service: change.service, state: 'held-down', reason });
      return;
    }
    if (this.damping.heldUntil(change.service, now) !== undefined) return;
    this.notifier?.notify({ event: 'service', service: change.service, state: change.healthy ? 'healthy' : 'unhealthy', reason: change.cause });
  }

  /** Says once that a hold-down ended (the service's own health counts again) and sets the next release timer. */
  private releaseHoldDowns(now: Millis): void {
    for (const service of this.damping.released(now)) {
      const configured = this.config.services.some((s) => s.name === service);
      if (!configured) {
        this.metrics.serviceHeldDown.remove({ service });
        continue;
      }
      const healthy = this.health.isHealthy(service);
      this.log.info({ service, healthy }, `${service} released from flap hold-down (${healthy ? 'healthy' : 'unhealthy'})`);
      this.metrics.serviceHeldDown.set({ service }, 0);
      this.notifier?.notify({ event: 'service', service, state: healthy ? 'healthy' : 'unhealthy', reason: 'flap hold-down ended' });
    }
    clearTimeout(this.releaseTimer);
    const next = this.damping.nextRelease(now);
    if (next === undefined) return;
    this.releaseTimer = setTimeout(() => this.recompute('time: a flap hold-down ended'), Math.max(0, Math.ceil(next - now)));
  }

  /** Checks pass and the service is not held down for flapping: what decide() and the peers see. */
  private healthyNow(service: ServiceName, now: Millis): boolean {
    return this.health.isHealthy(service) && this.damping.heldUntil(service, now) === undefined;
  }

  /**
   * Drains or undrains a service (`all`: every one) by its maintenance file, then decides at
   * once. Says, per service, which other nodes serve it now or (exclusive) take it over, so
   * the operator knows whether the drain left it served; undefined for an unknown service.
   */
  async setDrained(service: string, drained: boolean, by = 'the operator'): Promise<DrainAnswer[] | undefined> {
    const names = service === 'all' ? this.config.services.map((s) => s.name) : this.config.services.filter((s) => s.name === service).map((s) => s.name);
    if (names.length === 0) return undefined;
    const before = new Set(this.maintenance.drained());
    const after = await this.maintenance.set(names, drained, by);
    this.logDrainChanges(after, `by ${by}`, before);
    this.recompute(drained ? 'drain' : 'undrain');
    return names.map((name) => ({ service: name, drained, elsewhere: this.servedElsewhere(name) }));
  }

  /**
   * The other nodes that serve `service` now, as this node sees them: for an exclusive service
   * not held by a peer, the eligible peer placement would give it to (it takes it once this
   * node's release reaches it).
   */
  private servedElsewhere(name: ServiceName): string[] {
    const peers = this.keeper.peerViews(monotonicNow());
    const holders = peers.filter((p) => p.services.get(name)?.holding).map((p) => p.id);
    const service = this.config.services.find((s) => s.name === name);
    if (holders.length > 0 || service?.mode !== 'exclusive' || !this.quorum?.quorate) return holders;
    const next = successor(peers, service);
    return next ? [next] : [];
  }

  private lastDrained: ReadonlySet<ServiceName> = new Set();
  /** Drained anycast services still announced with GRACEFUL_SHUTDOWN, until when (monotonic). */
  private readonly draining = new Map<ServiceName, Millis>();

  /** One line per service whose drained state changed; a served one starts its graceful shutdown. */
  private logDrainChanges(now: ReadonlySet<ServiceName>, cause: string, before: ReadonlySet<ServiceName> = this.lastDrained): void {
    const grace = this.config.bgp?.gracefulShutdown ?? 0;
    for (const s of this.config.services) {
      if (now.has(s.name) === before.has(s.name)) continue;
      if (!now.has(s.name)) this.draining.delete(s.name);
      else if (grace > 0 && this.decisions.get(s.name)?.serve) this.draining.set(s.name, ms(monotonicNow() + grace));
      this.metrics.serviceDrained.set({ service: s.name }, now.has(s.name) ? 1 : 0);
      this.log.info({ service: s.name, file: this.maintenance.fileOf(s.name) }, `${s.name} ${now.has(s.name) ? 'drained' : 'undrained'} ${cause}`);
    }
    this.lastDrained = new Set(now);
  }

  private logQuorum(previous: QuorumVerdict | undefined, quorum: QuorumVerdict): void {
    this.metrics.quorate.set(quorum.quorate ? 1 : 0);
    // Everything starts down (no quorum, unhealthy, withdrawn): only a change from there is notified.
    if ((previous?.quorate ?? false) !== quorum.quorate) this.notifier?.notify({ event: 'quorum', state: quorum.quorate ? 'quorate' : 'no-quorum', reason: quorum.reason });
    if (previous?.quorate === quorum.quorate && previous.reason === quorum.reason) return;
    const trail = quorum.trail.map((t) => `${t.module}=${t.verdict.vote} (${t.verdict.reason})`);
    this.log[quorum.quorate ? 'info' : 'warn']({ quorate: quorum.quorate, trail }, quorum.quorate ? `quorum held: ${quorum.reason}` : `no quorum: ${quorum.reason}`);
  }

  /** What this node tells its peers in every heartbeat. */
  private localState(): LocalNodeState {
    const applied = this.reconciler?.appliedPaths();
    const services = new Map<ServiceName, ServiceState>();
    const methods = this.methods();
    for (const s of this.config.services) {
      const holding = this.decisions.get(s.name)?.serve ?? false;
      // Released: not serving, and the withdrawal of every prefix confirmed at the speaker.
      const withdrawn = !applied || (this.reconciler!.healthy && s.prefixes.every((p) => !applied.has(p.key)));
      // … and every address removed from the interface.
      const removed = !this.arp || s.prefixes.every((p) => this.arp!.released(p.key));
      const method = this.decisions.get(s.name)?.method;
      services.set(s.name, {
        healthy: this.healthyNow(s.name, monotonicNow()),
        drained: this.maintenance.drained().has(s.name),
        announceable: s.via.some((m) => methods.get(s.name)?.has(m)),
        priority: s.priority,
        holding,
        released: !holding && withdrawn && removed,
        ...(holding && method ? { method } : {}),
      });
    }
    return {
      quorum: { quorate: this.quorum?.quorate ?? false, reason: this.quorum?.reason ?? 'starting' },
      services,
      withdrawBound: ownWithdrawBound(this.config),
    };
  }

  /** The methods this node can use now, per service (DESIGN.md: bgp needs an established session). */
  private methods(): Map<ServiceName, Set<Method>> {
    const bgp = this.reconciler !== undefined && [...this.sessions.values()].some((p) => p.established);
    return new Map(this.config.services.map((s) => {
      const usable = new Set<Method>();
      if (bgp && s.via.includes('bgp')) usable.add('bgp');
      if (s.via.includes('arp') && this.interfaces?.usable(s.name)) usable.add('arp');
      return [s.name, usable];
    }));
  }

  /** Runs the pure decision and hands the result to the reconcilers. Cheap; called on every change. */
  private recompute(cause: string, checkEndedAt?: number): void {
    if (this.stopping) return;
    const now = monotonicNow();
    this.releaseHoldDowns(now);
    const health = new Map(this.config.services.map((s) => [s.name, this.health.isHealthy(s.name)]));
    const heldDown = new Set(this.config.services.filter((s) => this.damping.heldUntil(s.name, now) !== undefined).map((s) => s.name));
    const previousQuorum = this.quorum;
    const quorum = this.keeper.verdict(now);
    this.quorum = quorum;
    this.logQuorum(previousQuorum, quorum);
    const waiting = this.config.services.filter((s) => s.mode === 'exclusive' && !this.decisions.get(s.name)?.serve).map((s) => s.name);
    const clearance = this.keeper.clearances(waiting, now, this.probes ? (service) => this.probes!.result(service) : undefined);
    for (const [service, c] of clearance) {
      if (c.probeAddress) {
        const config = this.config.services.find((s) => s.name === service);
        if (config) this.probes?.request(config);
      }
    }
    const decisions = decide({
      now,
      self: this.config.node.id,
      services: this.config.services,
      health,
      drained: this.maintenance.drained(),
      draining: this.draining,
      heldDown,
      quorum,
      peers: this.keeper.peerViews(now),
      methods: this.methods(),
      clearance,
      holding: new Set([...this.decisions.values()].filter((d) => d.serve).map((d) => d.service)),
    });
    this.scheduleWakeUp(now, quorum, [...clearance.values()].map((c) => c.until).concat([...this.draining.values()].filter((until) => until > now)));
    for (const d of decisions) {
      const before = this.decisions.get(d.service);
      this.metrics.serviceServing.set({ service: d.service }, d.serve ? 1 : 0);
      const previousHolder = d.serve && !before?.serve ? this.keeper.lastHolder(d.service) : undefined;
      if (d.serve && !before?.serve) this.keeper.holds(d.service);
      if (!d.serve && before?.serve) this.keeper.released(d.service, before.method, now);
      if (d.serve !== (before?.serve ?? false)) {
        this.notifyHolding(d);
        this.metrics.serviceTransitions.inc({ service: d.service, to: d.serve ? 'serving' : 'withdrawn' });
      }
      if (before && before.serve === d.serve && before.reason === d.reason) continue;
      const fields = { service: d.service, serve: d.serve, method: d.method, reason: d.reason, cause, checkEndedAt, ...(previousHolder ? { previousHolder } : {}) };
      if (d.gracefulShutdown) this.log.info(fields, `draining ${d.service}: announced with GRACEFUL_SHUTDOWN for ${formatDuration(this.config.bgp!.gracefulShutdown)}, then withdrawn`);
      else if (d.serve) this.log.info(fields, `announcing ${d.service}`);
      else if (before?.serve) this.log.info(fields, `withdrawing ${d.service}: ${d.reason}`);
      else this.log.info(fields, `not serving ${d.service}: ${d.reason}`);
    }
    for (const [name, before] of this.decisions) {
      if (decisions.some((d) => d.service === name)) continue;
      this.metrics.serviceServing.remove({ service: name });
      this.metrics.serviceHealthy.remove({ service: name });
      if (before.serve) this.notifyHolding({ service: name, serve: false, reason: 'no longer configured' });
      if (before.serve) this.log.info({ service: name, serve: false, reason: 'no longer configured', cause }, `withdrawing ${name}: no longer configured`);
    }
    const released = decisions.filter((d) => !d.serve && this.decisions.get(d.service)?.serve);
    this.decisions = new Map(decisions.map((d) => [d.service, d]));
    const applied: Promise<void>[] = [];
    if (this.reconciler && this.config.bgp && this.localAs !== undefined) {
      applied.push(this.reconciler.setDesired(desiredBgpPaths(decisions, this.config.services, this.config.bgp, this.localAs)));
    }
    if (this.arp) applied.push(this.arp.setDesired(this.desiredAddresses(decisions, quorum)));
    // A release is what a successor waits for: tell the peers as soon as it is done.
    if (released.length > 0) void Promise.allSettled(applied).then(() => this.keeper.announce());
  }

  private notifyHolding(d: ServiceDecision): void {
    this.notifier?.notify({ event: 'holding', service: d.service, state: d.serve ? 'serving' : 'withdrawn', ...(d.serve && d.method ? { method: d.method } : {}), reason: d.reason });
  }

  /** The addresses to hold: those of services served by ARP, never past the quorum's validity. */
  private desiredAddresses(decisions: readonly ServiceDecision[], quorum: QuorumVerdict): DesiredArp {
    const out = new Map<PrefixKey, { prefix: Prefix; interface: string; until: Millis }>();
    const until = ms(quorum.validUntil ?? Infinity);
    for (const d of decisions) {
      if (!d.serve || d.method !== 'arp') continue;
      const service = this.config.services.find((s) => s.name === d.service);
      if (!service?.arp) continue;
      for (const prefix of service.prefixes) out.set(prefix.key, { prefix, interface: service.arp.interface, until });
    }
    return out;
  }

  /** Decide again when a lease ends or a handover wait is over: time alone changes those. */
  private scheduleWakeUp(now: number, quorum: QuorumVerdict, untils: number[]): void {
    clearTimeout(this.wakeUp);
    const at = Math.min(quorum.validUntil ?? Infinity, ...untils.filter(Number.isFinite));
    if (!Number.isFinite(at)) return;
    this.wakeUp = setTimeout(() => this.recompute('time: a lease or a handover wait ended'), Math.max(0, Math.ceil(at - now)));
  }

  /**
   * Applies a new, valid config. Services (checks, prefixes, attributes, placement) and the
   * node's BGP attributes change live: a service whose checks did not change keeps its state
   * and stays announced. What the running parts were built from (node, cluster, TLS, state
   * directory, status API, the speaker and BGP timers) needs a restart: kept, with a warning.
   */
  async reload(next: AgentConfig): Promise<void> {
    if (this.stopping) return;
    const old = this.config;
    const restartOnly: [string, unknown, unknown][] = [
      ['node', old.node, next.node],
      ['cluster', old.cluster, next.cluster],
      ['tls', old.tls, next.tls],
      ['state-dir', old.stateDir, next.stateDir],
      ['status', old.status, next.status],
      ['bgp.gobgp', old.bgp?.gobgp, next.bgp?.gobgp],
      ['bgp.reconcile-interval', old.bgp?.reconcileInterval, next.bgp?.reconcileInterval],
      ['bgp.call-timeout', old.bgp?.callTimeout, next.bgp?.callTimeout],
      ['arp', old.arp, next.arp],
      ['notify', old.notify, next.notify],
    ];
    const kept = restartOnly.filter(([, a, b]) => JSON.stringify(a) !== JSON.stringify(b)).map(([key]) => key);
    if (old.bgp && !next.bgp) kept.push('bgp');
    if (kept.length > 0) this.log.warn({ keys: kept }, `config reloaded, but ${kept.join(', ')} change only with a restart: kept as running`);
    const bgp = old.bgp && next.bgp ? { ...old.bgp, nextHop: next.bgp.nextHop, communities: next.bgp.communities, largeCommunities: next.bgp.largeCommunities, gracefulShutdown: next.bgp.gracefulShutdown } : old.bgp;
    const arpNow = old.services.some((s) => s.via.includes('arp'));
    const arpNext = next.services.some((s) => s.via.includes('arp'));
    if (arpNow !== arpNext) {
      this.log.warn('config not applied: services via arp come or go only with a restart (the ARP parts are made at start); the running config stays');
      return;
    }
    this.config = { ...old, bgp, services: next.services };
    // New limits apply from the next change on; a service that lost its damping is released now.
    this.damping.configure(this.config.services);
    await this.health.apply(this.config.services);
    this.reconciler?.setConfiguredPrefixes(configuredPrefixes(this.config));
    this.log.info({ services: this.config.services.map((s) => s.name) }, 'config reloaded');
    this.recompute('config reloaded');
    await this.reconciler?.fullSync();
  }

  status(): AgentStatusReport {
    const now = monotonicNow();
    const quorum = this.quorum;
    const peerViews = this.keeper.peerViews(now);
    const seen = this.keeper.seen(now);
    const snapshots = new Map(this.health.snapshot().map((h) => [h.service, h]));
    const iso = (epochMs: number) => new Date(epochMs).toISOString();
    const result = (o: { ok: boolean; detail: string; startedAt: number; endedAt: number }) =>
      ({ ok: o.ok, detail: o.detail, latencyMs: Math.round((o.endedAt - o.startedAt) * 100) / 100, at: iso(o.endedAt) });
    const services = this.config.services.map((s): ServiceReport => {
      const decision = this.decisions.get(s.name);
      const drained = this.maintenance.drained().has(s.name);
      const holder = decision?.serve ? this.config.node.id : peerViews.find((p) => p.services.get(s.name)?.holding)?.id;
      return {
        name: s.name,
        mode: s.mode,
        via: s.via,
        prefixes: s.prefixes.map((p) => p.key),
        healthy: this.health.isHealthy(s.name),
        drained,
        ...(drained ? { maintenanceFile: this.maintenance.fileOf(s.name) } : {}),
        serving: decision?.serve ?? false,
        ...(decision?.serve && decision.method ? { method: decision.method } : {}),
        ...(decision ? { reason: decision.reason } : {}),
        ...(s.mode === 'exclusive' && holder ? { holder } : {}),
        ...heldDownUntilField(this.damping.heldUntil(s.name, now)),
        checks: (snapshots.get(s.name)?.checks ?? []).map((c) => ({
          label: c.label, kind: c.kind, up: c.up, passes: c.consecutivePasses, fails: c.consecutiveFails, rise: c.rise, fall: c.fall,
          ...(c.lastOutcome ? { last: result(c.lastOutcome) } : {}),
          recent: c.recent.map(result),
        })),
      };
    });
    return {
      node: this.config.node.id,
      cluster: this.config.cluster.name,
      time: new Date().toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      quorum: {
        quorate: quorum?.quorate ?? false,
        reason: quorum?.reason ?? 'starting',
        ...(quorum?.quorate && quorum.validUntil !== undefined ? { leaseRemainingMs: Math.max(0, Math.round(quorum.validUntil - now)) } : {}),
        trail: (quorum?.trail ?? []).map((t) => ({ module: t.module, vote: t.verdict.vote, reason: t.verdict.reason })),
        seenPeers: [...seen],
        server: this.keeper.serverStatus(now),
      },
      peers: this.config.cluster.peers.map((p) => ({
        id: p.id,
        address: `${p.address.host}:${p.address.port}`,
        votes: p.votes,
        seen: seen.has(p.id),
        holding: [...(peerViews.find((v) => v.id === p.id)?.services ?? new Map())].filter(([, v]) => v.holding).map(([name]) => name),
      })),
      services,
      ...(this.reconciler ? {
        bgp: {
          speaker: this.speaker ? 'run' as const : 'external' as const,
          inSync: this.reconciler.healthy,
          announced: [...this.reconciler.appliedPaths().keys()],
          sessions: [...this.sessions.values()].map((p) => ({ address: p.address, asn: p.asn, state: p.state, established: p.established })),
        },
      } : {}),
      ...(this.arp ? {
        arp: {
          held: [...this.arp.held().values()].map((h) => ({ address: h.prefix.key, interface: h.interface })),
          interfaces: Object.fromEntries(this.config.services.filter((s) => s.via.includes('arp')).map((s) => [s.name, this.interfaces?.reason(s.name) ?? 'usable'])),
        },
      } : {}),
    };
  }

  /** Withdraws everything, then stops every part. Nothing is left behind. */
  async stop(reason: string): Promise<void> {
    if (this.stopping) return;
    this.log.info({ reason }, 'stopping: withdrawing every announcement');
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.wakeUp);
    clearTimeout(this.releaseTimer);
    for (const d of this.decisions.values()) if (d.serve) this.notifyHolding({ service: d.service, serve: false, reason: `agent stopping: ${reason}` });
    // Runs beside the rest of the shutdown: queued events get a short grace, then the running command is killed.
    const notified = this.notifier?.stop();
    // Withdraw first: a check that hangs until its timeout must not delay it.
    if (this.reconciler) {
      this.reconciler.stop();
      await this.reconciler.setDesired(new Map());
      await this.reconciler.idle();
      if (!this.reconciler.healthy) this.log.error('could not confirm the withdrawal at gobgpd');
      else this.log.info('all announcements withdrawn');
    }
    if (this.arp) {
      this.interfaces?.stop();
      this.probes?.stop();
      await this.arp.stop();
      this.log.info('all service addresses removed');
    }
    await this.health.stop();
    await this.keeper.stop();
    this.unwatchPeers?.();
    this.client?.close();
    await this.speaker?.stop();
    this.maintenance.stop();
    await Promise.all(this.statusServers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    await notified;
    this.log.info('stopped');
  }
}

/** A monotonic instant as wall-clock time (for people: logs and /status). */
function wallTime(at: Millis): string {
  return new Date(Date.now() + (at - monotonicNow())).toISOString();
}

function heldDownUntilField(until: Millis | undefined): { heldDownUntil?: string } {
  return until === undefined ? {} : { heldDownUntil: wallTime(until) };
}

/** Every prefix the config names, served or not: the reconciler manages exactly these (and its record). */
function configuredPrefixes(config: AgentConfig): Set<PrefixKey> {
  return new Set(config.services.flatMap((s) => s.prefixes.map((p) => p.key)));
}
