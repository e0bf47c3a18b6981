import type { CheckConfig } from '../config/types.js';
import { probeExec } from './exec.js';
import { GrpcHealthProber } from './grpc.js';
import { probeHttp } from './http.js';
import type { Prober } from './probe.js';
import { probeTcp } from './tcp.js';

/** The prober of one configured check; made once per check, closed when the monitor stops. */
export function createProber(check: CheckConfig): Prober {
  switch (check.kind) {
    case 'tcp':
      return stateless((signal) => probeTcp(check, signal));
    case 'http':
      return stateless((signal) => probeHttp(check, signal));
    case 'exec':
      return stateless((signal) => probeExec(check, signal));
    case 'grpc':
      return new GrpcHealthProber(check);
  }
}

function stateless(probe: Prober['probe']): Prober {
  return { probe, close: () => {} };
}
