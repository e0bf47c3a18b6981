/**
 * A client for BIRD's control socket, spoken directly (no `birdc` process per query: the
 * benchmarks poll every millisecond).
 *
 * The protocol: one command per line; the reply is a series of lines `DDDD-text` (more to
 * come) or ` text` (continues the previous code), ended by a line `DDDD text` (code and a
 * space). Codes 0xxx mean done, 1xxx/2xxx carry table rows and headings, 8xxx are runtime
 * errors (8001 "Network not found"), 9xxx parse errors. BIRD greets with `0001 … ready.`
 */
import { createConnection, type Socket } from 'node:net';
import type { Millis } from '../src/core/duration.js';
import type { Prefix } from '../src/core/prefix.js';
import { parseRoutes, type BirdRoute } from './bird-route.js';
import { waitUntil } from './wait.js';

export interface BirdReplyLine {
  code: number;
  text: string;
}

export interface BirdReply {
  /** The code of the final line: < 8000 is success. */
  code: number;
  lines: BirdReplyLine[];
}

export interface BirdProtocolState {
  name: string;
  /** `BGP`, `Kernel`, `Device`… */
  proto: string;
  table: string;
  /** `up`, `down`, `start`… */
  state: string;
  since: string;
  /** BGP: `Established`, `Active`, `Connect`… followed by the last error, if any. */
  info: string;
  established: boolean;
}

export interface ShowRouteOptions {
  /** `exact` (default): `show route X all`. `longest`: `show route for X all`. */
  match?: 'exact' | 'longest';
  /** Only routes from this protocol. */
  protocol?: string;
  /** A table other than the default master4/master6. */
  table?: string;
}

/** Raised for 8xxx/9xxx replies, carrying BIRD's own code and message. */
export class BirdCommandError extends Error {
  constructor(
    readonly command: string,
    readonly code: number,
    readonly reply: string,
  ) {
    super(`bird: "${command}" → ${code} ${reply}`);
  }
}

const NETWORK_NOT_FOUND = 8001;
const GREETING_TIMEOUT = 5000;
const LINE_RE = /^(\d{4})([ -])(.*)$/;

interface Pending {
  command: string;
  lines: BirdReplyLine[];
  resolve: (reply: BirdReply) => void;
  reject: (err: Error) => void;
}

export class BirdControl {
  private buffer = '';
  private lastCode = 0;
  /** Commands in flight, oldest first: BIRD answers in order. */
  private readonly pending: Pending[] = [];
  private greeting: Pending | undefined;
  private closedError: Error | undefined;

  private constructor(
    readonly socketPath: string,
    private readonly socket: Socket,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    const fail = (err: Error): void => {
      this.closedError = err;
      for (const p of [this.greeting, ...this.pending.splice(0)]) p?.reject(err);
      this.greeting = undefined;
    };
    socket.on('error', (err) => fail(new Error(`bird control ${socketPath}: ${err.message}`)));
    socket.on('close', () => fail(this.closedError ?? new Error(`bird control ${socketPath}: connection closed`)));
  }

  /** Connects once and waits for BIRD's greeting. */
  static async connect(socketPath: string): Promise<BirdControl> {
    const socket = createConnection(socketPath);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const control = new BirdControl(socketPath, socket);
    // A socket that accepts but never greets (not BIRD, or BIRD wedged) must not hang a test.
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<BirdReply>((resolve, reject) => {
        control.greeting = { command: '(greeting)', lines: [], resolve, reject };
        timer = setTimeout(() => reject(new Error(`bird control ${socketPath}: no greeting within ${GREETING_TIMEOUT} ms`)), GREETING_TIMEOUT);
      });
    } catch (err) {
      control.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return control;
  }

  /** Keeps trying until BIRD has created its socket and greets (a daemon still starting). */
  static connectWhenReady(socketPath: string, timeout: Millis): Promise<BirdControl> {
    return waitUntil(() => BirdControl.connect(socketPath), { timeout, what: `BIRD control socket ${socketPath}` });
  }

  /** Sends one command line and resolves with the whole reply. Rejects on 8xxx/9xxx. */
  async command(text: string): Promise<BirdReply> {
    const reply = await this.raw(text);
    if (reply.code >= 8000) throw new BirdCommandError(text, reply.code, reply.lines.map((l) => l.text).join('\n'));
    return reply;
  }

