/**
 * The shipped JSON Schemas and the generated config reference: committed files match the
 * generator, the schemas accept every real config quorate accepts (checked by a real
 * JSON Schema 2020-12 validator, Python's jsonschema) and reject what quorate rejects, and
 * every key is described.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../src/core/duration.js';
import { parseAgentParts } from '../src/config/agent-parts.js';
import { REGENERATE_COMMAND, generatedConfigFiles, referenceEntries } from '../src/config/config-reference.js';
import { DURATION_PATTERN } from '../src/config/fields.js';
import { agentJsonSchema, serverJsonSchema, type JsonSchema } from '../src/config/json-schema.js';
import { AGENT_SECTIONS, REQUIRED_AGENT_SECTIONS } from '../src/config/schema.js';
import { serverSchema } from '../src/config/server-schema.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONTRACT = '/work/shared/contract';

const AGENT_FILES = [
  join(CONTRACT, 'agent.yaml'),
  join(CONTRACT, 'single.yaml'),
  join(ROOT, 'config/lab/ny-srv/agent.yaml'),
  join(ROOT, 'config/lab/nj-srv/agent.yaml'),
];
const SERVER_FILES = [join(CONTRACT, 'server.yaml'), join(ROOT, 'config/lab/qs/server.yaml')];

const readYaml = (file: string): unknown => parseYaml(readFileSync(file, 'utf8'));

describe('generated files', () => {
  it('schema/*.schema.json and docs/configuration.md are what the generator writes now', () => {
    for (const [path, expected] of Object.entries(generatedConfigFiles())) {
      const committed = readFileSync(join(ROOT, path), 'utf8');
      expect(committed, `${path} is out of date with src/config: regenerate it with \`${REGENERATE_COMMAND}\` and commit the result`).toBe(expected);
    }
  });

  it('the reference lists every key with a description, and the default of each key that has one', () => {
    for (const schema of [agentJsonSchema(), serverJsonSchema()]) {
      const entries = referenceEntries(schema);
      expect(entries.length).toBeGreaterThan(10);
      const undescribed = entries.filter((e) => e.description.trim() === '').map((e) => e.path);
      expect(undescribed, 'keys without a description: add .meta({ description }) where the key is defined').toEqual([]);
    }
    const byPath = new Map(referenceEntries(agentJsonSchema()).map((e) => [e.path, e]));
    // Defaults appear as written in the file: durations as text, the quorum list in its YAML form.
    expect(byPath.get('services[].checks[].interval')).toMatchObject({ type: 'duration', default: '500ms' });
    expect(byPath.get('cluster.heartbeat.dead-after')).toMatchObject({ default: '1s' });
    expect(byPath.get('cluster.quorum')?.default).toBe('[ { voting: {} } ]');
    expect(byPath.get('arp.gratuitous.forms')?.default).toBe('[ request, reply ]');
    expect(byPath.get('services[].checks[].grpc.service')?.default).toBe('""');
    expect(byPath.get('node.id')?.default).toBe('required');
    expect(byPath.get('services[].checks[].timeout')?.default).toBe('—');
    const docs = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
    for (const path of ['services[].checks[].http.insecure-tls', 'maintenance-dir', 'flap-damping.hold-down', 'notify.command']) {
      expect(docs).toContain(`| \`${path}\` |`);
    }
    expect(docs).toContain('| `state-file` | path | `/var/lib/quorate/quorum-server.json` |');
  });
});

describe('the schemas, structurally', () => {
  const agent = agentJsonSchema();

  it('the agent file has exactly the sections quorate knows, the required ones listed, nothing else allowed', () => {
    expect(agent.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(agent.properties ?? {})).toEqual([...AGENT_SECTIONS]);
    expect(agent.required).toEqual([...REQUIRED_AGENT_SECTIONS]);
    expect(agent.additionalProperties).toBe(false);
  });

  it('every mapping with named keys refuses unknown keys, as quorate does', () => {
    const open: string[] = [];
    const visit = (node: JsonSchema, path: string): void => {
      if (node.properties && node.additionalProperties !== false) open.push(path || '(top)');
      for (const [key, child] of Object.entries(node.properties ?? {})) if (typeof child === 'object') visit(child, `${path}.${key}`);
      if (typeof node.items === 'object' && !Array.isArray(node.items)) visit(node.items, `${path}[]`);
    };
    visit(agent, '');
    visit(serverJsonSchema(), '');
    expect(open).toEqual([]);
  });

  it('every key the contract and lab files use is a property of the schema', () => {
    const missing: string[] = [];
    const visit = (data: unknown, node: JsonSchema | undefined, path: string): void => {
      if (!node) return;
      if (Array.isArray(data)) {
        const items = typeof node.items === 'object' && !Array.isArray(node.items) ? node.items : undefined;
        data.forEach((item) => visit(item, items, `${path}[]`));
      } else if (typeof data === 'object' && data !== null && node.properties) {
        for (const [key, value] of Object.entries(data)) {
          const child = node.properties[key];
          if (typeof child !== 'object') missing.push(`${path}.${key}`);
          else visit(value, child, `${path}.${key}`);
        }
      }
    };
    for (const file of AGENT_FILES) visit(readYaml(file), agent, file);
    for (const file of SERVER_FILES) visit(readYaml(file), serverJsonSchema(), file);
    expect(missing).toEqual([]);
  });

  it('the duration pattern accepts exactly what parseDuration accepts', () => {
    const pattern = new RegExp(DURATION_PATTERN);
    const samples = ['200ms', '4s', '1.5s', '2m', '1h', '0s', ' 2s ', '5', '5 s', '.5s', '1.s', '2d', '-1s', '1e3ms', 's', '2S', '1.5.5s'];
    for (const text of samples) {
      expect(pattern.test(text), JSON.stringify(text)).toBe(parseDuration(text) !== undefined);
    }
  });
});

/** Python's jsonschema: a JSON Schema 2020-12 validator maintained apart from zod. */
// Debian's python (with python3-jsonschema from scripts/setup.sh), not whatever python3 a PATH finds first.
const PYTHON = '/usr/bin/python3';
const pythonJsonschema = spawnSync(PYTHON, ['-c', 'import jsonschema'], { encoding: 'utf8' }).status === 0;
if (!pythonJsonschema) console.warn('config-schema: skipping validation by a real JSON Schema validator: python3 with jsonschema is not installed (Debian: python3-jsonschema)');

