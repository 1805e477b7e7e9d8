/**
 * The final step: skip the expert when the agent is certain, call it when asked
 * and there is something to analyse, or finish locally; then promote what the expert said that the agent
 * must act on (files it needs, a failure) to the top-level status.
 */
import type { ServerContext } from '@modelcontextprotocol/server';
import { tokenBudget } from '../memory/index.js';
import type { ChatMessage } from '../providers/types.js';
import type { Deadline } from '../resilience/deadline.js';
import type { ToolDeps } from '../toolkit/types.js';
import { callExpert, type ExpertModel, type ExpertOutcome } from './expert.js';
import { FAILED_STATUSES, filesNeeded, PROMOTED_STATUSES, statusOf } from './expert-result.js';
import { embeddedContext, embedFiles } from './files.js';
import { expertSystemPrompt, expertUserContent } from './prompt.js';
import { type WorkflowResponse, workSummary } from './response.js';
import type { Consolidated, ExpertTool, StepView, WorkflowTool } from './types.js';

export interface CompletionInput {
  deps: ToolDeps;
  ctx: ServerContext;
  tool: WorkflowTool;
  view: StepView;
  threadId: string;
  workflow: Deadline;
  base: WorkflowResponse;
  model: ExpertModel | undefined;
}

export interface Completion {
  response: WorkflowResponse;
  isError: boolean;
  /** Set when the expert answered. */
  outcome?: ExpertOutcome;
}

/** Reference: relevant files, at least two findings, or an issue. */
function worthCallingByDefault(c: Consolidated): boolean {
  return c.relevant_files.length > 0 || c.findings.length >= 2 || c.issues_found.length > 0;
}

export async function complete(input: CompletionInput): Promise<Completion> {
  const { tool, view } = input;
  const { names } = tool;
  const summary = workSummary(view);
  const done: WorkflowResponse = {
    ...input.base,
    [names.complete]: true,
    [names.completeKey]: summary,
    ...(names.exai?.complete && { [names.exai.complete]: true }),
    ...(names.exai?.completeKey && { [names.exai.completeKey]: summary }),
  };
  if (tool.expert === undefined) {
    return {
      response: { ...done, status: names.complete, next_steps: tool.completionMessage },
      isError: false,
    };
  }
  const { expert } = tool;
  if ((expert.skipWhenCertain ?? true) && view.args.confidence === 'certain') {
    const reason =
      'The agent reported certain confidence: the conclusion is confirmed locally, so no expert was asked.';
    return {
      response: {
        ...done,
        status: names.certain,
        skip_expert_analysis: true,
        expert_analysis: { status: names.skipped, reason },
        next_steps:
          `${tool.certainMessage ?? tool.completionMessage}\n\nNo second opinion was given: confidence was ` +
          'certain. For one, send this final step again with a lower confidence.',
      },
      isError: false,
    };
  }
  const worth = (expert.worthCalling ?? worthCallingByDefault)(view.consolidated);
  if (!input.model || !view.args.use_assistant_model || !worth) {
    const asked = view.args.use_assistant_model;
    return {
      response: {
        ...done,
        status: 'local_work_complete',
        expert_analysis: {
          status: asked ? 'skipped_insufficient_findings' : 'skipped_by_user_request',
          reason: asked
            ? 'Nothing to analyse yet: no relevant files, fewer than two findings and no issues.'
            : 'use_assistant_model was false.',
        },
        next_steps: `Local ${tool.name} work is complete. ${tool.completionMessage}\n\n${noSecondOpinion(asked)}`,
        next_call: resend(tool, view, input.threadId),
      },
      isError: false,
    };
  }
  return consultExpert(input, tool, input.model, done);
}

/** Said plainly, so an agent does not present local findings as reviewed. */
function noSecondOpinion(asked: boolean): string {
  return asked
    ? 'No second opinion was given: the expert had nothing to review. For one, list the files that matter in ' +
        'relevant_files (absolute paths) or add findings or issues_found, and send this final step again (next_call).'
    : 'No second opinion was given: use_assistant_model was false. For one, send this final step again ' +
        '(next_call) with use_assistant_model true.';
}

