import { status, type ServiceError } from '@grpc/grpc-js';

/** The gRPC calls the client makes (plus its own guard), named as gobgpd names them. */
export type GobgpCall =
  | 'GetBgp'
  | 'AddPath'
  | 'AddPathStream'
  | 'DeletePath'
  | 'ListPath'
  | 'ListPeer'
  | 'WatchEvent';

/** A failed call to gobgpd: which call, gRPC's status code, and gobgpd's own words. */
export class GobgpError extends Error {
  override readonly name = 'GobgpError';
  constructor(
    readonly call: GobgpCall,
    /** gRPC status code (`status.UNAVAILABLE`, `status.DEADLINE_EXCEEDED`, …). */
    readonly code: status,
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`gobgp ${call}: ${status[code] ?? code}: ${details}`, options);
  }

  static from(call: GobgpCall, err: ServiceError | Error): GobgpError {
    if (err instanceof GobgpError) return err;
    const code = 'code' in err && typeof err.code === 'number' ? (err.code as status) : status.UNKNOWN;
    const details = 'details' in err && typeof err.details === 'string' && err.details !== '' ? err.details : err.message;
    return new GobgpError(call, code, details, { cause: err });
  }

  /** True when gobgpd could not be reached or did not answer in time (worth retrying later). */
  get unreachable(): boolean {
    return this.code === status.UNAVAILABLE || this.code === status.DEADLINE_EXCEEDED;
  }
}

/**
 * Raised before sending a DeletePath that names neither a path nor a uuid: gobgpd would
 * read it as "withdraw every locally originated path".
 */
export class UntargetedDeleteError extends Error {
  override readonly name = 'UntargetedDeleteError';
}
