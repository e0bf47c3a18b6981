/**
 * The configuration reference (docs/configuration.md) and the shipped JSON Schema files,
 * rendered from the JSON Schemas of json-schema.ts, which come from the zod schemas that
 * parse the files. Pure functions: the generator writes their text, and a test compares it
 * with what is committed, so the documentation cannot drift from the code.
 */
import { stringify as stringifyYaml } from 'yaml';
import { DURATION_PATTERN } from './fields.js';
import { agentJsonSchema, serverJsonSchema, type JsonSchema } from './json-schema.js';

/** The command that rewrites every generated file (the test's failure message names it). */
export const REGENERATE_COMMAND = 'npx tsc -p tsconfig.json && node dist/src/config/generate-docs.js';

/** One key of a config file, as the reference lists it. */
export interface ReferenceEntry {
  /** `services[].checks[].interval`: list items are `[]`. */
  path: string;
  type: string;
  /** As written in YAML, `required`, or `—` (none: the key is optional and has no fixed default). */
  default: string;
  description: string;
}

const NO_DEFAULT = '—';
const REQUIRED = 'required';

function subschema(value: JsonSchema['items'] | JsonSchema['additionalProperties']): JsonSchema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonSchema) : undefined;
}

/** zod writes `.int()` without bounds as the safe-integer range: not a limit worth showing. */
function meaningfulBound(n: number | undefined): n is number {
  return n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER;
}

/** What kind of value a key takes, in an operator's words ("duration", "list of prefix", "integer 0–255"). */
export function typeLabel(schema: JsonSchema): string {
  if (schema.title) return schema.title;
  if (schema.enum) return schema.enum.map((v) => `\`${String(v)}\``).join(' or ');
  if (schema.pattern === DURATION_PATTERN) return 'duration';
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const kind = schema.type;
      const min = meaningfulBound(schema.minimum) ? schema.minimum : undefined;
      const max = meaningfulBound(schema.maximum) ? schema.maximum : undefined;
      if (min !== undefined && max !== undefined) return `${kind} ${min}–${max}`;
      if (min !== undefined) return `${kind} ≥ ${min}`;
      if (max !== undefined) return `${kind} ≤ ${max}`;
      return kind;
    }
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'text';
    case 'array': {
      const items = subschema(schema.items);
      const list = (schema.minItems ?? 0) > 0 ? 'non-empty list' : 'list';
      return items ? `${list} of ${typeLabel(items)}` : list;
    }
    case 'object': {
      const values = subschema(schema.additionalProperties);
      return values ? `mapping of text to ${typeLabel(values)}` : 'mapping';
    }
    default:
      return 'any';
  }
}

/** A default in YAML flow style, as it would be written in the file: `[ request, reply ]`, `""`. */
export function yamlFlow(value: unknown): string {
  return stringifyYaml(value, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}

/** Every key of a file's schema, depth first in the order the schema defines them. */
export function referenceEntries(schema: JsonSchema): ReferenceEntry[] {
  const out: ReferenceEntry[] = [];
  const visit = (node: JsonSchema, prefix: string): void => {
    const required = new Set(node.required ?? []);
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (typeof child !== 'object') continue;
      const path = prefix ? `${prefix}.${key}` : key;
      const fallback = required.has(key) ? REQUIRED : NO_DEFAULT;
      out.push({
        path,
        type: typeLabel(child),
        default: child.default === undefined ? fallback : yamlFlow(child.default),
        description: child.description ?? '',
      });
      descend(child, path);
    }
  };
  // Into a mapping's keys, or a list's items (`services[]`), however deep the lists nest.
  const descend = (node: JsonSchema, path: string): void => {
    if (node.properties) visit(node, path);
    const items = subschema(node.items);
    if (items) descend(items, `${path}[]`);
  };
  descend(schema, '');
  return out;
}

