/**
 * The response of one workflow call: the base with the tool's counts, the
 * pause that tells the agent what to do before the next step, and the `next_call` template. Pure: the
 * engine decides, these only shape.
 */
import type { StepView, WorkflowTool } from './types.js';

export type WorkflowResponse = Record<string, unknown>;

export function baseResponse(
  tool: WorkflowTool,
  view: StepView,
  continuationId: string,
  earlyReason: string | undefined,
): WorkflowResponse {
  const c = view.consolidated;
  const counts = {
    files_checked: c.files_checked.length,
    relevant_files: c.relevant_files.length,
    relevant_context: c.relevant_context.length,
    issues_found: c.issues_found.length,
    images_collected: c.images.length,
    current_confidence: view.args.confidence,
    ...(c.hypotheses.length > 0 && { hypotheses_formed: distinctHypotheses(c.hypotheses) }),
  };
  const exaiKey = tool.names.exai?.statusKey;
  return {
    status: tool.names.inProgress,
    step_number: view.args.step_number,
    total_steps: view.args.total_steps,
    next_step_required: !view.final,
    [tool.names.statusKey]: counts,
    ...(exaiKey && { [exaiKey]: counts }),
    continuation_id: continuationId,
    ...(earlyReason !== undefined && { early_termination: true, early_termination_reason: earlyReason }),
  };
}

/** A hypothesis restated in a later step (the usual case while confidence grows) is still one hypothesis. */
function distinctHypotheses(hypotheses: ReadonlyArray<{ hypothesis: string }>): number {
  return new Set(hypotheses.map(h => h.hypothesis.trim().replace(/\s+/g, ' ').toLowerCase())).size;
}

/** The template of the next call: the required fields, placeholders where the agent must write. */
export function nextCall(
  tool: WorkflowTool,
  view: StepView,
  continuationId: string,
  stepNumber: number,
): Record<string, unknown> {
  const total = Math.max(view.args.total_steps, stepNumber);
  const placeholders = tool.nextCallPlaceholders ?? {
    step: '<what you investigated in this step>',
    findings: '<what you found: evidence, file:line references>',
  };
  return {
    tool: tool.name,
    arguments: {
      step: placeholders.step,
      step_number: stepNumber,
      total_steps: total,
      next_step_required: stepNumber < total,
      ...(placeholders.findings !== undefined && { findings: placeholders.findings }),
      continuation_id: continuationId,
    },
  };
}

function defaultPauseMessage(tool: WorkflowTool, view: StepView, actions: readonly string[]): string {
  const next = view.args.step_number + 1;
  const list = actions.map((action, i) => `${i + 1}. ${action}`).join('\n');
  return (
    `MANDATORY: DO NOT call the ${tool.name} tool again immediately. You MUST first do this work yourself:\n` +
    `${list}\n\nOnly then call ${tool.name} with step_number: ${next}, reporting the files you examined and ` +
    'what you found (with file:line references) in findings. Set next_step_required to false on the final ' +
    'step; the expert analysis then runs once, with your findings and the relevant files.'
  );
}

export function pauseResponse(
  tool: WorkflowTool,
  view: StepView,
  base: WorkflowResponse,
  continuationId: string,
  reason?: string,
): WorkflowResponse {
  const actions = tool.requiredActions(view);
  const next = view.args.step_number + 1;
  const message = tool.pauseMessage?.(view, actions) ?? defaultPauseMessage(tool, view, actions);
  return {
    ...base,
    status: tool.names.pause,
    next_step_required: true,
    [tool.names.required]: true,
    ...(tool.names.exai?.required && { [tool.names.exai.required]: true }),
    required_actions: reason ? [reason, ...actions] : actions,
    next_steps: reason ? `${reason}\n\n${message}` : message,
    continuation_required: true,
    continuation_available: true,
    next_step_number: next,
    next_call: nextCall(tool, view, continuationId, next),
  };
}

/** `complete_<tool>`: what the workflow amounted to, for the agent's summary to the user. */
export function workSummary(view: StepView): Record<string, unknown> {
  const c = view.consolidated;
  const last = view.state.steps.at(-1);
  return {
    initial_request: view.state.initial_request,
    steps_taken: view.state.steps.length,
    files_examined: c.files_checked,
    relevant_files: c.relevant_files,
    relevant_context: c.relevant_context,
    issues_found: c.issues_found,
    work_summary: c.findings.join('\n'),
    final_analysis: last?.hypothesis ?? last?.findings ?? '',
    confidence_level: c.confidence,
  };
}
