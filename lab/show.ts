/**
 * The show (issue 5 item 4): on a routed lab that is up and converged, with the client's
 * prober running, each fault of lab/show-faults.ts in turn — apply it, wait for the correct
 * outcome (bounded), print what the client saw and what the core's OSPF table held, undo it
 * and wait for the lab to converge again — then one table, a row per fault.
 *
 * The bound on each wait is for failure, not a measurement: a row whose outcome never came is
 * reported with what was seen instead. The outage column is measured by the client's prober
 * and never judged.
 */
import { ms, type Millis } from '../src/core/duration.js';
import { LAB_SERVICES, SITES, type LabServiceName, type RoutedLab } from './routed-lab.js';
import type { ClientProber, Outage } from './show-client.js';
import { describeOutcome, sameOutcome, SHOW_FAULTS, type Expectation, type Outcome, type ShowFault } from './show-faults.js';

export interface ShowOptions {
  /** The CI form: the same faults, shorter observation windows. */
  short: boolean;
  print: (line: string) => void;
  /** How long a fault's outcome may take before the row fails. Default 30 s. */
  outcomeTimeout?: Millis;
  /** Run only these faults (default: all, in order). */
  faults?: readonly ShowFault[];
}

export interface ShowRow {
  fault: string;
  expected: string;
  observed: string;
  outage: Record<LabServiceName, Outage>;
  ok: boolean;
}

/** The client's recent answers must agree with the core for this long before a row settles. */
const CLIENT_WINDOW = ms(400);

/** Which sites the core's OSPF route for each service leads to, now. */
export async function coreOutcome(lab: RoutedLab): Promise<Outcome> {
  const out = {} as Outcome;
  for (const svc of LAB_SERVICES) out[svc] = [...(await lab.coreSites(svc))];
  return out;
}

/** The core's OSPF table for the service prefixes, one line each, as a user reads it. */
export async function coreTableLines(lab: RoutedLab): Promise<string[]> {
  const lines: string[] = [];
  for (const svc of ['db', 'web'] as const) {
    const route = await lab.coreRoute(svc);
    const prefix = route?.prefix ?? svc;
    if (!route) lines.push(`${prefix.padEnd(16)} ${svc.padEnd(3)}  (no route)`);
    else lines.push(`${prefix.padEnd(16)} ${svc.padEnd(3)}  ${route.protocol} via ${route.nextHops.map((h) => `${h.address} (${h.router ?? '?'})`).join(', ') || '-'}`);
  }
  return lines;
}

export async function runShow(lab: RoutedLab, prober: ClientProber, options: ShowOptions): Promise<ShowRow[]> {
  const { print } = options;
  const faults = options.faults ?? SHOW_FAULTS;
  const rows: ShowRow[] = [];
  print(`The lab is up: ${describeOutcome(await coreOutcome(lab))}. The core's OSPF table:`);
  for (const line of await coreTableLines(lab)) print(`    ${line}`);
  for (const [i, fault] of faults.entries()) {
    print('');
    print(`[${i + 1}/${faults.length}] ${fault.title}`);
    print(`    demonstrates: ${fault.demonstrates}`);
    let row: ShowRow;
    let expected = '?';
    try {
      const expectation = await fault.expect(lab);
      expected = expectedText(expectation);
      print(`    expected:     ${expected}`);
      row = await runFault(lab, prober, fault, expectation, options);
    } catch (err) {
      row = { fault: fault.title, expected, observed: `error: ${errorText(err)}`, outage: emptyOutages(), ok: false };
    }
    rows.push(row);
    print(`    result:       ${row.ok ? 'ok' : 'FAILED'} (${row.observed})`);
    try {
      const healing = Date.now();
      await fault.heal(lab);
      await lab.waitConverged(ms(30_000));
      print(`    undone; the lab converged again in ${((Date.now() - healing) / 1000).toFixed(1)} s`);
    } catch (err) {
      // Undo everything, once; a lab that cannot converge makes the remaining rows meaningless.
      print(`    undoing the fault failed (${errorText(err)}); healing everything …`);
      row.ok = false;
      row.observed += '; did not heal';
      try {
        await lab.healAll();
        await lab.waitConverged(ms(30_000));
      } catch (again) {
        print(`    the lab did not converge again (${errorText(again)}): the remaining faults are not run`);
        for (const rest of faults.slice(i + 1)) rows.push({ fault: rest.title, expected: '-', observed: 'not run', outage: emptyOutages(), ok: false });
        break;
      }
    }
  }
  return rows;
}

