/**
 * Node's names for certificate verification and handshake failures, mapped to the refusal
 * reasons operators see in the metric. Codes are OpenSSL's X509_V_ERR_* names as Node spells
 * them (socket.authorizationError), and Node's ERR_SSL_* codes for broken handshakes.
 */
import type { RefusalReason } from './refusals.js';

const VERIFY_REASONS: Record<string, RefusalReason> = {
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  // The chain does not reach our CA: another CA, a self-signed certificate, a missing intermediate.
  UNABLE_TO_GET_ISSUER_CERT: 'unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown-ca',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown-ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown-ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown-ca',
  CERT_SIGNATURE_FAILURE: 'unknown-ca',
};

export function reasonForVerifyError(code: string | undefined): RefusalReason {
  return (code && VERIFY_REASONS[code]) || 'bad-certificate';
}

/**
 * A handshake that never got to certificates. OpenSSL recognises a few plaintext protocols by
 * their first bytes (HTTP_REQUEST); anything else that is not a TLS record shows up as a bad
 * version or an absurd record length.
 */
const NOT_TLS_CODES = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_HTTP_REQUEST',
  'ERR_SSL_HTTPS_PROXY_REQUEST',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'ERR_SSL_RECORD_LENGTH_MISMATCH',
  'ERR_SSL_UNEXPECTED_RECORD',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
]);

export function reasonForHandshakeError(err: NodeJS.ErrnoException): RefusalReason {
  if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'handshake-timeout';
  if (err.code && NOT_TLS_CODES.has(err.code)) return 'not-tls';
  if (err.code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') return 'no-certificate';
  return 'handshake';
}
