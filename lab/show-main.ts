/**
 * `npm run lab`: the show on the routed lab (README: "The lab: two sites, BGP into OSPF").
 * Brings the lab up on network namespaces, starts the client's prober, runs every fault of
 * lab/show-faults.ts, prints the closing table and exits non-zero if a row failed. The lab is
 * torn down in every case: at the end, on an error, and on Ctrl-C or SIGTERM.
 *
 *   node dist/lab/show-main.js [--short]
 */
import { parseArgs } from 'node:util';
import { RoutedLab } from './routed-lab.js';
import { routedLabRequirements } from './routed-lab-requirements.js';
import { ClientProber } from './show-client.js';
import { formatTable, runShow } from './show.js';

const DIAGRAM = String.raw`
                      client 198.51.100.70          (probes web 203.0.113.10 and db 203.0.113.20)
                             |
   quorum server ------- core router            FRR: OSPF only, no BGP
   203.0.113.250          /        \
                    ny-rtr ---------- nj-rtr     FRR: eBGP from the server, redistributed into OSPF
                  AS 65101  ny-nj link  AS 65102
                      |                   |
                   ny-srv               nj-srv   demo web + db, quorate agent, gobgpd
                  AS 65001             AS 65002  (db: NY priority 200, NJ 100; web: anycast)
`;

/** Set by SIGINT/SIGTERM: from then on the signal's teardown decides the exit. */
let stopping = false;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { short: { type: 'boolean', default: false } } });
  const req = routedLabRequirements();
  if (!req.ok) {
    console.error(`The lab cannot run here: ${req.reason}`);
    return 1;
  }
  let lab: RoutedLab | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: removing the lab …`);
    // A lab still being built is removed by its exit guard when the process exits.
    void (lab?.teardown() ?? Promise.resolve())
      .catch((err: unknown) => console.error(String(err)))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  console.log(`The routed lab: two sites, a quorum server, BGP into OSPF.${DIAGRAM}`);
  console.log('Building it on network namespaces (FRR, gobgpd, quorate agents, quorum server) …');
  const startedAt = Date.now();
  try {
    lab = await RoutedLab.up({ tag: 'show' });
    const prober = await ClientProber.start(lab);
    console.log(`Up and converged in ${((Date.now() - startedAt) / 1000).toFixed(1)} s. The client probes both service addresses every ${prober.interval} ms (a new connection each).\n`);
    // After a signal the show may still be running while the lab goes away: say nothing more.
    const rows = await runShow(lab, prober, { short: values.short ?? false, print: (line) => void (stopping || console.log(line)) });
    if (stopping) return 130;
    console.log(`\n${formatTable(rows)}\n`);
    const failed = rows.filter((r) => !r.ok).length;
    console.log(failed ? `${failed} of ${rows.length} rows FAILED.` : `All ${rows.length} rows as expected.`);
    return failed ? 1 : 0;
  } catch (err) {
    if (stopping) return 130;
    console.error(`The show failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    return 1;
  } finally {
    if (!stopping) {
      console.log('Removing the lab …');
      await lab?.teardown();
    }
  }
}

main().then(
  (code) => {
    if (!stopping) process.exit(code);
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