/**
 * Applies one fault and waits (bounded) for its expected outcome; prints what the core and
 * the client saw; does not undo it. `lab fault NAME` uses it too.
 */
export async function runFault(lab: RoutedLab, prober: ClientProber, fault: ShowFault, expectation: Expectation, options: ShowOptions): Promise<ShowRow> {
  const expected = expectation.outcome;
  const { print } = options;
  const before = { sessions: await lab.bgpSessions() };
  const start = Date.now();
  await fault.apply(lab);
  const watchUntil = start + (fault.watchFor ? fault.watchFor[options.short ? 'short' : 'full'] : 0);
  const deadline = Math.max(watchUntil, start + (options.outcomeTimeout ?? 30_000));
  let observed: Outcome;
  let seen: { holds: boolean; seen: string } | undefined;
  let clientAgrees: boolean;
  for (;;) {
    observed = await coreOutcome(lab);
    seen = expectation.check ? await expectation.check(lab, before) : undefined;
    clientAgrees = LAB_SERVICES.every((svc) => prober.agrees(svc, expected[svc], CLIENT_WINDOW) === true);
    const settled = sameOutcome(observed, expected) && (seen?.holds ?? true) && clientAgrees;
    if ((settled && Date.now() >= watchUntil) || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // Leave in-flight probes time to finish so the window's end is counted.
  const end = Date.now();
  await new Promise((r) => setTimeout(r, 300));
  const outage = {} as Record<LabServiceName, Outage>;
  for (const svc of LAB_SERVICES) outage[svc] = prober.outage(svc, start, end);

  print(`    after ${((end - start) / 1000).toFixed(1)} s, the core's OSPF table:`);
  for (const line of await coreTableLines(lab)) print(`        ${line}`);
  for (const svc of ['db', 'web'] as const) {
    const a = prober.answers(svc, start, end);
    const last = prober.answers(svc, end - 1000, end);
    const why = prober.errors(svc, start, end).map(([e, n]) => `${n}× ${e}`).join(', ');
    print(`    client, ${svc}: answered by ${SITES.map((s) => `${s} ${a[s]}`).join(', ')}, unanswered ${a.none}${why ? ` (${why})` : ''}; `
      + `last second: ${answeredBy(last)}; longest with no answer ${formatOutage(outage[svc])} ms`
      + `${outage[svc].startedAfter !== undefined ? ` (from +${(outage[svc].startedAfter! / 1000).toFixed(1)} s)` : ''}`);
  }
  if (seen) print(`    ${seen.seen}`);

  const ok = sameOutcome(observed, expected) && (seen?.holds ?? true) && clientAgrees;
  const observedText = [describeOutcome(observed), ...(seen ? [seen.seen] : []), ...(clientAgrees ? [] : ['client disagrees'])].join('; ');
  return { fault: fault.title, expected: expectedText(expectation), observed: observedText, outage, ok };
}

function answeredBy(counts: Record<'ny' | 'nj' | 'none', number>): string {
  const sites = SITES.filter((s) => counts[s] > 0);
  return sites.length ? `${sites.join('+')}${counts.none ? ` (and ${counts.none} unanswered)` : ''}` : 'nobody';
}

export function expectedText(e: Expectation): string {
  return [describeOutcome(e.outcome), ...(e.more ? [e.more] : [])].join('; ');
}

/** `2310`, or `3120+` for a stretch still going on when the row settled (no service). */
export function formatOutage(o: Outage): string {
  return `${o.longest}${o.ongoing ? '+' : ''}`;
}

function emptyOutages(): Record<LabServiceName, Outage> {
  const none: Outage = { longest: ms(0), ongoing: false, probes: 0, failed: 0 };
  return { web: none, db: none };
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

/** The closing table: fault | expected | observed | outage ms | ok. */
export function formatTable(rows: readonly ShowRow[]): string {
  const header = ['fault', 'expected', 'observed', 'outage ms', 'ok'];
  const cells = rows.map((r) => [r.fault, r.expected, r.observed, `db ${formatOutage(r.outage.db)}, web ${formatOutage(r.outage.web)}`, r.ok ? 'ok' : 'FAIL']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}
