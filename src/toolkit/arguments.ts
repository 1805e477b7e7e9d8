/**
 * Reading a tool call's arguments the way agents prompted for pal (zen) and EXAI send them
 * (https://github.com/BeehiveInnovations/pal-mcp-server, https://github.com/Zazzles2908/EX-AI-MCP-Server). Those servers
 * named some fields differently (`absolute_file_paths` for `files`), took fields we do without, and an agent
 * mistypes names. Dropping such a field without a word loses the agent's work silently, so: a known alias is
 * mapped onto our field, a field we accept but have no use for is named with the reason, and any other
 * unknown field is named in the answer's `metadata.ignored_fields`, with the closest real name when one is
 * near. Validation happens here too, so a wrong call is answered in the tool's own JSON shape
 * (`{"status": "<tool>_failed", "error": …}`) rather than the SDK's plain text, which agents that parse
 * `status` cannot read.
 */
import type { CallToolResult, StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import type { z } from 'zod';

/** A field name an agent may send that is not one of ours. */
export interface FieldAlias {
  /** Our fields it stands for, from its value; an empty object means it changes nothing. */
  map?: (value: unknown) => Record<string, unknown>;
  /** Why it is accepted but has no effect here; said in metadata.ignored_fields. */
  ignored?: string;
}

export interface ArgumentRules {
  /** Every field the tool takes, listed in its schema or not. */
  readonly known: readonly string[];
  readonly aliases?: Readonly<Record<string, FieldAlias>>;
  /** Values another server used for one of our enum fields, and ours for each (refactor's confidence). */
  readonly valueAliases?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Fields other tools of this server take: sent here they are named as "not used by <tool>". */
  readonly elsewhere?: readonly string[];
}

/** What became of the fields that are not ours. */
export interface ArgumentNotes {
  /** alias → the field(s) it was mapped onto. */
  mapped: Record<string, string>;
  /** `name (why)` for each field that had no effect. */
  ignored: string[];
}

export function hasNotes(notes: ArgumentNotes): boolean {
  return notes.ignored.length > 0 || Object.keys(notes.mapped).length > 0;
}

/** The raw arguments with aliases mapped and unknown fields removed, and what was done. */
export function prepareArguments(
  tool: string,
  raw: Record<string, unknown>,
  rules: ArgumentRules,
): { args: Record<string, unknown>; notes: ArgumentNotes } {
  const known = new Set(rules.known);
  const args: Record<string, unknown> = {};
  const notes: ArgumentNotes = { mapped: {}, ignored: [] };
  const mappedValues: Array<[string, Record<string, unknown>]> = [];
  for (const [name, value] of Object.entries(raw)) {
    if (known.has(name)) {
      // pal and EXAI read null as "not given" (Pydantic's Optional); so do we, rather than refuse the call.
      if (value !== null) args[name] = value;
      continue;
    }
    const alias = rules.aliases?.[name];
    if (alias) {
      const fields = alias.map?.(value) ?? {};
      if (Object.keys(fields).length > 0) {
        mappedValues.push([name, fields]);
        notes.mapped[name] = Object.keys(fields).join(', ');
      } else {
        notes.ignored.push(`${name} (${alias.ignored ?? `accepted; it changes nothing in ${tool}`})`);
      }
      continue;
    }
    if (rules.elsewhere?.includes(name)) {
      notes.ignored.push(`${name} (not used by ${tool})`);
      continue;
    }
    const near = closest(name, rules.known);
    notes.ignored.push(near ? `${name} (did you mean ${near}?)` : `${name} (not a field of ${tool})`);
  }
  // Our own field wins over an alias of it; two lists are merged.
  for (const [, fields] of mappedValues) {
    for (const [name, value] of Object.entries(fields)) {
      const current = args[name];
      if (current === undefined) args[name] = value;
      else if (Array.isArray(current) && Array.isArray(value))
        args[name] = [...new Set([...current, ...value])];
    }
  }
  for (const [field, values] of Object.entries(rules.valueAliases ?? {})) {
    const value = args[field];
    if (typeof value === 'string' && Object.hasOwn(values, value)) args[field] = values[value];
  }
  return { args, notes };
}

/**
 * The nearest known name, when it is near enough to be a slip: one contains the other (`file` / `files`,
 * `continuation` / `continuation_id`) or they differ by at most a third of the name's letters.
 */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; score: number } | undefined;
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    const contained = lower.length >= 3 && (other.includes(lower) || lower.includes(other));
    const distance = editDistance(lower, other);
    const score = contained ? Math.abs(other.length - lower.length) / 100 : distance;
    const near = contained || distance <= Math.max(1, Math.floor(lower.length / 3));
    if (near && (!best || score < best.score)) best = { name: candidate, score };
  }
  return best?.name;
}

