/**
 * One HealthMonitor per service, so that a config reload restarts only the checks that
 * changed: a service whose checks are as before keeps its state (and stays announced), a new
 * or changed one starts DOWN and must pass `rise` times, a removed one stops.
 */
import type { ServiceName } from '../core/ids.js';
import type { CheckConfig, ServiceConfig } from '../config/types.js';
import { HealthMonitor, type HealthMonitorOptions, type ServiceHealthSnapshot } from './monitor.js';

export class ServiceMonitors {
  private readonly monitors = new Map<ServiceName, { monitor: HealthMonitor; checks: string }>();

  constructor(private readonly options: HealthMonitorOptions) {}

  /** Starts, restarts or stops monitors so that they match `services`. */
  async apply(services: readonly ServiceConfig[]): Promise<void> {
    const wanted = new Set(services.map((s) => s.name));
    for (const [name, { monitor }] of this.monitors) {
      if (wanted.has(name)) continue;
      this.monitors.delete(name);
      await monitor.stop();
    }
    for (const service of services) {
      const checks = checksIdentity(service.checks);
      const existing = this.monitors.get(service.name);
      if (existing?.checks === checks) continue;
      if (existing) await existing.monitor.stop();
      const monitor = new HealthMonitor([service], this.options);
      this.monitors.set(service.name, { monitor, checks });
      monitor.start();
    }
  }

  isHealthy(service: ServiceName): boolean {
    return this.monitors.get(service)?.monitor.isHealthy(service) ?? false;
  }

  snapshot(): ServiceHealthSnapshot[] {
    return [...this.monitors.values()].flatMap(({ monitor }) => monitor.snapshot());
  }

  async stop(): Promise<void> {
    const all = [...this.monitors.values()];
    this.monitors.clear();
    await Promise.all(all.map(({ monitor }) => monitor.stop()));
  }
}

/** Checks compare by value; a RegExp (http body) by its source and flags. */
function checksIdentity(checks: readonly CheckConfig[]): string {
  return JSON.stringify(checks, (_key, value: unknown) => (value instanceof RegExp ? `/${value.source}/${value.flags}` : value));
}
