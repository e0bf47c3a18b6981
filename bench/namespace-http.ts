/** Drives bench/namespace-http-main.ts inside a namespace: one request at a time. */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { ms } from '../src/core/duration.js';
import type { Namespace } from '../lab/netns.js';
import type { LabProcess } from '../lab/process.js';
import type { EpochMillis } from './clock.js';

export interface HttpOutcome {
  /** Just before the request was written, in the namespace's helper (same clock as ours). */
  sentAt: EpochMillis;
  status: number;
  doneAt: EpochMillis;
  error?: string;
}

export class NamespaceHttp {
  private buffer = '';
  private waiting: ((line: string) => void)[] = [];

  private constructor(private readonly proc: LabProcess) {
    proc.child.stdout?.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (line === 'ready') continue;
        this.waiting.shift()?.(line);
      }
    });
  }

  static async start(ns: Namespace): Promise<NamespaceHttp> {
    const script = join(dirname(fileURLToPath(import.meta.url)), 'namespace-http-main.js');
    const proc = await ns.spawn('http-client', process.execPath, [script], { stdin: 'pipe' });
    await proc.waitForOutput(/^ready$/m, ms(10_000));
    return new NamespaceHttp(proc);
  }

  /** Sends one request; rejects on a non-2xx answer or a connection error. */
  async request(method: 'GET' | 'POST', url: string): Promise<HttpOutcome> {
    const line = await new Promise<string>((resolve) => {
      this.waiting.push(resolve);
      this.proc.child.stdin?.write(`${method} ${url}\n`);
    });
    const outcome = JSON.parse(line) as HttpOutcome;
    if (outcome.status < 200 || outcome.status > 299) throw new Error(`${method} ${url}: ${outcome.error ?? `HTTP ${outcome.status}`}`);
    return outcome;
  }
}