const VALIDATE_PY = `
import json, sys
from jsonschema import Draft202012Validator
request = json.load(sys.stdin)
Draft202012Validator.check_schema(request["schema"])
validator = Draft202012Validator(request["schema"])
print(json.dumps([["/".join(map(str, e.absolute_path)) + ": " + e.message for e in validator.iter_errors(i)] for i in request["instances"]]))
`;

/** The validator's complaints about each instance ([] = valid); throws if the schema itself is not valid 2020-12. */
function validate(schema: JsonSchema, instances: unknown[]): string[][] {
  const run = spawnSync(PYTHON, ['-c', VALIDATE_PY], { input: JSON.stringify({ schema, instances }), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`jsonschema failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[][];
}

type Path = (string | number)[];

/** A copy of `data` with the value at `path` replaced (undefined: removed). */
function withValue(data: unknown, path: Path, value: unknown): unknown {
  const [key, ...rest] = path;
  if (key === undefined) return value;
  const copy = (Array.isArray(data) ? [...(data as unknown[])] : { ...(data as Record<string, unknown>) }) as Record<string | number, unknown>;
  const next = withValue(copy[key], rest, value);
  if (next === undefined) delete copy[key];
  else copy[key] = next;
  return copy;
}

/** zod's verdict on an agent file, section by section as the loader parses it (schema errors only). */
function zodAccepts(data: unknown): boolean {
  const { findings } = parseAgentParts(data, '/etc/quorate');
  return findings.filter((f) => f.severity === 'error').length === 0;
}

describe.skipIf(!pythonJsonschema)('the schemas, checked by a real JSON Schema validator', () => {
  it('are valid 2020-12 schemas and accept the contract and lab configs', () => {
    expect(validate(agentJsonSchema(), AGENT_FILES.map(readYaml))).toEqual(AGENT_FILES.map(() => []));
    expect(validate(serverJsonSchema(), SERVER_FILES.map(readYaml))).toEqual(SERVER_FILES.map(() => []));
  });

  it('reject what quorate rejects, and accept what it accepts', () => {
    const base = readYaml(join(CONTRACT, 'agent.yaml'));
    // Each case: the contract's agent.yaml with some keys set (or, with undefined, removed).
    const cases: { name: string; edits: [Path, unknown][]; valid: boolean }[] = [
      { name: 'as written', edits: [], valid: true },
      { name: 'a misspelt key', edits: [[['services', 1, 'checks', 0, 'intervall'], '1s']], valid: false },
      { name: 'an unknown section', edits: [[['logging'], {}]], valid: false },
      { name: 'a duration without a unit', edits: [[['services', 1, 'checks', 0, 'interval'], 5]], valid: false },
      { name: 'a duration with a space', edits: [[['cluster', 'heartbeat', 'interval'], '200 ms']], valid: false },
      { name: 'a check of two kinds', edits: [[['services', 2, 'checks', 0, 'http'], { url: 'http://127.0.0.1/' }]], valid: false },
      { name: 'a check of no kind', edits: [[['services', 2, 'checks', 0], { interval: '1s' }]], valid: false },
      { name: 'no node section', edits: [[['node'], undefined]], valid: false },
      { name: 'no services', edits: [[['services'], []]], valid: false },
      { name: 'an unknown mode', edits: [[['services', 0, 'mode'], 'active']], valid: false },
      { name: 'a port out of range', edits: [[['services', 2, 'checks', 0, 'tcp', 'port'], 70000]], valid: false },
      { name: 'a malformed community', edits: [[['bgp', 'communities'], ['65001-100']]], valid: false },
      { name: 'a quorum module of two kinds', edits: [[['cluster', 'quorum', 0, 'server'], { address: '203.0.113.250:7481', lease: '4s' }]], valid: false },
      {
        name: 'a fractional duration and every optional section',
        edits: [
          [['services', 1, 'checks', 0, 'interval'], '1.5s'],
          [['state-dir'], 'state'],
          [['maintenance-dir'], '/run/quorate/maintenance'],
          [['flap-damping'], { changes: 4, within: '1m', 'hold-down': '30s' }],
          [['services', 0, 'flap-damping'], { changes: 2, within: '10s', 'hold-down': '1m' }],
          [['notify'], { command: ['./notify.sh'] }],
          [['arp'], { lifetime: '2s', gratuitous: { forms: ['reply'] } }],
        ],
        valid: true,
      },
    ];
    const docs = cases.map(({ edits }) => edits.reduce((doc, [path, value]) => withValue(doc, path, value), base));
    const verdicts = validate(agentJsonSchema(), docs);
    cases.forEach(({ name, valid }, i) => {
      expect(verdicts[i]!.length === 0, `${name}: the JSON Schema said ${JSON.stringify(verdicts[i])}`).toBe(valid);
      expect(zodAccepts(docs[i]), `${name}: quorate's own schema disagrees`).toBe(valid);
    });
  });

  it('the server schema rejects an unknown key and a bare-number lease, as quorate does', () => {
    const base = readYaml(join(CONTRACT, 'server.yaml')) as Record<string, unknown>;
    const docs = [{ ...base, leases: {} }, { ...base, lease: { max: 10 } }, { ...base, clusters: [{ name: 'payments', prefer: 'ny 1' }] }];
    expect(validate(serverJsonSchema(), docs).map((errors) => errors.length > 0)).toEqual([true, true, true]);
    for (const doc of docs) expect(serverSchema('/etc/quorate', '/etc/quorate/server.yaml').safeParse(doc).success).toBe(false);
  });
});
