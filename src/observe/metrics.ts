/** The agent's Prometheus metrics, on a registry of its own (no hidden globals). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class AgentMetrics {
  readonly registry = new Registry();

  /** Milliseconds the quorum lease is still valid, or undefined (no lease, or no quorum). */
  constructor(private readonly leaseRemaining: () => number | undefined = () => undefined) {}

  readonly serviceHealthy = new Gauge({
    name: 'quorate_service_healthy', help: '1 while all checks of the service pass', labelNames: ['service'], registers: [this.registry],
  });
  readonly serviceServing = new Gauge({
    name: 'quorate_service_serving', help: '1 while this node serves (announces) the service', labelNames: ['service'], registers: [this.registry],
  });
  readonly serviceDrained = new Gauge({
    name: 'quorate_service_drained', help: '1 while the service is drained (its maintenance file exists)', labelNames: ['service'], registers: [this.registry],
  });
  readonly serviceTransitions = new Counter({
    name: 'quorate_service_transitions_total', help: 'Times this node started (to="serving") or stopped (to="withdrawn") serving the service', labelNames: ['service', 'to'], registers: [this.registry],
  });
  /** Set on every scrape from `leaseRemaining()`: the lease runs down between decisions. */
  readonly quorumLeaseRemaining = new Gauge({
    name: 'quorate_quorum_lease_remaining_seconds', help: 'While quorate on a quorum server lease: how long it is still valid (absent otherwise)', registers: [this.registry],
    collect: () => {
      const left = this.leaseRemaining();
      if (left === undefined) this.quorumLeaseRemaining.reset();
      else this.quorumLeaseRemaining.set(left / 1000);
    },
  });
  readonly bgpInSync = new Gauge({
    name: 'quorate_bgp_in_sync', help: '1 while gobgpd holds exactly the paths the agent wants (the last reconcile succeeded)', registers: [this.registry],
  });
  readonly quorate = new Gauge({
    name: 'quorate_quorum', help: '1 while this node holds quorum', registers: [this.registry],
  });
  readonly checkDuration = new Histogram({
    name: 'quorate_check_duration_seconds', help: 'Duration of health check probes', labelNames: ['service', 'kind', 'result'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry],
  });
  readonly pathsAnnounced = new Gauge({
    name: 'quorate_bgp_paths_announced', help: 'Paths this agent originates at its speaker', registers: [this.registry],
  });
  readonly reconciles = new Counter({
    name: 'quorate_bgp_reconcile_total', help: 'Reconcile operations against the speaker', labelNames: ['kind', 'result'], registers: [this.registry],
  });
  readonly driftRepaired = new Counter({
    name: 'quorate_bgp_drift_repaired_total', help: 'Paths found different from the desired state at the speaker and repaired', registers: [this.registry],
  });
  readonly addressesHeld = new Gauge({
    name: 'quorate_arp_addresses_held', help: 'Service addresses this agent holds on its interfaces (ARP)', registers: [this.registry],
  });
  readonly arpRepaired = new Counter({
    name: 'quorate_arp_drift_repaired_total', help: 'Addresses found different from the desired state on the interfaces and repaired', registers: [this.registry],
  });
  readonly arpErrors = new Counter({
    name: 'quorate_arp_errors_total', help: 'Failed address operations (ip, arping, na6)', registers: [this.registry],
  });
  readonly speakerRestarts = new Counter({
    name: 'quorate_speaker_restarts_total', help: 'Times the agent restarted its own gobgpd', registers: [this.registry],
  });
  readonly bgpPeersEstablished = new Gauge({
    name: 'quorate_bgp_peers_established', help: 'BGP sessions of the speaker in state ESTABLISHED', registers: [this.registry],
  });
  // Flap damping and notify hooks (issue 6, item 7).
  readonly flapHoldDowns = new Counter({
    name: 'quorate_flap_holddowns_total', help: 'Times a flapping service was held down (flap-damping)', labelNames: ['service'], registers: [this.registry],
  });
  readonly serviceHeldDown = new Gauge({
    name: 'quorate_service_held_down', help: '1 while the service is held down for flapping (treated as unhealthy)', labelNames: ['service'], registers: [this.registry],
  });
  readonly notifyRuns = new Counter({
    name: 'quorate_notify_runs_total', help: 'Notify command runs by result (dropped: the queue was full or the agent stopped)', labelNames: ['result'], registers: [this.registry],
  });
}
