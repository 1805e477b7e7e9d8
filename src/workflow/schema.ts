/**
 * The one schema builder of the workflow tools: the step protocol's fields (reference §2.3) with the
 * Python system's names, types and defaults, the common model fields, and each tool's own fields. The
 * cross-field rules live here too, so a wrong call fails before any work with a message saying what to fix.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import {
  continuationField,
  imagesField,
  modelField,
  temperatureField,
  thinkingModeField,
  webSearchField,
} from '../tools/schema.js';
import { CONFIDENCE_LEVELS, type OptionalField, type StepArgs, type WorkflowTool } from './types.js';

const MAX_FINDINGS = 50_000;
const MAX_HYPOTHESIS = 10_000;
const MAX_PATHS = 1_000;

const absolutePaths = (what: string) =>
  z
    .array(
      z.string().refine(p => isAbsolute(p), {
        error: issue =>
          `"${String(issue.input)}" is not an absolute path: give full paths starting at the root`,
      }),
    )
    .max(MAX_PATHS, `at most ${MAX_PATHS} paths`)
    .default([])
    .describe(what);

const COMMON_FIELDS = {
  files_checked: absolutePaths(
    'Every file examined so far in this step (absolute paths), including ones that turned out irrelevant.',
  ),
  relevant_files: absolutePaths(
    'The files that matter for the problem (absolute paths). Their contents are sent to the expert at the final step.',
  ),
  relevant_context: z
    .array(z.string())
    .default([])
    .describe('Names of the methods, functions or classes involved, e.g. "Cache.get" or "parse_header".'),
  issues_found: z
    .array(
      z.looseObject({
        severity: z.enum(['critical', 'high', 'medium', 'low']).optional(),
        description: z.string().optional(),
      }),
    )
    .default([])
    .describe(
      'Issues identified so far: objects like {"severity": "critical|high|medium|low", "description": "…"}.',
    ),
  confidence: z
    .enum(CONFIDENCE_LEVELS, {
      error: `confidence must be one of ${CONFIDENCE_LEVELS.join(', ')}`,
    })
    .default('low')
    .describe(
      'How sure you are: exploring (starting out), low (early idea), medium (some evidence), high (strong ' +
        'evidence), very_high, almost_certain (nearly confirmed), certain (confirmed locally: skips the expert; ' +
        'do not use it when the user asked for an external opinion).',
    ),
  hypothesis: z
    .string()
    .max(
      MAX_HYPOTHESIS,
      `hypothesis is limited to ${MAX_HYPOTHESIS} characters: keep the theory, move evidence to findings`,
    )
    .optional()
    .describe('Your current theory; its evolution over the steps is shown to the expert.'),
  backtrack_from_step: z
    .number({ error: 'backtrack_from_step must be a whole number ≥ 1' })
    .int('backtrack_from_step must be a whole number ≥ 1')
    .min(1, 'backtrack_from_step must be a whole number ≥ 1')
    .optional()
    .describe('Discard the steps from this number on and continue from there (must be below step_number).'),
  use_assistant_model: z
    .boolean()
    .default(true)
    .describe('false: never call the expert model; the workflow completes with your own findings.'),
  model: modelField,
  temperature: temperatureField,
  thinking_mode: thinkingModeField,
  use_websearch: webSearchField,
  images: imagesField,
} satisfies Record<OptionalField, z.ZodType>;

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
    .max(MAX_FINDINGS, `findings is limited to ${MAX_FINDINGS} characters: put long evidence in files`)
    .describe('What this step found: evidence, code paths, conclusions so far.');
  return z
    .object({
      step: z
        .string({ error: 'step must be a string' })
        .describe(
          'What you are investigating or doing in this step. At step 1: the problem or request in full.',
        ),
      step_number: wholeNumber('step_number').describe('1-based index of this step.'),
      total_steps: wholeNumber('total_steps').describe(
        'Your current estimate of the steps needed; raise it as needed.',
      ),
      next_step_required: z
        .boolean({ error: 'next_step_required must be true or false' })
        .describe('true: more steps follow (the tool pauses for your work). false: this is the final step.'),
      findings: tool.findingsOptional ? findings.default('') : findings,
      ...common,
      continuation_id: continuationField.describe(
        'The continuation_id from the step 1 response; required from step 2 on.',
      ),
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
      if (value.step_number > 1 && value.continuation_id === undefined) {
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
