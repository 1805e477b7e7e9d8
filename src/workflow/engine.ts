/**
 * The workflow engine: one step of any workflow tool, from validated arguments to the JSON answer
 * (reference §2.4). The whole call runs under WORKFLOW_TOOL_TIMEOUT_SECS; when it runs out the agent gets a
 * timeout answer at once, whatever is still winding down behind it. State is read from and written to the
 * thread named by continuation_id, never kept on the tool.
 */
import type { CallToolResult, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { secondsToMs } from '../config/load.js';
import { toExaiError } from '../errors.js';
import { Deadline } from '../resilience/deadline.js';
import { type SingleFlight, untilAborted } from '../resilience/single-flight.js';
import { leanSchema } from '../tools/json-schema.js';
import { adjustmentMetadata } from '../tools/model-choice.js';
import { oversizedPrompt } from '../tools/prompt-size.js';
import { runTool } from '../tools/run.js';
import type { ToolDeps } from '../tools/types.js';
import { usageMetadata } from '../tools/usage-metadata.js';
import { complete } from './completion.js';
import { type ExpertModel, type ExpertOutcome, expertModel } from './expert.js';
import { checkNamedFiles, referenceContext } from './files.js';
import { baseResponse, pauseResponse, type WorkflowResponse } from './response.js';
import { workflowResult } from './result.js';
import { splitArgs, stepSchema, UNLISTED_FIELDS } from './schema.js';
import { consolidate, earlyTermination } from './state.js';
import { appendStepTurn, openThread, saveData, saveStep } from './thread.js';
import type { StepArgs, StepView, WorkflowTool } from './types.js';

export interface WorkflowRuntime {
  readonly deps: ToolDeps;
  /** Shared by every server instance of the process, so duplicates join across sessions. */
  readonly flights: SingleFlight;
}

export function registerWorkflowTool(server: McpServer, runtime: WorkflowRuntime, tool: WorkflowTool): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: leanSchema(stepSchema(tool), { unlisted: UNLISTED_FIELDS }),
      annotations: {
        readOnlyHint: true,
        openWorldHint: tool.expert !== undefined || tool.name === 'consensus',
      },
    },
    (parsed, ctx) =>
      runTool(runtime.deps, tool.name, ctx, signal =>
        runStep(runtime, tool, parsed as Record<string, unknown>, ctx, signal),
      ),
  );
}

export async function runStep(
  runtime: WorkflowRuntime,
  tool: WorkflowTool,
  parsed: Record<string, unknown>,
  ctx: ServerContext,
  signal: AbortSignal,
): Promise<CallToolResult> {
  const { args, extras } = splitArgs(tool, parsed);
  const oversized = oversizedPrompt(
    tool.name,
    'step',
    args.step,
    'Keep the step short, put the details in a file and list it in relevant_files.',
  );
  if (oversized) return workflowResult(oversized, true);
  const early = tool.preflight?.(args, extras);
  if (early) return workflowResult({ ...early, metadata: { tool_name: tool.name } });

  const budgetMs = secondsToMs(runtime.deps.config.workflowTimeoutSecs);
  const workflow = Deadline.start(budgetMs, {
    parent: signal,
    label: `${tool.name} workflow call (WORKFLOW_TOOL_TIMEOUT_SECS)`,
  });
  try {
    return await untilAborted(step(runtime, tool, args, extras, ctx, workflow), workflow.signal);
  } catch (thrown) {
    const error = toExaiError(thrown);
    if (error.kind !== 'timeout' || signal.aborted) throw error;
    return workflowResult(
      {
        status: 'error',
        content:
          `${error.message}. The ${tool.name} step did not finish within its budget. Send the same step again ` +
          '(a resent step number replaces the earlier one), with fewer files or use_assistant_model: false if the ' +
          'expert is what takes long, or raise WORKFLOW_TOOL_TIMEOUT_SECS.',
        content_type: 'text',
        step_number: args.step_number,
        ...(args.continuation_id !== undefined && { continuation_id: args.continuation_id }),
        metadata: { tool_name: tool.name, error_kind: 'timeout', budget_ms: budgetMs },
      },
      true,
    );
  } finally {
    workflow.dispose();
  }
}

