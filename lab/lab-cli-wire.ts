/**
 * How `lab status / fault / down` talk to the process `lab up` left holding the lab: one
 * unix socket in the lab's state dir, one JSON line each way per connection. The dir also
 * holds the holder's log and PID. Root's /run by default: the lab needs root anyway.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Millis } from '../src/core/duration.js';

export type LabRequest =
  | { cmd: 'ping' }
  | { cmd: 'status' }
  | { cmd: 'fault'; name: string }
  | { cmd: 'down' };

export interface LabResponse {
  ok: boolean;
  /** What to print. */
  text: string;
}

export function labStateDir(): string {
  return process.env.QUORATE_LAB_DIR ?? '/run/quorate-lab';
}

export const labSocketPath = (dir: string = labStateDir()): string => join(dir, 'lab.sock');
export const labLogPath = (dir: string = labStateDir()): string => join(dir, 'lab.log');
export const labPidPath = (dir: string = labStateDir()): string => join(dir, 'lab.pid');

/**
 * Sends one request to the holder and returns its answer. Rejects when nobody listens
 * (ENOENT, ECONNREFUSED: no lab is up) or the answer takes longer than `timeout`.
 */
export function askHolder(request: LabRequest, timeout: Millis, socket: string = labSocketPath()): Promise<LabResponse> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let answer = '';
    const timer = setTimeout(() => conn.destroy(new Error(`no answer from the lab within ${timeout} ms`)), timeout);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify(request)}\n`));
    conn.on('data', (chunk: string) => (answer += chunk));
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(answer) as LabResponse);
      } catch {
        reject(new Error(`the lab answered something else than JSON: ${answer.slice(0, 200)}`));
      }
    });
  });
}
