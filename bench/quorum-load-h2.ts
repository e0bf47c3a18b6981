/**
 * The load generator's client: one node's gRPC `RequestLease`, spoken directly over
 * node:http2 with its own TLS session (client certificate, server verified against the CA),
 * the request encoded once. grpc-js's client did the same job with about five times the
 * allocation per call, and its garbage collections in a process holding 1,000 channels were
 * most of the measured tail (bench/quorum-e2e.ts, BENCHMARKS.md): a load generator must not
 * be what it measures.
 *
 * gRPC over HTTP/2 as the server sees it from any client: POST /quorate.v1.QuorumServer/RequestLease,
 * `content-type: application/grpc`, `te: trailers`, a body of one length-prefixed message
 * (1 byte "compressed" = 0, 4 bytes big-endian length); the answer is one such message and
 * the status in the trailers (`grpc-status`, 0 = OK).
 */
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import type { Millis } from '../src/core/duration.js';
import { quorumProto } from '../src/quorum-server/quorum-proto.js';
import type { LeaseAnswer__Output } from '../src/quorum-server/generated/quorate/v1/LeaseAnswer.js';
import type { LeaseRequest } from '../src/quorum-server/generated/quorate/v1/LeaseRequest.js';

const PATH = '/quorate.v1.QuorumServer/RequestLease';

export interface H2LeaseClientOptions {
  /** `https://127.0.0.1:PORT` */
  authority: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export type H2Outcome = { ok: true; verdict: string } | { ok: false; reason: string };

export class H2LeaseClient {
  private readonly session: ClientHttp2Session;
  private readonly frame: Buffer;
  private readonly decode: (b: Buffer) => LeaseAnswer__Output;

  constructor(opts: H2LeaseClientOptions, request: LeaseRequest) {
    const method = quorumProto().QuorumServer.service.RequestLease;
    const message = method.requestSerialize(request);
    this.decode = (b) => method.responseDeserialize(b) as LeaseAnswer__Output;
    this.frame = Buffer.alloc(5 + message.length);
    this.frame.writeUInt32BE(message.length, 1);
    message.copy(this.frame, 5);
    this.session = connect(opts.authority, { ca: opts.ca, cert: opts.cert, key: opts.key, ALPNProtocols: ['h2'] });
    this.session.on('error', () => {}); // every call reports its own failure
  }

  /** One RequestLease; resolves with the verdict, or why there is none. Never rejects. */
  requestLease(timeout: Millis): Promise<H2Outcome> {
    return new Promise((resolve) => {
      let stream;
      try {
        stream = this.session.request({
          [constants.HTTP2_HEADER_METHOD]: 'POST', [constants.HTTP2_HEADER_PATH]: PATH,
          'content-type': 'application/grpc', te: 'trailers',
        });
      } catch (err) {
        resolve({ ok: false, reason: String(err) });
        return;
      }
      const chunks: Buffer[] = [];
      let status: string | undefined;
      stream.on('response', (headers) => {
        const s = headers['grpc-status'];
        if (s !== undefined) status = String(s); // a trailers-only answer (an error)
      });
      stream.on('trailers', (trailers) => { status = String(trailers['grpc-status']); });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', () => {});
      stream.setTimeout(timeout, () => stream.close(constants.NGHTTP2_CANCEL));
      stream.on('close', () => {
        if (status !== '0') {
          resolve({ ok: false, reason: status === undefined ? 'no status (cancelled or reset)' : `grpc-status ${status}` });
          return;
        }
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        if (body.length < 5) {
          resolve({ ok: false, reason: 'no message' });
          return;
        }
        const answer = this.decode(body.subarray(5, 5 + body.readUInt32BE(1)));
        resolve({ ok: true, verdict: String(answer.verdict) });
      });
      stream.end(this.frame);
    });
  }

  close(): void {
    this.session.close();
  }
}
