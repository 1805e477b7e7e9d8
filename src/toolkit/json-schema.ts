/**
 * How a tool's zod schema becomes the `inputSchema` a client sees. Every agent turn carries these
 * definitions, so the emitted JSON Schema says only what constrains a call: zod's own artefacts (the
 * `$schema` URI, the ±2^53−1 bounds of every integer, `additionalProperties: {}` on loose objects, null
 * branches) cost context and make portability linters warn, and they tell the model nothing. Validation is
 * unchanged: the zod schema still checks every call, with its own messages.
 */
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { z } from 'zod';

export type JsonSchema = { [key: string]: unknown };

export interface LeanOptions {
  /**
   * Top-level fields that are accepted and validated but left out of the advertised schema: rarely needed
   * knobs whose names the server instructions list once instead of every tool's schema repeating them.
   */
  unlisted?: readonly string[];
}

/** A Standard Schema that validates with zod and advertises the trimmed JSON Schema. */
export function leanSchema<S extends z.ZodType>(
  schema: S,
  options: LeanOptions = {},
): StandardSchemaWithJSON<z.input<S>, z.output<S>> {
  const std = schema['~standard'];
  let json: JsonSchema | undefined;
  const emit = () => {
    json ??= unlist(
      trimJsonSchema(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as JsonSchema),
      options.unlisted ?? [],
    );
    return json;
  };
  return {
    '~standard': {
      version: 1,
      vendor: std.vendor,
      validate: std.validate,
      jsonSchema: { input: emit, output: emit },
    },
  } as StandardSchemaWithJSON<z.input<S>, z.output<S>>;
}

/**
 * Caps this large are guard rails against runaway input, not guidance for a model; zod still enforces them
 * with a message that says what to do. Smaller caps (consensus's 10 models) are shown.
 */
const GUARD_RAIL = 1000;
function unlist(schema: JsonSchema, names: readonly string[]): JsonSchema {
  if (names.length === 0 || !isRecord(schema.properties)) return schema;
  const properties = Object.fromEntries(
    Object.entries(schema.properties).filter(([name]) => !names.includes(name)),
  );
  return { ...schema, properties };
}

const SAFE_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);
const SCHEMA_MAPS = ['properties', '$defs', 'patternProperties'];
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
const SCHEMA_VALUES = ['items', 'additionalProperties', 'not', 'propertyNames'];

/** A copy of a JSON Schema without the keywords that constrain nothing; exported for the size tests. */
export function trimJsonSchema(schema: JsonSchema, root = true): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (root && key === '$schema') continue;
    if ((key === 'maximum' || key === 'minimum') && SAFE_BOUNDS.has(value as number)) continue;
    if (key === 'additionalProperties' && isEmptySchema(value)) continue;
    if ((key === 'default' || key === 'description') && isEmpty(value)) continue;
    if (key === 'default' && value === false && schema.type === 'boolean') continue;
    if ((key === 'maxItems' || key === 'maxLength') && (value as number) >= GUARD_RAIL) continue;
    if (key === 'propertyNames' && isPlainString(value)) continue;
    if (SCHEMA_MAPS.includes(key) && isRecord(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, isRecord(sub) ? trimJsonSchema(sub, false) : sub]),
      );
    } else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) {
      out[key] = value.map(sub => (isRecord(sub) ? trimJsonSchema(sub, false) : sub));
    } else if (SCHEMA_VALUES.includes(key) && isRecord(value)) {
      out[key] = trimJsonSchema(value, false);
    } else {
      out[key] = value;
    }
  }
  return withoutNull(out);
}

/**
 * `anyOf: [X, {type: "null"}]` and `type: [T, "null"]` become X and T: an absent field already means
 * "no value", and a client mapping schemas onto a single-type dialect rejects the union.
 */
function withoutNull(schema: JsonSchema): JsonSchema {
  const { anyOf, type } = schema;
  if (Array.isArray(anyOf)) {
    const rest = anyOf.filter(branch => !(isRecord(branch) && branch.type === 'null'));
    if (rest.length === 1 && isRecord(rest[0])) {
      const { anyOf: _dropped, ...others } = schema;
      return { ...rest[0], ...others };
    }
  }
  if (Array.isArray(type)) {
    const rest = type.filter(t => t !== 'null');
    if (rest.length === 1) return { ...schema, type: rest[0] };
  }
  return schema;
}

function isRecord(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmptySchema(value: unknown): boolean {
  return isRecord(value) && Object.keys(value).length === 0;
}

/** An empty list or string (or a switch that is off) as a default says what leaving the field out says. */
function isEmpty(value: unknown): boolean {
  return value === '' || (Array.isArray(value) && value.length === 0);
}

function isPlainString(value: unknown): boolean {
  return isRecord(value) && Object.keys(value).length === 1 && value.type === 'string';
}