async function consultExpert(
  input: CompletionInput,
  tool: ExpertTool,
  model: ExpertModel,
  done: WorkflowResponse,
): Promise<Completion> {
  const { deps, view } = input;
  const { expert } = tool;
  const paths = [...new Set([...view.consolidated.relevant_files, ...(expert.extraFiles?.(view) ?? [])])];
  const files = await embedFiles(deps.files, paths, tokenBudget(model.spec.contextWindow).files, {
    maxFiles: deps.config.maxRequestFiles,
    maxBytes: deps.config.maxRequestFileBytes,
    signal: input.workflow.signal,
  });
  const sections = (await expert.sections?.(view, { deps, budget: input.workflow })) ?? [];
  let images: string[] = [];
  if (model.spec.vision && view.consolidated.images.length > 0) {
    try {
      images = await deps.files.loadImages(view.consolidated.images, input.workflow.signal);
    } catch (error) {
      deps.logger.warn(
        { event: 'images_withheld', tool: tool.name, err: error },
        'images not sent to the expert',
      );
    }
  }
  const messages: ChatMessage[] = [
    { role: 'system', content: expertSystemPrompt(expert.systemPrompt) },
    {
      role: 'user',
      content: expertUserContent({
        view,
        requestTitle: expert.requestTitle,
        toolSections: sections,
        files,
        images,
        imagesWithheld: view.consolidated.images.length - images.length,
      }),
    },
  ];
  const outcome = await callExpert({
    deps,
    ctx: input.ctx,
    tool: tool.name,
    threadId: input.threadId,
    workflow: input.workflow,
    model,
    messages,
    temperature: view.args.temperature ?? tool.defaultTemperature,
    webSearch: view.args.use_websearch,
  });
  const response: WorkflowResponse = {
    ...done,
    status: 'calling_expert_analysis',
    file_context: embeddedContext(files),
  };
  return { ...promote(tool, view, input.threadId, response, outcome), outcome };
}

function promote(
  tool: ExpertTool,
  view: StepView,
  threadId: string,
  response: WorkflowResponse,
  outcome: ExpertOutcome,
): Completion {
  const { analysis } = outcome;
  const status = statusOf(analysis);
  if (status !== undefined && FAILED_STATUSES.has(status)) {
    return {
      response: {
        ...response,
        status: 'error',
        content: String(analysis.error ?? 'Expert analysis failed.'),
        content_type: 'text',
        expert_analysis_status: status,
        ...(analysis.timeout_duration !== undefined && { timeout_duration: analysis.timeout_duration }),
        next_steps:
          `Your steps are recorded under continuation_id ${threadId}. Send this final step again (next_call) ` +
          'to ask the expert once more, or with use_assistant_model: false to finish on your own findings.',
        next_call: resend(tool, view, threadId),
      },
      isError: true,
    };
  }
  if (status !== undefined && PROMOTED_STATUSES.has(status)) {
    const needed = filesNeeded(analysis);
    const instructions =
      typeof analysis.mandatory_instructions === 'string' ? analysis.mandatory_instructions : '';
    return {
      response: {
        ...response,
        status,
        content: JSON.stringify(analysis),
        content_type: 'json',
        ...(needed.length > 0 && { files_needed: needed }),
        ...(instructions && { mandatory_instructions: instructions }),
        next_steps:
          status === 'files_required_to_continue'
            ? `The expert needs more context before it can finish${instructions ? `: ${instructions}` : '.'} Find ` +
              'those files, add them to relevant_files (absolute paths), and send this final step again (next_call).'
            : String(
                analysis.next_steps ??
                  'Continue based on the expert analysis, then send the final step again.',
              ),
        next_call: resend(tool, view, threadId),
      },
      isError: false,
    };
  }
  const { guidance } = tool.expert;
  return {
    response: {
      ...response,
      expert_analysis: analysis,
      next_steps: `${tool.completionMessage}\n\n${guidance}`.trim(),
      ...(guidance && { important_considerations: guidance }),
    },
    isError: false,
  };
}

/** The final step as it was sent, to send again. */
function resend(tool: WorkflowTool, view: StepView, threadId: string): Record<string, unknown> {
  const { args } = view;
  return {
    tool: tool.name,
    arguments: {
      step: args.step,
      step_number: args.step_number,
      total_steps: args.total_steps,
      next_step_required: false,
      findings: args.findings,
      relevant_files: view.consolidated.relevant_files,
      continuation_id: threadId,
    },
  };
}
