/** The pure rise/fall rule and check labels. */
import { describe, expect, it } from 'vitest';
import { applyResult, INITIAL_HYSTERESIS, type HysteresisState } from '../src/health/hysteresis.js';
import { checkLabel } from '../src/health/label.js';

function run(results: boolean[], limits: { rise: number; fall: number }): boolean[] {
  let state: HysteresisState = INITIAL_HYSTERESIS;
  return results.map((ok) => (state = applyResult(state, ok, limits)).up);
}

describe('rise/fall hysteresis', () => {
  it('starts down and needs `rise` passes in a row', () => {
    expect(INITIAL_HYSTERESIS.up).toBe(false);
    expect(run([true, true, true], { rise: 3, fall: 1 })).toEqual([false, false, true]);
    expect(run([true, true, false, true, true, true], { rise: 3, fall: 1 })).toEqual([false, false, false, false, false, true]);
  });

  it('needs `fall` failures in a row to go down; a pass resets the count', () => {
    expect(run([true, false, false, true, false, false, false], { rise: 1, fall: 3 })).toEqual([true, true, true, true, true, true, false]);
  });

  it('rise 1 / fall 1 follows every result', () => {
    expect(run([true, false, true, false], { rise: 1, fall: 1 })).toEqual([true, false, true, false]);
  });

  it('counts consecutive passes and failures', () => {
    const s = applyResult(applyResult(INITIAL_HYSTERESIS, false, { rise: 2, fall: 2 }), false, { rise: 2, fall: 2 });
    expect(s).toEqual({ up: false, passes: 0, fails: 2 });
  });
});

describe('check labels', () => {
  it('name the kind and the target', () => {
    expect(checkLabel({ kind: 'tcp', host: '127.0.0.1', port: 5432 })).toBe('tcp 127.0.0.1:5432');
    expect(checkLabel({ kind: 'tcp', host: '::1', port: 53 })).toBe('tcp [::1]:53');
    expect(checkLabel({ kind: 'http', url: 'http://127.0.0.1:8080/healthz', status: 200, insecureTls: false, headers: {} })).toBe('http http://127.0.0.1:8080/healthz');
    expect(checkLabel({ kind: 'exec', command: ['/usr/local/bin/check-dns', '--quick'], env: {} })).toBe('exec /usr/local/bin/check-dns --quick');
    expect(checkLabel({ kind: 'grpc', host: '127.0.0.1', port: 50051, service: 'db', tls: true })).toBe('grpc tls 127.0.0.1:50051 service=db');
  });
});
