/** The quorum server's file: defaults, errors at their positions, and kind detection. */
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfigFile } from '../src/config/check.js';
import { detectConfigKind, loadServerConfig } from '../src/config/load.js';
import { TempConfigs, lines } from './fixtures/config/temp-config.js';

const temp = new TempConfigs();
afterAll(() => temp.remove());

describe('quorum server config', () => {
  it('fills defaults and resolves the state file against the config folder', () => {
    const file = temp.write(`
      listen: 127.0.0.1:7481
      tls: { insecure: true }
      state-file: state/grants.json
    `, 'server.yaml');
    expect(detectConfigKind(file)).toBe('server');
    const { config, diagnostics } = loadServerConfig(file, 'run');
    expect(diagnostics).toEqual([]);
    expect(config).toEqual({
      file, listen: { host: '127.0.0.1', port: 7481 }, tls: { insecure: true },
      lease: { max: 10_000 }, stateFile: `${temp.dir}/state/grants.json`,
    });
  });

  it('reports every error in the file: unknown keys and bad values; then duplicate clusters and missing TLS', () => {
    const file = temp.write(`
      listen: 127.0.0.1:7481
      lease: { max: 10 }
      clusters:
        - name: payments
        - name: payments
          prefer: ny-1
          prefered: nj-1
    `, 'server-bad.yaml');
    const { config, diagnostics } = loadServerConfig(file, 'check');
    expect(config).toBeUndefined();
    expect(lines(diagnostics)).toEqual([
      `${file}:2:15: expected text, got the number 10`,
      `${file}:7:5: unknown key "prefered": did you mean "prefer"?`,
    ]);
    const fixed = temp.write(`
      listen: 127.0.0.1:7481
      clusters:
        - name: payments
        - name: payments
    `, 'server-dup.yaml');
    expect(lines(loadServerConfig(fixed, 'check').diagnostics)).toEqual([
      `${fixed}:1:9: the quorum server talks mutual TLS: set tls.ca, tls.cert and tls.key (or tls.insecure: true, for a lab only)`,
      `${fixed}:4:11: cluster "payments" is listed twice`,
    ]);
  });

  it('quorate check exits 1 on an invalid file and prints the errors before the summary', () => {
    const file = temp.write('listen: nowhere\n', 'server-worse.yaml');
    const report = checkConfigFile(file);
    expect(report.kind).toBe('server');
    expect(report.exitCode).toBe(1);
    expect(report.lines).toEqual([
      `${file}:1:9: "nowhere" is not HOST:PORT (e.g. 192.0.2.1:7480 or [2001:db8::1]:7480)`,
      `${file}: invalid (1 error)`,
    ]);
  });
});