/** Edits between two names, a swap of neighbouring letters counting as one (`flies` → `files`). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The arguments prepared and validated, or the `<tool>_failed` answer to give instead. */
export function readArguments<S extends z.ZodType>(
  tool: string,
  schema: S,
  raw: Record<string, unknown>,
  rules: ArgumentRules,
): { value: z.output<S>; notes: ArgumentNotes } | { failed: CallToolResult } {
  const { args, notes } = prepareArguments(tool, raw, rules);
  const parsed = schema.safeParse(args);
  return parsed.success
    ? { value: parsed.data, notes }
    : { failed: failedResult(tool, issuesText(parsed.error)) };
}

/** zod's issues as one line an agent can act on: `path: message; path: message`. */
export function issuesText(error: z.ZodError): string {
  return error.issues
    .map(issue => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/**
 * The advertised schema with validation left to the handler: any object passes to it, so a wrong field
 * reaches {@link prepareArguments} and the tool's own error shape instead of the SDK's plain-text refusal.
 */
export function deferredSchema<T>(
  advertised: StandardSchemaWithJSON<T, T>,
): StandardSchemaWithJSON<Record<string, unknown>, Record<string, unknown>> {
  const std = advertised['~standard'];
  return {
    '~standard': {
      version: 1,
      vendor: std.vendor,
      validate: (value: unknown) =>
        typeof value === 'object' && value !== null && !Array.isArray(value)
          ? { value: value as Record<string, unknown> }
          : { issues: [{ message: 'arguments must be a JSON object' }] },
      jsonSchema: std.jsonSchema,
    },
  } as StandardSchemaWithJSON<Record<string, unknown>, Record<string, unknown>>;
}

/** The `<tool>_failed` answer of a call whose arguments did not validate. */
export function failedResult(
  tool: string,
  error: string,
  extra: Record<string, unknown> = {},
): CallToolResult {
  const body = {
    status: `${tool}_failed`,
    error,
    // content repeats error so readers of our ToolOutput shape find the message where they always do.
    content: error,
    content_type: 'text',
    ...extra,
    metadata: { tool_name: tool, error_kind: 'bad_request' },
  };
  const text = JSON.stringify(body);
  return {
    content: [{ type: 'text', text }],
    structuredContent: JSON.parse(text) as Record<string, unknown>,
    isError: true,
  };
}

/** The result with metadata.mapped_fields / metadata.ignored_fields added, text and structuredContent alike. */
export function withNotes(result: CallToolResult, notes: ArgumentNotes): CallToolResult {
  const structured = result.structuredContent as Record<string, unknown> | undefined;
  const first = result.content[0];
  if (!hasNotes(notes) || !structured || first?.type !== 'text') return result;
  const metadata = (structured.metadata as Record<string, unknown> | undefined) ?? {};
  const body = {
    ...structured,
    metadata: {
      ...metadata,
      ...(Object.keys(notes.mapped).length > 0 && { mapped_fields: notes.mapped }),
      ...(notes.ignored.length > 0 && { ignored_fields: notes.ignored }),
    },
  };
  const text = JSON.stringify(body);
  return {
    ...result,
    content: [{ type: 'text', text }, ...result.content.slice(1)],
    structuredContent: JSON.parse(text) as Record<string, unknown>,
  };
}
