/**
 * Which services ARP can serve on this node now: the `arp` method is usable for a service while
 * its interface is up and has, for each of the service's addresses, an address of its own in a
 * subnet containing it (interface-state.ts). Read with `ip -j addr` every `every`, so a link
 * going down or an address removed by hand moves the service to its next method (or off this
 * node) within one period. Reports changes, once, with the reason.
 */
import type { ServiceConfig } from '../config/types.js';
import type { Millis } from '../core/duration.js';
import type { ServiceName } from '../core/ids.js';
import type { Logger } from '../observe/logger.js';
import type { HostCommands } from './host-commands.js';
import { arpUsability, readInterface, type InterfaceState } from './interface-state.js';

export interface InterfaceWatchOptions {
  cmd: HostCommands;
  /** The configured services (read at every pass: a reload changes them). */
  services: () => readonly ServiceConfig[];
  every: Millis;
  logger: Logger;
  onChange: () => void;
}

type Usability = { usable: true } | { usable: false; reason: string };

export class InterfaceWatch {
  private readonly state = new Map<ServiceName, Usability>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: InterfaceWatchOptions) {}

  /** Reads once (so the first decision already knows), then every `every`. */
  async start(): Promise<void> {
    await this.pass();
    const loop = async (): Promise<void> => {
      await this.pass();
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.opts.every);
    };
    if (!this.stopped) this.timer = setTimeout(() => void loop(), this.opts.every);
  }

  usable(service: ServiceName): boolean {
    return this.state.get(service)?.usable === true;
  }

  /** Why ARP is not usable for `service` (undefined when it is). */
  reason(service: ServiceName): string | undefined {
    const u = this.state.get(service);
    return u === undefined ? 'not read yet' : u.usable ? undefined : u.reason;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async pass(): Promise<void> {
    const services = this.opts.services().filter((s) => s.via.includes('arp') && s.arp);
    const interfaces = new Map<string, { ok: true; state: InterfaceState | undefined } | { ok: false; reason: string }>();
    for (const name of new Set(services.map((s) => s.arp!.interface))) interfaces.set(name, await readInterface(this.opts.cmd, name));
    if (this.stopped) return;
    let changed = false;
    const configured = new Set(services.map((s) => s.name));
    for (const name of [...this.state.keys()]) if (!configured.has(name)) this.state.delete(name);
    for (const service of services) {
      const read = interfaces.get(service.arp!.interface)!;
      const next: Usability = read.ok ? usabilityOf(read.state, service) : { usable: false, reason: read.reason };
      const before = this.state.get(service.name);
      if (before && before.usable === next.usable && (before.usable || next.usable || before.reason === next.reason)) continue;
      this.state.set(service.name, next);
      changed = true;
      const fields = { service: service.name, interface: service.arp!.interface };
      if (next.usable) this.opts.logger.info(fields, `ARP usable for ${service.name} on ${service.arp!.interface}`);
      else this.opts.logger.warn({ ...fields, reason: next.reason }, `ARP not usable for ${service.name}: ${next.reason}`);
    }
    if (changed) this.opts.onChange();
  }
}

function usabilityOf(state: InterfaceState | undefined, service: ServiceConfig): Usability {
  for (const prefix of service.prefixes) {
    const u = arpUsability(state, prefix);
    if (!u.usable) return { usable: false, reason: `${prefix.key}: ${u.reason}` };
  }
  return { usable: true };
}
