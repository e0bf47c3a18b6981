/**
 * The agent's configuration after validation: every duration, prefix and id typed,
 * every default filled in, every path absolute. Nothing past src/config sees raw YAML.
 */
import type { Millis } from '../core/duration.js';
import type { ClusterName, NodeId, ServiceName } from '../core/ids.js';
import type { Prefix } from '../core/prefix.js';

export interface AgentConfig {
  /** Absolute path of the file this came from (for messages). */
  file: string;
  node: { id: NodeId; votes: number };
  cluster: ClusterConfig;
  tls?: TlsConfig;
  bgp?: BgpConfig;
  /** How addresses are held (for services via arp); defaults when the file has no arp section. */
  arp: ArpSettings;
  status?: { listen: HostPort };
  /** Where the agent keeps its small records (the paths it originated). */
  stateDir: string;
  /** A file here named after a service drains it (`quorate drain` writes it): survives restarts. */
  maintenanceDir: string;
  /** Run on every state change, never waited for. */
  notify?: NotifyConfig;
  services: ServiceConfig[];
}

export interface NotifyConfig { command: string[]; timeout: Millis }

/** More than `changes` health changes within `within`: held down until stable for `holdDown`. */
export interface FlapDampingConfig { changes: number; within: Millis; holdDown: Millis }

export interface HostPort { host: string; port: number }

export type GratuitousForm = 'request' | 'reply';

export interface ArpSettings {
  /** The kernel lifetime of a held address (whole seconds), renewed while it may be held. */
  lifetime: Millis;
  /** Gratuitous ARP / unsolicited NA: `count` times `interval` apart on taking an address, then every `refresh` (0: never). */
  gratuitous: { forms: GratuitousForm[]; count: number; interval: Millis; refresh: Millis };
  /** Duplicate-address probes (each waiting `wait` for an answer) before an early takeover from a holder whose heartbeats are dead. */
  takeoverProbes: { count: number; wait: Millis };
}

export interface ClusterConfig {
  name: ClusterName;
  listen?: HostPort;
  heartbeat: { interval: Millis; deadAfter: Millis };
  peers: { id: NodeId; address: HostPort; votes: number }[];
  quorum: QuorumModuleConfig[];
}

export type QuorumModuleConfig =
  | { kind: 'voting' }
  | { kind: 'server'; address: HostPort; lease: Millis };

export interface TlsConfig { ca?: string; cert?: string; key?: string; insecure: boolean }

export interface BgpConfig {
  /** Either a gobgpd the agent runs itself (`run`), or an external one at `address`. */
  gobgp: {
    run?: GobgpRunConfig;
    /** gRPC target: `unix:///path` or `host:port`. With `run`, a private unix socket by default. */
    address?: string;
  };
  nextHop: { ipv4?: string; ipv6?: string };
  /** Added to every announcement of this node, as `asn<<16 | value`. */
  communities: number[];
  largeCommunities: LargeCommunity[];
  /** Level-triggered repair: how often the agent compares gobgpd's table with the desired one. */
  reconcileInterval: Millis;
  /** Deadline of every gRPC call to gobgpd. */
  callTimeout: Millis;
  /** On a drain, anycast paths carry GRACEFUL_SHUTDOWN (RFC 8326) this long before the withdrawal; 0: none. */
  gracefulShutdown: Millis;
}

export interface GobgpRunConfig {
  /** gobgpd's own TOML config (absolute path). */
  config: string;
  /** The gobgpd binary. */
  binary: string;
  /**
   * The guard kills gobgpd when the agent has not renewed its deadline for this long
   * (a stalled agent must not keep announcing).
   */
  stallTimeout: Millis;
}

export interface LargeCommunity { global: number; local1: number; local2: number }

export type ServiceMode = 'anycast' | 'exclusive';
export type Method = 'bgp' | 'arp';

export interface ServiceConfig {
  name: ServiceName;
  prefixes: Prefix[];
  mode: ServiceMode;
  priority: number;
  preempt: boolean;
  via: Method[];
  arp?: { interface: string };
  checks: CheckConfig[];
  bgp: ServiceBgpConfig;
  /** The service's own, or the file's top-level `flap-damping`; absent: no damping. */
  flapDamping?: FlapDampingConfig;
}

export interface ServiceBgpConfig {
  origin: 'igp' | 'egp' | 'incomplete';
  med?: number;
  localPref?: number;
  communities: number[];
  largeCommunities: LargeCommunity[];
  asPathPrepend: number;
}

export interface CheckTiming {
  interval: Millis;
  timeout: Millis;
  /** Consecutive passes that make a failing check healthy. */
  rise: number;
  /** Consecutive failures that make a healthy check failing. */
  fall: number;
}

export type CheckConfig = CheckTiming & CheckSpec;

export type CheckSpec =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'http'; url: string; status: number; bodyMatch?: RegExp; insecureTls: boolean; headers: Record<string, string> }
  | { kind: 'exec'; command: string[]; env: Record<string, string> }
  | { kind: 'grpc'; host: string; port: number; service: string; tls: boolean };
