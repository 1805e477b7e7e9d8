/**
 * The one schema builder of the workflow tools: the step protocol's fields with the names, types and
 * defaults of the Python EX-AI MCP server (https://github.com/Zazzles2908/EX-AI-MCP-Server), so agents prompted
 * against it keep working; the common model fields; and each tool's own fields. The cross-field rules live
 * here too, so a wrong call fails before any work with a message saying what to fix.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import type { ArgumentRules } from '../toolkit/arguments.js';
import {
  imagesField,
  modelField,
  temperatureField,
  thinkingModeField,
  webSearchField,
} from '../toolkit/schema.js';
import { CONFIDENCE_LEVELS, type OptionalField, type StepArgs, type WorkflowTool } from './types.js';

const MAX_FINDINGS = 50_000;
const MAX_HYPOTHESIS = 10_000;
const MAX_PATHS = 1_000;

const absolutePaths = (what?: string) => {
  const paths = z
    .array(
      z.string().refine(p => isAbsolute(p), {
        error: issue =>
          `"${String(issue.input)}" is not an absolute path: give full paths starting at the root`,
      }),
    )
    .max(MAX_PATHS, `at most ${MAX_PATHS} paths`)
    .default([]);
  return what === undefined ? paths : paths.describe(what);
};

const SEVERITIES = ['critical', 'high', 'medium', 'low'];

/**
 * `{severity, description, …}`. Advertised as a plain object (the instructions give its shape once). pal and
 * EXAI took any object, so any severity string is kept: ours in lower case (`CRITICAL` → `critical`), others
 * (`info`, `blocker`) as given, rather than refusing the whole step over one label.
 */
const issue = z
  .record(z.string(), z.unknown())
  .superRefine((value, ctx) => {
    const { severity, description } = value;
    if (severity !== undefined && typeof severity !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['severity'], message: 'severity must be a string' });
    }
    if (description !== undefined && typeof description !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['description'], message: 'description must be a string' });
    }
  })
  .transform(value => {
    const severity = typeof value.severity === 'string' ? value.severity.trim().toLowerCase() : undefined;
    return severity !== undefined && SEVERITIES.includes(severity) ? { ...value, severity } : value;
  });

const COMMON_FIELDS = {
  files_checked: absolutePaths('Absolute paths of every file examined.'),
  relevant_files: absolutePaths(),
  relevant_context: z.array(z.string()).default([]).describe('Functions or classes involved.'),
  issues_found: z.array(issue).default([]),
  confidence: z
    .enum(CONFIDENCE_LEVELS, {
      error: `confidence must be one of ${CONFIDENCE_LEVELS.join(', ')}`,
    })
    .optional(), // low when left out (splitArgs)
  hypothesis: z
    .string()
    .max(
      MAX_HYPOTHESIS,
      `hypothesis is limited to ${MAX_HYPOTHESIS} characters: keep the theory, move evidence to findings`,
    )
    .optional(),
  backtrack_from_step: z
    .number({ error: 'backtrack_from_step must be a whole number ≥ 1' })
    .int('backtrack_from_step must be a whole number ≥ 1')
    .min(1, 'backtrack_from_step must be a whole number ≥ 1')
    .optional()
    .describe('Discard the steps from this one on.'),
  use_assistant_model: z.boolean().default(true).describe('false: finish without the expert model.'),
  // Described once, in the server instructions and on chat; the same sentence in every workflow is noise.
  model: modelField.describe(''),
  temperature: temperatureField,
  thinking_mode: thinkingModeField,
  use_websearch: webSearchField,
  images: imagesField,
} satisfies Record<OptionalField, z.ZodType>;

/**
 * The step protocol's fields carry no descriptions: the server instructions explain the protocol once, every
 * answer carries a next_call template, and twelve copies of the same sentences would cost more context than
 * the tools' own fields.
 *
 * Step fields every workflow tool accepts but does not list in its schema: bookkeeping and tuning an agent
 * rarely needs. Listing them in all twelve schemas would cost more context than the rest of the protocol;
 * the server instructions name them once. They are still validated like the listed ones.
 */
export const UNLISTED_FIELDS: readonly OptionalField[] = [
  'files_checked',
  'relevant_context',
  'backtrack_from_step',
  'use_assistant_model',
  'temperature',
  'thinking_mode',
  'use_websearch',
  'images',
];

const wholeNumber = (name: string) =>
  z
    .number({ error: `${name} must be a whole number ≥ 1` })
    .int(`${name} must be a whole number ≥ 1`)
    .min(1, `${name} must be a whole number ≥ 1`);

