/**
 * Proves that the listener at an API target belongs to a given process.
 *
 * Why: "the socket accepts connections" does not mean "our gobgpd answers". A foreign gobgpd
 * (Debian's gobgpd.service on 127.0.0.1:50051, a leftover from a crashed run) may hold the
 * address while ours failed to bind; the agent would then announce through a speaker that
 * nobody guards. The kernel knows better: every socket has an inode, the listening sockets
 * and their inodes are listed in /proc/<pid>/net/{unix,tcp,tcp6} (seen from that process's
 * network namespace), and the process's own sockets appear as `socket:[inode]` links in
 * /proc/<pid>/fd.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import { addressToBytes } from '../core/prefix.js';
import type { ApiTarget } from './api-target.js';
import { grpcTarget } from './api-target.js';

export class SocketOwnershipError extends Error {
  override name = 'SocketOwnershipError';
}

/** Inodes of every socket the process holds open. */
export async function socketInodesOf(pid: number): Promise<Set<number>> {
  const dir = `/proc/${pid}/fd`;
  const inodes = new Set<number>();
  for (const fd of await readdir(dir)) {
    let link: string;
    try {
      link = await readlink(`${dir}/${fd}`);
    } catch {
      continue; // closed between readdir and readlink
    }
    const match = /^socket:\[(\d+)\]$/.exec(link);
    if (match) inodes.add(Number(match[1]));
  }
  return inodes;
}

/** Flag of a listening unix socket in /proc/net/unix (__SO_ACCEPTCON). */
const UNIX_ACCEPTING = 0x10000;
/** TCP state LISTEN in /proc/net/tcp{,6}. */
const TCP_LISTEN = '0A';

/** Inodes of the unix sockets listening at `path`, as seen in the network namespace of `pid`. */
export function unixListenersAt(procNetUnix: string, path: string): number[] {
  const inodes: number[] = [];
  for (const line of procNetUnix.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path — the path may contain spaces.
    const match = /^\s*\S+:\s+\S+\s+\S+\s+([0-9A-Fa-f]+)\s+\S+\s+\S+\s+(\d+)\s?(.*)$/.exec(line);
    if (!match) continue;
    if ((parseInt(match[1]!, 16) & UNIX_ACCEPTING) === 0) continue;
    if (match[3] === path) inodes.push(Number(match[2]));
  }
  return inodes;
}

/** Decodes /proc/net/tcp's `0100007F:C383` into address bytes and port. */
function decodeProcAddress(hex: string): { bytes: Uint8Array; port: number } | undefined {
  const [ip, port] = hex.split(':');
  if (!ip || !port || (ip.length !== 8 && ip.length !== 32)) return undefined;
  const bytes = new Uint8Array(ip.length / 2);
  // Each 32-bit word is printed as a number in the machine's byte order (little-endian here).
  for (let word = 0; word < ip.length / 8; word++) {
    for (let b = 0; b < 4; b++) {
      const at = word * 8 + (3 - b) * 2;
      bytes[word * 4 + b] = parseInt(ip.slice(at, at + 2), 16);
    }
  }
  return { bytes, port: parseInt(port, 16) };
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** True when a connection to `target` may land on a listener bound to `bound`. */
function reaches(bound: Uint8Array, target: Uint8Array): boolean {
  if (bound.every((x) => x === 0)) return true; // wildcard (0.0.0.0 or ::; a dual-stack :: takes IPv4 too)
  if (sameBytes(bound, target)) return true;
  // An IPv6 socket bound to the v4-mapped form of an IPv4 target.
  const mappedPrefix = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
  return target.length === 4 && bound.length === 16 && mappedPrefix.every((x, i) => bound[i] === x) && sameBytes(bound.subarray(12), target);
}

/**
 * Inodes of the TCP sockets that a connection to host:port could reach: listeners on that
 * port bound to the host itself, to the wildcard, or (for IPv4) to its v4-mapped IPv6 form.
 */
export function tcpListenersFor(procNetTcp: string, host: string, port: number): number[] {
  const target = addressToBytes(host, isIP(host) === 6 ? 6 : 4);
  const inodes: number[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (fields.length < 10 || fields[3] !== TCP_LISTEN) continue;
    const local = decodeProcAddress(fields[1]!);
    if (local && local.port === port && reaches(local.bytes, target)) inodes.push(Number(fields[9]));
  }
  return inodes;
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

/** Listening sockets a client of `target` could reach, seen from `pid`'s network namespace. */
export async function listenersAt(pid: number, target: ApiTarget): Promise<number[]> {
  if (target.kind === 'unix') return unixListenersAt(await readFile(`/proc/${pid}/net/unix`, 'utf8'), target.path);
  const tables = await Promise.all([readOptional(`/proc/${pid}/net/tcp`), readOptional(`/proc/${pid}/net/tcp6`)]);
  return tables.flatMap((table) => tcpListenersFor(table, target.host, target.port));
}

/**
 * Throws SocketOwnershipError unless there is a listener at `target` and every listener a
 * client could reach there is a socket of process `pid`.
 */
export async function verifyListenerOwner(pid: number, target: ApiTarget): Promise<void> {
  const where = grpcTarget(target);
  let listeners: number[];
  let own: Set<number>;
  try {
    [listeners, own] = await Promise.all([listenersAt(pid, target), socketInodesOf(pid)]);
  } catch (err) {
    throw new SocketOwnershipError(`cannot inspect process ${pid} to verify the listener at ${where}: ${(err as Error).message}`);
  }
  if (listeners.length === 0) {
    throw new SocketOwnershipError(`nothing listens at ${where} in the network namespace of process ${pid}`);
  }
  const foreign = listeners.filter((inode) => !own.has(inode));
  if (foreign.length > 0) {
    throw new SocketOwnershipError(
      `the listener at ${where} (socket inode ${foreign.join(', ')}) does not belong to process ${pid}: ` +
        'another gobgpd (or some other program) holds that address; refusing to use it',
    );
  }
}