/** Markdown table cells: a `|` would end the cell, and `<state-dir>` would be read as an HTML tag. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function code(text: string): string {
  return text === REQUIRED || text === NO_DEFAULT ? text : `\`${text}\``;
}

export function referenceTable(entries: readonly ReferenceEntry[]): string {
  const rows = entries.map((e) => `| \`${e.path}\` | ${cell(e.type)} | ${cell(code(e.default))} | ${cell(e.description)} |`);
  return ['| Key | Type | Default | Description |', '|---|---|---|---|', ...rows].join('\n');
}

/** docs/configuration.md: both files, every key, from the schemas. */
export function configReference(agent: JsonSchema, server: JsonSchema): string {
  return `<!-- Generated from the zod schemas in src/config by \`${REGENERATE_COMMAND}\`. Do not edit by hand: edit the descriptions in src/config (schema.ts, server-schema.ts, fields.ts) and regenerate. -->

# Configuration reference

quorate reads two YAML files: the **agent's** (one per node, \`quorate agent --config FILE\`) and
the **quorum server's** (\`quorate server --config FILE\`). \`quorate check --config FILE\` validates
either and reports every problem as \`FILE:LINE:COL: message\`.

This page lists every key of both, generated from the schemas that parse them. A path such as
\`services[].checks[].interval\` means the key \`interval\` of each item of the list \`checks\` of
each item of \`services\`. **Default** is the value used when the key is left out, written as
it would be in the file; *required* means the key must be given (when its section is); *—* means
the key is optional and has no fixed default (the description says what leaving it out does).

Conventions: keys are kebab-case, and an unknown key is an error. A **duration** is a number
and a unit: \`200ms\`, \`4s\`, \`1.5s\`, \`2m\`, \`1h\`. A **path** that is relative is taken
from the config file's folder. A **name** is 1 to 63 letters, digits, \`.\`, \`_\` or \`-\`,
starting with a letter or digit.

Editors: the same schemas are shipped as JSON Schema in \`schema/agent.schema.json\` and
\`schema/server.schema.json\`. With the YAML language server (VS Code's YAML extension,
Neovim, Helix, …), a first line such as

\`\`\`yaml
# yaml-language-server: $schema=/usr/lib/node_modules/quorate/schema/agent.schema.json
\`\`\`

completes keys, shows these descriptions and defaults, and marks unknown keys and malformed
values as you type. After \`npm install -g\` the files are in \`$(npm root -g)/quorate/schema/\`;
a relative path (\`$schema=./agent.schema.json\`) is taken from the YAML file's folder.
\`quorate check\` remains the full review: the relations between keys (a prefix claimed twice,
a lease shorter than three heartbeats, …) are beyond a JSON Schema.

## The agent's file (\`schema/agent.schema.json\`)

${agent.description ?? ''}

${referenceTable(referenceEntries(agent))}

## The quorum server's file (\`schema/server.schema.json\`)

${server.description ?? ''}

${referenceTable(referenceEntries(server))}
`;
}

/** The order a reader expects in each schema object: what it is, then its constraints, then its parts. */
const KEYWORD_ORDER = [
  '$schema', '$comment', 'title', 'description', 'type', 'enum', 'const', 'pattern', 'patternErrorMessage', 'minimum', 'maximum',
  'minLength', 'maxLength', 'minItems', 'maxItems', 'default', 'properties', 'required', 'additionalProperties',
  'propertyNames', 'items', 'oneOf', 'anyOf', 'allOf',
];
const SCHEMA_VALUED = new Set(['items', 'additionalProperties', 'propertyNames', 'not']);
const SCHEMA_LIST_VALUED = new Set(['oneOf', 'anyOf', 'allOf', 'prefixItems']);

/** The same schema with its keywords in reading order (JSON Schema gives key order no meaning). */
function inReadingOrder(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema;
  const source = schema as Record<string, unknown>;
  const rank = (k: string) => (KEYWORD_ORDER.includes(k) ? KEYWORD_ORDER.indexOf(k) : KEYWORD_ORDER.length);
  const keys = Object.keys(source).sort((a, b) => rank(a) - rank(b));
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = source[key];
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, inReadingOrder(sub)]));
    } else if (SCHEMA_VALUED.has(key)) {
      out[key] = inReadingOrder(value);
    } else if (SCHEMA_LIST_VALUED.has(key) && Array.isArray(value)) {
      out[key] = value.map(inReadingOrder);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** A schema file's text: the schema in reading order, with a note that it is generated. */
export function schemaFileText(schema: JsonSchema): string {
  const noted = { ...schema, $comment: `Generated from the zod schemas in src/config by \`${REGENERATE_COMMAND}\`; do not edit.` };
  return `${JSON.stringify(inReadingOrder(noted), null, 2)}\n`;
}

/** Every generated file, by its path from the package root, with its text. */
export function generatedConfigFiles(): Record<string, string> {
  const agent = agentJsonSchema();
  const server = serverJsonSchema();
  return {
    'schema/agent.schema.json': schemaFileText(agent),
    'schema/server.schema.json': schemaFileText(server),
    'docs/configuration.md': configReference(agent, server),
  };
}