export function stepSchema(tool: WorkflowTool) {
  const hidden = new Set<string>(tool.hide ?? []);
  const common = Object.fromEntries(Object.entries(COMMON_FIELDS).filter(([name]) => !hidden.has(name)));
  const findings = z
    .string({ error: 'findings must be a string' })
    .max(MAX_FINDINGS, `findings is limited to ${MAX_FINDINGS} characters: put long evidence in files`);
  return z
    .object({
      step: z.string({ error: 'step must be a string' }),
      step_number: wholeNumber('step_number'),
      total_steps: wholeNumber('total_steps'),
      next_step_required: z.boolean({ error: 'next_step_required must be true or false' }),
      findings: tool.findingsOptional ? findings.default('') : findings,
      ...common,
      continuation_id: z.string().optional(),
      ...tool.fields,
    })
    .superRefine((value, ctx) => {
      const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
      if (value.step.trim() === '') fail('step', 'step must not be empty: say what this step investigates');
      if (!tool.findingsOptional && value.findings.trim() === '') {
        fail('findings', 'findings must not be empty: report what this step found (or "nothing yet")');
      }
      if (value.step_number > value.total_steps) {
        fail(
          'total_steps',
          `step_number ${value.step_number} is beyond total_steps ${value.total_steps}: raise total_steps to at least ${value.step_number}`,
        );
      }
      const backtrack = (value as { backtrack_from_step?: number }).backtrack_from_step;
      if (backtrack !== undefined && backtrack >= value.step_number) {
        fail(
          'backtrack_from_step',
          `backtrack_from_step ${backtrack} must be below step_number ${value.step_number}: it names the first step to discard`,
        );
      }
      if (value.continuation_id !== undefined && value.continuation_id.trim() === '') {
        fail(
          'continuation_id',
          'continuation_id must not be empty: pass the one from the step 1 answer, or leave it out at step 1',
        );
      } else if (value.step_number > 1 && value.continuation_id === undefined) {
        fail(
          'continuation_id',
          `step_number ${value.step_number} continues a workflow: pass the continuation_id from the step 1 response, or start again with step_number 1`,
        );
      }
      const extras = value as Record<string, unknown>;
      if (value.step_number === 1) {
        for (const name of tool.requiredAtStep1 ?? []) {
          if (extras[name] === undefined) fail(name, `${name} is required at step 1 of ${tool.name}`);
        }
      }
    });
}

/** The fields a tool takes, its aliases, and the common fields it leaves out (named as unused if sent). */
export function argumentRules(tool: WorkflowTool): ArgumentRules {
  const hidden = new Set<string>(tool.hide ?? []);
  const common = Object.keys(COMMON_FIELDS);
  return {
    known: [
      ...PROTOCOL_FIELDS,
      ...common.filter(name => !hidden.has(name)),
      'continuation_id',
      ...Object.keys(tool.fields),
    ],
    ...(tool.aliases && { aliases: tool.aliases }),
    ...(tool.valueAliases && { valueAliases: tool.valueAliases }),
    elsewhere: common.filter(name => hidden.has(name)),
  };
}

const PROTOCOL_FIELDS = ['step', 'step_number', 'total_steps', 'next_step_required', 'findings'];

/** Splits a validated call into the protocol fields (hidden ones at their defaults) and the tool's own. */
export function splitArgs(
  tool: WorkflowTool,
  parsed: Record<string, unknown>,
): { args: StepArgs; extras: Record<string, unknown> } {
  const extras: Record<string, unknown> = {};
  for (const name of Object.keys(tool.fields)) {
    if (parsed[name] !== undefined) extras[name] = parsed[name];
  }
  const p = parsed as Partial<StepArgs>;
  const args: StepArgs = {
    step: p.step ?? '',
    step_number: p.step_number ?? 1,
    total_steps: p.total_steps ?? 1,
    next_step_required: p.next_step_required ?? false,
    findings: p.findings ?? '',
    files_checked: p.files_checked ?? [],
    relevant_files: p.relevant_files ?? [],
    relevant_context: p.relevant_context ?? [],
    issues_found: p.issues_found ?? [],
    confidence: p.confidence ?? 'low',
    hypothesis: p.hypothesis,
    backtrack_from_step: p.backtrack_from_step,
    use_assistant_model: tool.expert !== undefined && (p.use_assistant_model ?? true),
    model: p.model,
    temperature: p.temperature,
    thinking_mode: p.thinking_mode,
    use_websearch: p.use_websearch ?? false,
    continuation_id: p.continuation_id?.trim(),
    images: p.images ?? [],
  };
  return { args, extras };
}
