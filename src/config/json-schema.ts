/**
 * JSON Schemas (draft 2020-12) of the agent's and the quorum server's files, built from the
 * same zod schemas that parse them, so an editor completes and checks exactly what quorate
 * accepts. They describe what the operator writes (zod's `io: 'input'`): durations are text
 * with a pattern, not the milliseconds they become, and every default is shown as it would
 * be written in the file.
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { formatDuration, ms } from '../core/duration.js';
import { DURATION_PATTERN } from './fields.js';
import { AGENT_SECTIONS, REQUIRED_AGENT_SECTIONS, agentSectionSchemas, serviceSchema, servicesListSchema } from './schema.js';
import { serverSchema } from './server-schema.js';

export type JsonSchema = z.core.JSONSchema.BaseSchema;

type AgentSection = (typeof AGENT_SECTIONS)[number];

/**
 * Relative paths in a config are resolved against its folder; the schema describes the text
 * before that happens, so any folder will do. A fixed one keeps the output reproducible.
 */
const SOME_CONFIG_DIR = '/etc/quorate';

/** One schema per top-level key: the loader's sections, and the list of services. */
function agentSectionSchemasWithServices(baseDir: string): Record<AgentSection, z.ZodType> {
  return {
    ...agentSectionSchemas(baseDir),
    // The loader takes the list as it is and parses each service on its own (so one bad
    // service does not hide the others); for the editor it is simply a list of services.
    services: z.array(serviceSchema(baseDir)).min(1).meta(servicesListSchema.meta() ?? {}),
  };
}

/** The agent's file as one zod object: the loader parses it section by section, with the same schemas. */
function agentFileSchema(baseDir: string) {
  const schemas = agentSectionSchemasWithServices(baseDir);
  const required: readonly string[] = REQUIRED_AGENT_SECTIONS;
  const shape: Record<string, z.ZodType> = {};
  for (const key of AGENT_SECTIONS) {
    const schema = schemas[key];
    shape[key] = required.includes(key) ? schema : schema.optional();
  }
  return z.strictObject(shape);
}

/**
 * A default as the operator would write it. zod keeps a default in its parsed form (a
 * duration in milliseconds) and, describing the input, drops any default that went through
 * a transform; this puts it back in written form and proves it by parsing it again.
 */
function writtenDefault(value: unknown, json: JsonSchema): unknown {
  if (typeof value === 'number' && json.type === 'string' && json.pattern === DURATION_PATTERN) {
    return formatDuration(ms(value));
  }
  if (Array.isArray(value) && typeof json.items === 'object' && !Array.isArray(json.items)) {
    const items = json.items;
    return value.map((item: unknown) => writtenDefault(item, items));
  }
  return value;
}

function restoreDefault(zodSchema: z.core.$ZodTypes, json: JsonSchema, path: (string | number)[]): void {
  if (zodSchema._zod.def.type !== 'default' || json.default !== undefined) return;
  const def = zodSchema._zod.def;
  const value: unknown = def.defaultValue;
  const written = writtenDefault(value, json);
  const reparsed = def.innerType['~standard'].validate(written);
  if (reparsed instanceof Promise || reparsed.issues || !isDeepStrictEqual(reparsed.value, value)) {
    throw new Error(`the default at ${path.join('.') || '(root)'} (${JSON.stringify(value)}) has no written form the schema can show: write it with .prefault(<as in the file>) instead`);
  }
  json.default = written as JsonSchema['default'];
}

function toJsonSchema(schema: z.ZodType, title: string, description: string): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    // Refinements (a host name, an http URL, durations above zero) have no JSON Schema form;
    // the pattern or type around them still holds, and `quorate check` says the rest.
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema, path }) => restoreDefault(zodSchema, jsonSchema, path),
  });
  return { $schema: json.$schema, title, description, ...json };
}

export function agentJsonSchema(): JsonSchema {
  return toJsonSchema(agentFileSchema(SOME_CONFIG_DIR), 'quorate agent configuration',
    "One node's quorate agent: its cluster, how it reaches the BGP speaker, and the services it health-checks and announces.");
}

export function serverJsonSchema(): JsonSchema {
  return toJsonSchema(serverSchema(SOME_CONFIG_DIR, `${SOME_CONFIG_DIR}/server.yaml`), 'quorate quorum server configuration',
    "The quorum server: the tie-breaker that grants a lease to one half of a cluster split exactly in two.");
}
