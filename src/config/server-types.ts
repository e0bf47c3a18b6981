/** The quorum server's configuration after validation (from server.yaml). */
import type { Millis } from '../core/duration.js';
import type { ClusterName, NodeId } from '../core/ids.js';
import type { HostPort, TlsConfig } from './types.js';

export interface ServerConfig {
  /** Absolute path of the file this came from (for messages). */
  file: string;
  listen: HostPort;
  tls?: TlsConfig;
  lease: {
    /** The longest lease granted; a longer request is granted this long. */
    max: Millis;
  };
  /** The clusters served; `undefined` serves any cluster whose certificate the CA signed. */
  clusters?: ServedCluster[];
  /** Where grants are recorded before they are answered, so a restart resumes them. */
  stateFile: string;
  /** GET /status, /metrics, /healthz. */
  status?: { listen: HostPort };
}

export interface ServedCluster {
  name: ClusterName;
  /** On a tie no other rule decides, this node's partition wins. */
  prefer?: NodeId;
}
