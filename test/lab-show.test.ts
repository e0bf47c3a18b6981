/**
 * CI runs the show (issue 5 item 5) in its short form: the routed lab on the real daemons,
 * every fault in order, each row's outcome checked by the show itself — the core's OSPF
 * routes, the client's answers, and each fault's own check (hold timer, new session, …).
 * The short form only shortens the windows in which "nothing changes" is watched; every wait
 * is for an outcome, with a generous bound. The test asserts every row ok, and that the lab
 * leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ms } from '../src/core/duration.js';
import { listNamespaces } from '../lab/netns.js';
import { RoutedLab } from '../lab/routed-lab.js';
import { routedLabRequirements } from '../lab/routed-lab-requirements.js';
import { ClientProber } from '../lab/show-client.js';
import { SHOW_FAULTS } from '../lab/show-faults.js';
import { formatTable, runShow, type ShowRow } from '../lab/show.js';

const requirements = routedLabRequirements();
if (!requirements.ok) console.warn(`skipping the show: ${requirements.reason}`);

describe.skipIf(!requirements.ok)('the show, short form (routed lab, every fault)', () => {
  let lab: RoutedLab | undefined;
  let rows: ShowRow[] = [];
  const narration: string[] = [];

  beforeAll(async () => {
    lab = await RoutedLab.up({ tag: 'shw' });
  }, 90_000);
  afterAll(async () => {
    await lab?.teardown();
  });

  it('every fault ends in its expected outcome; the table has one ok row per fault', async () => {
    const prober = await ClientProber.start(lab!);
    rows = await runShow(lab!, prober, { short: true, print: (line) => narration.push(line), outcomeTimeout: ms(30_000) });
    const table = formatTable(rows);
    console.log(table);
    expect(rows.map((r) => r.fault)).toEqual(SHOW_FAULTS.map((f) => f.title));
    const failed = rows.filter((r) => !r.ok);
    expect(failed, `${table}\n\n${narration.join('\n')}`).toEqual([]);
  }, 240_000);

  it('teardown leaves no namespace behind', async () => {
    const prefix = lab!.lab.prefix;
    await lab!.teardown();
    expect((await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
  });
});
