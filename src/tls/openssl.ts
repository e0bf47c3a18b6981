/**
 * Runs Debian's openssl CLI: no shell (arguments are passed as they are), stdin optional,
 * and a failure says which command failed with openssl's own message.
 */
import { spawn } from 'node:child_process';

export class OpensslError extends Error {
  constructor(readonly args: readonly string[], readonly stderr: string, readonly exitCode: number | null) {
    super(`openssl ${args.join(' ')} failed (${exitCode === null ? 'killed' : `exit ${exitCode}`}): ${stderr.trim() || 'no message'}`);
    this.name = 'OpensslError';
  }
}

export function runOpenssl(args: readonly string[], input?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new Error('openssl not found: install the Debian package "openssl"') : e);
    });
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new OpensslError(args, Buffer.concat(err).toString('utf8'), code));
    });
    // openssl may exit before it reads its input (it did not need any, or it failed): the
    // write then fails with EPIPE, which must not become an unhandled error. The exit code
    // (the 'close' above) is what tells success from failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}
