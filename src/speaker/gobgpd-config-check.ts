/**
 * `gobgpd --dry-run` before the real start. gobgpd opens its API first and reads its config
 * afterwards, so "the API answers" does not mean "the config is good": a config it cannot
 * parse would otherwise surface as a speaker that starts and dies a moment later, again and
 * again. The dry run turns that into one clear error, quoting gobgpd.
 */
import { execFile } from 'node:child_process';

/** gobgpd's complaint in a dry run's JSON log lines: its message plus the error detail. */
function complaintOf(output: string): string | undefined {
  const complaints: string[] = [];
  for (const line of output.split('\n')) {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry['level'] === 'fatal' || entry['level'] === 'error' || entry['level'] === 'panic') {
        // One line: gobgpd's errors carry newlines ("1 error(s) decoding:\n\n* cannot parse …").
        complaints.push([entry['msg'], entry['Error']].filter((part) => typeof part === 'string').join(': ').replace(/\s+/g, ' '));
      }
    } catch {
      // not a log line
    }
  }
  return complaints.length ? complaints.join('; ') : undefined;
}

/** Resolves when gobgpd accepts the config file; rejects with gobgpd's own words otherwise. */
export function checkGobgpdConfig(binary: string, config: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['--dry-run', '-f', config, '-t', 'toml'], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (!err) return resolve();
      const said = complaintOf(`${stdout}\n${stderr}`) ?? (`${stderr}`.trim() || err.message);
      reject(new Error(`gobgpd rejects its config ${config}: ${said}`));
    });
  });
}
