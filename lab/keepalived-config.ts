/**
 * keepalived.conf for the ARP benchmark's baseline: keepalived 2.2.7 (Debian) moving one
 * service address with VRRPv3 at its fastest settings. Pure text generation; starting the
 * daemon is lab/keepalived.ts.
 *
 * Keywords as documented in `man keepalived.conf` for 2.2.7:
 * - `vrrp_version 3` (global): VRRPv3, whose adverts carry centiseconds, so `advert_int`
 *   can go down to 0.01 s (VRRPv2 counts whole seconds).
 * - `advert_int 0.01`: a backup declares the master dead after 3 adverts plus skew (~30–40 ms).
 * - `vrrp_script` `interval` is an INTEGER number of seconds (1 is the fastest a check can
 *   run), `fall 1` / `rise 1` react to the first failure / success, `timeout` whole seconds.
 * - `garp_master_delay 0`: no second burst of gratuitous ARPs after becoming master;
 *   `garp_master_repeat`: how many are sent at once on becoming master (default 5);
 *   `garp_master_refresh`: re-announce every N whole seconds while master (0 = never).
 *   The pause between them (`vrrp_garp_interval` / `vrrp_gna_interval`) is 0 by default and
 *   cannot be written as 0 (`keepalived -t` rejects it: range 0.000001–4294.967295), so it
 *   is left out.
 * - An IPv6 address in the same instance as an IPv4 one goes in
 *   `virtual_ipaddress_excluded` (adverts carry one family only; the address still moves
 *   with the instance), with `preferred_lft forever`: keepalived otherwise deprecates /128s.
 * - `accept`: the holder accepts packets to the address (no_accept would firewall them).
 * - `script_user root` + `enable_script_security`: the check runs as root without warnings;
 *   security demands the script and its directories be writable by root only (true for
 *   /usr/bin/curl and for the lab's mode-0700 temp dirs).
 */
import { isIPv6 } from 'node:net';

export interface KeepalivedVip {
  /** IPv4 service address, bare or with length (default /32). */
  v4?: string;
  /** IPv6 service address, bare or with length (default /128). */
  v6?: string;
}

export type KeepalivedCheck = { url: string } | { script: string };

export interface KeepalivedConfigOptions {
  /** router_id, and the instance's name in logs. */
  name: string;
  /** The interface carrying the service address, e.g. `eth0`. */
  interface: string;
  vip: KeepalivedVip;
  /** 1–254; the highest healthy one is master. */
  priority: number;
  /** 1–255, the same on every node of the instance. */
  virtualRouterId: number;
  /** Unicast peers (bare addresses). Omitted or empty: VRRP multicast (224.0.0.18 / ff02::12). */
  peers?: readonly string[];
  /** The health check: an HTTP URL (checked with curl) or a shell command. None: no check. */
  check?: KeepalivedCheck;
  /** Seconds, as keepalived writes it. Default `0.01`, VRRPv3's smallest. */
  advertInterval?: string;
  /** Whole seconds between checks (keepalived accepts integers only). Default 1. */
  scriptInterval?: number;
  /** Default true; false writes `nopreempt` (which keepalived allows only with state BACKUP, as here). */
  preempt?: boolean;
  /** Gratuitous ARPs / NAs sent at once on becoming master. Default 5 (keepalived's default). */
  garpRepeat?: number;
  /** Whole seconds between refreshes while master; 0 (default) never refreshes. */
  garpRefresh?: number;
}

const INSTANCE = 'vip';
const SCRIPT = 'service_check';

export function keepalivedConfig(o: KeepalivedConfigOptions): string {
  if (!o.vip.v4 && !o.vip.v6) throw new Error('keepalived: vip needs v4 and/or v6');
  if (!Number.isInteger(o.virtualRouterId) || o.virtualRouterId < 1 || o.virtualRouterId > 255) throw new Error('keepalived: virtualRouterId must be 1–255');
  if (!Number.isInteger(o.priority) || o.priority < 1 || o.priority > 254) throw new Error('keepalived: priority must be 1–254');
  const scriptInterval = o.scriptInterval ?? 1;
  if (!Number.isInteger(scriptInterval) || scriptInterval < 1) throw new Error('keepalived: scriptInterval is whole seconds (≥ 1)');
  const v4 = o.vip.v4 ? withLength(o.vip.v4, 32) : undefined;
  const v6 = o.vip.v6 ? `${withLength(o.vip.v6, 128)} preferred_lft forever` : undefined;
  // The instance's family is that of its virtual_ipaddress; the other family rides along as excluded.
  const primary = v4 ?? v6!;
  const excluded = v4 && v6 ? [v6] : [];
  const peers = o.peers ?? [];
  const lines: string[] = [
    'global_defs {',
    `  router_id ${o.name}`,
    '  vrrp_version 3',
    '  script_user root',
    '  enable_script_security',
    '}',
  ];
  if (o.check) {
    const command = 'url' in o.check ? `/usr/bin/curl -fsS -o /dev/null --max-time 1 ${o.check.url}` : o.check.script;
    lines.push(
      `vrrp_script ${SCRIPT} {`,
      `  script "${command.replace(/"/g, '\\"')}"`,
      `  interval ${scriptInterval}`,
      `  timeout ${scriptInterval}`,
      '  fall 1',
      '  rise 1',
      '}',
    );
  }
  lines.push(
    `vrrp_instance ${INSTANCE} {`,
    '  state BACKUP',
    `  interface ${o.interface}`,
    `  virtual_router_id ${o.virtualRouterId}`,
    `  priority ${o.priority}`,
    `  advert_int ${o.advertInterval ?? '0.01'}`,
    '  accept',
    ...(o.preempt === false ? ['  nopreempt'] : []),
    '  garp_master_delay 0',
    `  garp_master_repeat ${o.garpRepeat ?? 5}`,
    `  garp_master_refresh ${o.garpRefresh ?? 0}`,
    ...(peers.length ? ['  unicast_peer {', ...peers.map((p) => `    ${p}`), '  }'] : []),
    '  virtual_ipaddress {',
    `    ${primary}`,
    '  }',
    ...(excluded.length ? ['  virtual_ipaddress_excluded {', ...excluded.map((a) => `    ${a}`), '  }'] : []),
    ...(o.check ? ['  track_script {', `    ${SCRIPT}`, '  }'] : []),
    '}',
    '',
  );
  return lines.join('\n');
}

function withLength(address: string, length: number): string {
  if (address.includes('/')) return address;
  if ((length === 128) !== isIPv6(address)) throw new Error(`keepalived: ${address} is not of the family expected`);
  return `${address}/${length}`;
}
