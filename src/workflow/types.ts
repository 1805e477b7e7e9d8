/**
 * The shapes of the workflow step protocol (docs/WORKFLOW_TOOLS.md): what one step carries, what a thread
 * remembers between steps, and what a workflow tool definition supplies to the shared engine.
 */
import type { ServerContext } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import type { Deadline } from '../resilience/deadline.js';
import type { FieldAlias } from '../toolkit/arguments.js';
import type { ThinkingMode } from '../toolkit/schema.js';
import type { ToolDeps } from '../toolkit/types.js';

export const CONFIDENCE_LEVELS = [
  'exploring',
  'low',
  'medium',
  'high',
  'very_high',
  'almost_certain',
  'certain',
] as const;
export type Confidence = (typeof CONFIDENCE_LEVELS)[number];

/** `{severity, description, …}`; anything else the agent adds is kept. */
export interface Issue {
  severity?: string;
  description?: string;
  [key: string]: unknown;
}

/** One step's protocol and common fields after validation; hidden fields get their defaults. */
export interface StepArgs {
  step: string;
  step_number: number;
  total_steps: number;
  next_step_required: boolean;
  findings: string;
  files_checked: string[];
  relevant_files: string[];
  relevant_context: string[];
  issues_found: Issue[];
  confidence: Confidence;
  hypothesis: string | undefined;
  backtrack_from_step: number | undefined;
  use_assistant_model: boolean;
  model: string | undefined;
  temperature: number | undefined;
  thinking_mode: ThinkingMode | undefined;
  use_websearch: boolean;
  continuation_id: string | undefined;
  images: string[];
}

/** A workflow tool's own input fields, as zod: the one declaration their types are read from. */
export type ToolFields = z.ZodRawShape;

/** The validated value of one of a tool's own fields, when it is set. */
export type FieldValue<F extends ToolFields, K extends keyof F> = Exclude<z.output<F[K]>, undefined>;

/** A tool's own fields of one step: those the agent set (or that have a default), never one set to undefined. */
export type Extras<F extends ToolFields> = { [K in keyof F]?: FieldValue<F, K> };

/** The names of a tool's own fields whose value is a list of paths (any name, to the engine, which knows no F). */
export type PathListField<F extends ToolFields> = string extends keyof F
  ? string
  : { [K in keyof F]: FieldValue<F, K> extends readonly string[] ? K : never }[keyof F] & string;

/** What the thread remembers of one step (JSON). `extras` holds the tool's own fields of that step. */
export interface StepRecord<F extends ToolFields = ToolFields> {
  step_number: number;
  step: string;
  findings: string;
  files_checked: string[];
  relevant_files: string[];
  relevant_context: string[];
  issues_found: Issue[];
  confidence: Confidence;
  hypothesis?: string;
  images: string[];
  extras: Extras<F>;
}

/** A workflow's memory, stored in its thread's state under `workflow:<tool>`: never on a tool object. */
export interface WorkflowState<F extends ToolFields = ToolFields> {
  version: 1;
  tool: string;
  /** The step text of step 1: the problem as the agent first stated it. */
  initial_request: string;
  /** Oldest first, one per step number. */
  steps: StepRecord<F>[];
  /** Tool-specific memory (consensus answers, precommit repository, …). */
  data: Record<string, unknown>;
}

/** Everything the steps so far add up to (derived from `steps`, never stored). */
export interface Consolidated {
  files_checked: string[];
  relevant_files: string[];
  relevant_context: string[];
  /** `Step N: …` */
  findings: string[];
  hypotheses: Array<{ step: number; hypothesis: string; confidence: Confidence }>;
  issues_found: Issue[];
  images: string[];
  confidence: Confidence;
}

/** What tool hooks see of the current call. */
export interface StepView<F extends ToolFields = ToolFields> {
  readonly args: StepArgs;
  readonly extras: Extras<F>;
  readonly state: WorkflowState<F>;
  readonly consolidated: Consolidated;
  /** The step is the last one (asked for, or ended early). */
  readonly final: boolean;
}

/** Status strings and key names per tool: each tool names its pauses and results in its own words. */
export interface StatusNames {
  inProgress: string;
  pause: string;
  /** Key set to true on a pause, e.g. investigation_required. */
  required: string;
  /** Key set to true on completion, and the status of a self-contained tool's completion. */
  complete: string;
  /** Key of the counts object, e.g. investigation_status. */
  statusKey: string;
  /** Key of the work summary, e.g. complete_investigation. */
  completeKey: string;
  /** Status when the agent was certain and the expert was skipped. */
  certain: string;
  /** expert_analysis.status in that case. */
  skipped: string;
  /** EXAI's names for the same keys where they differ from ours: sent alongside, for agents that read those. */
  exai?: {
    required?: string;
    statusKey?: string;
    complete?: string;
    completeKey?: string;
  };
}

