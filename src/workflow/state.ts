/**
 * The pure state transitions of a workflow: recording a step, backtracking,
 * consolidating the findings, and the agentic early-termination rule. The store applies `recordStep`
 * inside its atomic update, so two calls on one thread cannot lose each other's steps.
 */
import type {
  Consolidated,
  Extras,
  FieldValue,
  StepArgs,
  StepRecord,
  ToolFields,
  WorkflowState,
} from './types.js';

export const stateKey = (tool: string): string => `workflow:${tool}`;

export function emptyState(tool: string, initialRequest: string): WorkflowState {
  return { version: 1, tool, initial_request: initialRequest, steps: [], data: {} };
}

/** The thread's state for this tool, if it holds a well-formed one. */
export function readState(state: Record<string, unknown>, tool: string): WorkflowState | undefined {
  const value = state[stateKey(tool)] as Partial<WorkflowState> | undefined;
  if (value?.version !== 1 || !Array.isArray(value.steps)) return undefined;
  return { ...emptyState(tool, ''), ...value } as WorkflowState;
}

export function toRecord<F extends ToolFields>(args: StepArgs, extras: Extras<F>): StepRecord<F> {
  return {
    step_number: args.step_number,
    step: args.step,
    findings: args.findings,
    files_checked: args.files_checked,
    relevant_files: args.relevant_files,
    relevant_context: args.relevant_context,
    issues_found: args.issues_found,
    confidence: args.confidence,
    ...(args.hypothesis !== undefined && { hypothesis: args.hypothesis }),
    images: args.images,
    extras,
  };
}

/**
 * Step 1 starts the workflow afresh (a new problem, even on an old thread). A backtrack drops the steps
 * from that number on. Sending a step number again replaces that step, so a client that retries a step
 * after its own timeout does not count the step twice.
 */
export function recordStep(
  previous: WorkflowState | undefined,
  tool: string,
  record: StepRecord,
  backtrackFrom: number | undefined,
): WorkflowState {
  const base = record.step_number === 1 || !previous ? emptyState(tool, record.step) : previous;
  const cut = backtrackFrom ?? Number.POSITIVE_INFINITY;
  const kept = base.steps.filter(s => s.step_number < cut && s.step_number !== record.step_number);
  const steps = [...kept, record].sort((a, b) => a.step_number - b.step_number);
  return { ...base, steps };
}

function union(lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())];
}

export function consolidate(steps: readonly StepRecord[]): Consolidated {
  const last = steps.at(-1);
  return {
    files_checked: union(steps.map(s => s.files_checked)),
    relevant_files: union(steps.map(s => s.relevant_files)),
    relevant_context: union(steps.map(s => s.relevant_context)),
    findings: steps.filter(s => s.findings.trim() !== '').map(s => `Step ${s.step_number}: ${s.findings}`),
    hypotheses: steps.flatMap(s =>
      s.hypothesis ? [{ step: s.step_number, hypothesis: s.hypothesis, confidence: s.confidence }] : [],
    ),
    issues_found: steps.flatMap(s => s.issues_found),
    images: union(steps.map(s => s.images)),
    confidence: last?.confidence ?? 'low',
  };
}

const SUFFICIENT = new Set(['certain', 'very_high', 'almost_certain']);

/**
 * Agentic early termination: from step 2, a step with high confidence, substantial findings and relevant
 * files may end the workflow before the planned last step. The step count was the agent's guess at step 1;
 * holding it to that guess once the answer is found only spends its context on steps that add nothing.
 */
export function earlyTermination(args: StepArgs): string | undefined {
  if (!args.next_step_required || args.step_number < 2) return undefined;
  const sufficient =
    SUFFICIENT.has(args.confidence) && args.findings.length > 100 && args.relevant_files.length > 0;
  if (!sufficient) return undefined;
  if (args.confidence === 'certain') {
    return 'Confidence is certain with substantial findings and relevant files: the goal is reached, so this is the final step.';
  }
  if (args.confidence === 'very_high' && args.step_number >= args.total_steps - 1) {
    return 'Confidence is very_high with substantial findings near the planned end: this is the final step.';
  }
  return undefined;
}

/** The latest value of one of the tool's own fields over the steps (step 1's path, a later compare_to, …). */
export function latestExtra<F extends ToolFields, K extends keyof F & string>(
  state: WorkflowState<F>,
  name: K,
): FieldValue<F, K> | undefined {
  for (let i = state.steps.length - 1; i >= 0; i--) {
    const value = state.steps[i]?.extras[name];
    if (value !== undefined) return value;
  }
  return undefined;
}