async function step(
  runtime: WorkflowRuntime,
  tool: WorkflowTool,
  args: StepArgs,
  extras: Record<string, unknown>,
  ctx: ServerContext,
  workflow: Deadline,
): Promise<CallToolResult> {
  const { deps } = runtime;
  // Resolved before any work, so an unknown or retired model fails the first step, not the last; a missing
  // key fails only the last step, the one that calls the expert.
  const model =
    tool.expert && args.use_assistant_model ? expertModel(deps, args, tool.expert.thinkingMode) : undefined;
  await checkNamedFiles(deps.files, namedFiles(tool, args, extras));
  const threadId = await openThread(deps, tool.name, args, extras);
  let state = await saveStep(deps, threadId, tool.name, args, extras);
  const earlyReason = earlyTermination(args);
  let view: StepView = {
    args,
    extras,
    state,
    consolidated: consolidate(state.steps),
    final: !args.next_step_required || earlyReason !== undefined,
  };
  const outcome = await tool.onStep?.({
    deps,
    ctx,
    view,
    threadId,
    signal: workflow.signal,
    budget: workflow,
  });
  if (outcome?.data) {
    await saveData(deps, threadId, tool.name, outcome.data);
    state = { ...state, data: outcome.data };
    view = { ...view, state };
  }
  const base = baseResponse(tool, view, threadId, earlyReason);
  let response: WorkflowResponse;
  let isError = false;
  let answered: { name: string; provider: string } | undefined;
  if (!view.final || outcome?.continueReason !== undefined) {
    response = pauseResponse(tool, { ...view, final: false }, base, threadId, outcome?.continueReason);
  } else {
    const done = await complete({
      deps,
      flights: runtime.flights,
      ctx,
      tool,
      view,
      threadId,
      workflow,
      base,
      model,
    });
    ({ response, isError } = done);
    const answer = done.outcome?.response;
    if (answer) answered = { name: answer.model, provider: answer.provider };
    response.metadata = expertMetadata(model, done.outcome);
  }
  // A tool that takes no files (planner) gets no advice about them.
  if (!tool.hide?.includes('relevant_files'))
    response.file_context ??= referenceContext(view.consolidated.relevant_files);
  response = {
    ...response,
    ...outcome?.fields,
    metadata: { tool_name: tool.name, ...(response.metadata as Record<string, unknown> | undefined) },
  };
  const warning = await appendStepTurn(deps, threadId, tool.name, args, response, answered);
  if (warning) response.memory_warning = warning;
  return workflowResult(response, isError);
}

/** The paths of this step that something will read: relevant files, image paths, the tool's own file fields. */
function namedFiles(
  tool: WorkflowTool,
  args: StepArgs,
  extras: Record<string, unknown>,
): Record<string, string[]> {
  const named: Record<string, string[]> = {
    relevant_files: args.relevant_files,
    images: args.images.filter(image => !image.startsWith('data:')),
  };
  for (const field of tool.fileFields ?? []) {
    const value = extras[field];
    if (Array.isArray(value)) named[field] = value.filter((v): v is string => typeof v === 'string');
  }
  return named;
}

/** Which model the expert call went to and how it went; nothing when no expert was called. */
function expertMetadata(
  model: ExpertModel | undefined,
  outcome: ExpertOutcome | undefined,
): Record<string, unknown> {
  if (!model || !outcome) return {};
  const answer = outcome.response;
  return {
    model_used: answer?.model ?? model.spec.name,
    provider_used: answer?.provider ?? model.spec.provider,
    thinking: model.thinking,
    ...(model.upgradedFrom && { model_upgraded_from: model.upgradedFrom }),
    expert_elapsed_ms: outcome.elapsedMs,
    ...(outcome.share && outcome.share !== 'started' && { expert_shared: outcome.share }),
    ...(answer && {
      attempts: answer.attempts,
      ...usageMetadata(answer),
    }),
    ...(answer?.fallbackFrom && { fallback_from: answer.fallbackFrom }),
    ...(answer && adjustmentMetadata(answer)),
  };
}
