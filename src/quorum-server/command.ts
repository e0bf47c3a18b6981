/**
 * `quorate server --config FILE`: the quorum server as a process. Mutual TLS from the
 * config's CA (refused handshakes are counted and logged), or plaintext with a warning at
 * every start when `tls.insecure` is set. SIGTERM/SIGINT stop it cleanly; its grants are in
 * the state file, so a restart resumes them.
 */
import * as grpc from '@grpc/grpc-js';
import type { ServerConfig } from '../config/server-types.js';
import type { Logger } from '../observe/logger.js';
import { warnInsecure } from '../tls/credentials.js';
import { loadTls } from '../tls/material.js';
import { ConnectionIdentities } from '../tls/connection-identities.js';
import { listenMutualTls } from '../tls/mutual-tls-listener.js';
import { identifyCaller } from '../tls/peer-identity.js';
import { RefusalRecorder } from '../tls/refusals.js';
import { identityFromRequest } from './identity.js';
import { QuorumServerMetrics } from './metrics.js';
import { runQuorumServer, type QuorumServerHandle } from './run.js';
import { startStatusServer } from '../observe/status-server.js';
import { systemServerClock } from './state-file.js';
import { quorumServerStatus } from './status.js';

export async function startQuorumServer(config: ServerConfig, logger: Logger): Promise<QuorumServerHandle> {
  const handle = await startServing(config, logger);
  if (!config.status) return handle;
  const status = await startStatusServer({ tcp: config.status.listen }, {
    status: () => quorumServerStatus(config, handle.table, systemServerClock.mono()),
    registry: handle.metrics.registry,
  });
  logger.info({ listen: `${config.status.listen.host}:${config.status.listen.port}` }, 'status API listening');
  return {
    ...handle,
    async stop() {
      await new Promise<void>((resolve) => status.close(() => resolve()));
      await handle.stop();
    },
  };
}

async function startServing(config: ServerConfig, logger: Logger): Promise<QuorumServerHandle> {
  const metrics = new QuorumServerMetrics();
  // The config loader rejects a server file without tls (ca, cert, key, or insecure: true).
  const tls = loadTls(config.tls ?? { insecure: false });
  if (tls.insecure) {
    warnInsecure(logger, 'quorate server');
    return runQuorumServer(config, { credentials: grpc.ServerCredentials.createInsecure(), identify: identityFromRequest, logger, metrics });
  }
  const refusals = new RefusalRecorder(metrics.registry, logger);
  const identities = new ConnectionIdentities();
  return runQuorumServer(config, {
    listen: (server) => listenMutualTls(server, { host: config.listen.host, port: config.listen.port, tls, refusals, identities }),
    identify: identifyCaller(refusals, identities),
    logger,
    metrics,
  });
}