export interface ExpertSpec<F extends ToolFields = ToolFields> {
  /** The expert's role, what it must check, and the JSON it must answer with. */
  systemPrompt: string;
  /** Heading of the problem statement in the expert prompt, e.g. "ISSUE DESCRIPTION". */
  requestTitle: string;
  /** Prompt sections from the tool's own fields (analysis type, review focus, the git diff, …). */
  sections?(view: StepView<F>, context: { deps: ToolDeps; budget: Deadline }): string[] | Promise<string[]>;
  /** Files to send besides relevant_files (style examples). */
  extraFiles?(view: StepView<F>): string[];
  /** When the call gives no thinking_mode (else EXPERT_ANALYSIS_THINKING_MODE). */
  thinkingMode?: ThinkingMode;
  /** Whether there is something to analyse; default: relevant files, two findings, or an issue. */
  worthCalling?(consolidated: Consolidated): boolean;
  /** analyze always asks the expert; the others skip it when the agent is certain. Default true. */
  skipWhenCertain?: boolean;
  /** Added as important_considerations after the expert answered. */
  guidance: string;
}

/** What a tool's onStep hook may add to the engine's handling of a step. */
export interface StepOutcome {
  /** Merged into the response last (may override status). */
  fields?: Record<string, unknown>;
  /** Turns a final step into a pause, with this as the reason (docgen with files left). */
  continueReason?: string;
  /** Replaces the tool-specific memory of the workflow. */
  data?: Record<string, unknown>;
}

export interface OnStepContext<F extends ToolFields = ToolFields> {
  readonly deps: ToolDeps;
  readonly ctx: ServerContext;
  readonly view: StepView<F>;
  readonly threadId: string;
  /** The workflow call's deadline: model calls made by the step are its children; its signal ends git and file reads. */
  readonly budget: Deadline;
}

/** Fields of the common set a tool may leave out of its schema. */
export type OptionalField =
  | 'files_checked'
  | 'relevant_files'
  | 'relevant_context'
  | 'issues_found'
  | 'confidence'
  | 'hypothesis'
  | 'backtrack_from_step'
  | 'use_assistant_model'
  | 'model'
  | 'temperature'
  | 'thinking_mode'
  | 'use_websearch'
  | 'images';

/**
 * What every workflow tool defines, typed by its own fields F. Hooks are methods, which TypeScript checks
 * bivariantly: that is what lets the engine hold tools of different fields as one `WorkflowTool`.
 */
interface ToolDefinition<F extends ToolFields> {
  readonly name: string;
  readonly title: string;
  /** What an agent reads in tools/list. */
  readonly description: string;
  /** The tool's own input fields. */
  readonly fields: F;
  /** Common fields this tool does not take. */
  readonly hide?: readonly OptionalField[];
  /** pal/EXAI field names accepted without being listed: mapped onto ours, or named as having no effect. */
  readonly aliases?: Readonly<Record<string, FieldAlias>>;
  /** pal/EXAI values of our enum fields, and ours for each. */
  readonly valueAliases?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Own fields required at step 1. */
  readonly requiredAtStep1?: readonly NoInfer<keyof F & string>[];
  /** next_call's placeholders, for a tool whose steps are not an investigation (default: step and findings). */
  readonly nextCallPlaceholders?: { step: string; findings?: string };
  /** Own fields holding paths the expert reads: checked against the file policy at the step that names them. */
  readonly fileFields?: readonly NoInfer<PathListField<F>>[];
  /** findings may be left out (planner: the step is the plan). */
  readonly findingsOptional?: boolean;
  readonly names: StatusNames;
  readonly defaultTemperature: number;
  /** What the agent must do before the next step. */
  requiredActions(view: StepView<F>): string[];
  /** next_steps of a pause; the default tells the agent to do the actions first. */
  pauseMessage?(view: StepView<F>, actions: readonly string[]): string;
  /** next_steps when the work is complete (expert or not). */
  readonly completionMessage: string;
  /** Runs after the step is recorded: tool work (git, consulting models) and response additions. */
  onStep?(context: OnStepContext<F>): Promise<StepOutcome | undefined> | StepOutcome | undefined;
}

/** A tool whose final step asks an expert model for a second opinion. */
export interface ExpertTool<F extends ToolFields = ToolFields> extends ToolDefinition<F> {
  readonly expert: ExpertSpec<F>;
  /** next_steps when the expert was skipped because the agent was certain. */
  readonly certainMessage?: string;
}

/** A tool that never calls an expert (planner, tracer, docgen, consensus): nothing is skipped when certain. */
export interface LocalTool<F extends ToolFields = ToolFields> extends ToolDefinition<F> {
  readonly expert?: undefined;
  readonly certainMessage?: undefined;
}

export type WorkflowTool<F extends ToolFields = ToolFields> = ExpertTool<F> | LocalTool<F>;

/**
 * A workflow tool, its own fields' types inferred from their zod declaration: hooks read `view.extras`,
 * `latestExtra` and `settingOf` by field name with the field's type, and a misspelt name does not compile.
 */
export function defineWorkflowTool<F extends ToolFields>(tool: WorkflowTool<F>): WorkflowTool<F> {
  return tool;
}