  /** Like `command`, but hands back error replies instead of throwing. */
  raw(text: string): Promise<BirdReply> {
    if (/[\r\n]/.test(text)) return Promise.reject(new Error('bird command must be one line'));
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.pending.push({ command: text, lines: [], resolve, reject });
      this.socket.write(`${text}\n`);
    });
  }

  /** Every route BIRD holds for `prefix`, with all attributes; [] when there is none. */
  async showRoute(prefix: Prefix, options: ShowRouteOptions = {}): Promise<BirdRoute[]> {
    const parts = ['show route'];
    parts.push(options.match === 'longest' ? `for ${prefix.address}` : prefix.key);
    if (options.table) parts.push(`table ${options.table}`);
    if (options.protocol) parts.push(`protocol ${options.protocol}`);
    parts.push('all');
    const reply = await this.raw(parts.join(' '));
    if (reply.code === NETWORK_NOT_FOUND) return [];
    if (reply.code >= 8000) throw new BirdCommandError(parts.join(' '), reply.code, reply.lines.map((l) => l.text).join('\n'));
    return parseRoutes(reply.lines.map((l) => l.text).join('\n'));
  }

  /** All protocols, as `show protocols` lists them. */
  async protocols(): Promise<BirdProtocolState[]> {
    const reply = await this.command('show protocols');
    return reply.lines.filter((l) => l.code === 1002).map((l) => parseProtocolRow(l.text));
  }

  /** One protocol's state, or undefined when BIRD has no protocol of that name. */
  async protocolState(name: string): Promise<BirdProtocolState | undefined> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`"${name}" is not a BIRD protocol name`);
    const reply = await this.raw(`show protocols ${name}`);
    if (reply.code >= 8000) return undefined;
    const row = reply.lines.find((l) => l.code === 1002);
    return row ? parseProtocolRow(row.text) : undefined;
  }

  /**
   * What a BGP protocol received, summed over its channels (`show protocols all`'s "Route
   * change stats", received column): every update and every withdrawal the speaker sent.
   */
  async importStats(name: string): Promise<{ updates: number; withdraws: number }> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`"${name}" is not a BIRD protocol name`);
    const text = (await this.command(`show protocols all ${name}`)).lines.map((l) => l.text).join('\n');
    const sum = (label: string) => [...text.matchAll(new RegExp(`^\\s*Import ${label}:\\s+(\\d+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    return { updates: sum('updates'), withdraws: sum('withdraws') };
  }

  /**
   * Polls `probe` (given this client) until it yields a value; see `waitUntil`. The timeout
   * is a bound for the failure message, not a timing assertion.
   */
  waitFor<T>(
    probe: (bird: BirdControl) => Promise<T | undefined | null | false>,
    timeout: Millis,
    options: { interval?: Millis; what?: string } = {},
  ): Promise<T> {
    return waitUntil(() => probe(this), { timeout, ...options });
  }

  /** Waits until BGP protocol `name` is Established. */
  waitEstablished(name: string, timeout: Millis): Promise<BirdProtocolState> {
    return this.waitFor(
      async (bird) => {
        const state = await bird.protocolState(name);
        return state?.established ? state : undefined;
      },
      timeout,
      { what: `BIRD protocol ${name} Established` },
    );
  }

  close(): void {
    this.closedError ??= new Error(`bird control ${this.socketPath}: closed`);
    this.socket.destroy();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      this.receiveLine(line);
    }
  }

  private receiveLine(line: string): void {
    const target = this.greeting ?? this.pending[0];
    const match = LINE_RE.exec(line);
    let code: number;
    let text: string;
    let last = false;
    if (match) {
      code = Number(match[1]);
      text = match[3]!;
      last = match[2] === ' ';
    } else {
      // A continuation line: a leading blank, then text under the previous code.
      code = this.lastCode;
      text = line.startsWith(' ') ? line.slice(1) : line;
    }
    this.lastCode = code;
    if (!target) return; // Unsolicited output (none expected): ignore rather than misattribute.
    target.lines.push({ code, text });
    if (!last) return;
    if (target === this.greeting) this.greeting = undefined;
    else this.pending.shift();
    target.resolve({ code, lines: target.lines });
  }
}

/** `speaker    BGP        ---        up     06:22:29.533  Established` */
function parseProtocolRow(text: string): BirdProtocolState {
  const [name = '', proto = '', table = '', state = '', since = '', ...info] = text.trim().split(/\s+/);
  // `since` may be a date and a time (`2024-01-01 12:00:00`) depending on timeformat.
  const rest = /^\d{2}:\d{2}/.test(info[0] ?? '') ? info.slice(1) : info;
  const infoText = rest.join(' ');
  return { name, proto, table, state, since, info: infoText, established: state === 'up' && /^Established\b/.test(infoText) };
}
