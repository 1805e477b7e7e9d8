/**
 * The workflow engine: one step of any workflow tool, from the arguments as sent (aliases mapped, unknown
 * fields noted, then validated) to the JSON answer. The whole call runs under WORKFLOW_TOOL_TIMEOUT_SECS; when it runs out the agent gets a
 * timeout answer at once, whatever is still winding down behind it. State is read from and written to the
 * thread named by continuation_id, never kept on the tool.
 */
import type { CallToolResult, McpServer, ServerContext } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import { secondsToMs } from '../config/load.js';
import { toExaiError } from '../errors.js';
import { inProgressFields, isJobPending } from '../jobs/pending.js';
import { clientName } from '../jobs/soft-budget.js';
import { type Deadline, untilAborted } from '../resilience/deadline.js';
import {
  deferredSchema,
  failedResult,
  issuesText,
  prepareArguments,
  withNotes,
} from '../toolkit/arguments.js';
import { leanSchema } from '../toolkit/json-schema.js';
import { adjustmentMetadata } from '../toolkit/model-choice.js';
import { oversizedPrompt } from '../toolkit/prompt-size.js';
import { runTool } from '../toolkit/run.js';
import type { ToolDeps } from '../toolkit/types.js';
import { usageMetadata } from '../toolkit/usage-metadata.js';
import { complete } from './completion.js';
import { type ExpertModel, type ExpertOutcome, expertModel } from './expert.js';
import { checkNamedFiles, referenceContext } from './files.js';
import { baseResponse, pauseResponse, type WorkflowResponse } from './response.js';
import { workflowResult } from './result.js';
import { argumentRules, splitArgs, stepSchema, UNLISTED_FIELDS } from './schema.js';
import { consolidate, earlyTermination } from './state.js';
import { appendStepTurn, openThread, saveData, saveStep } from './thread.js';
import type { StepArgs, StepView, WorkflowTool } from './types.js';

export interface WorkflowRuntime {
  readonly deps: ToolDeps;
  /**
   * The latest thread of each tool on this server instance (one client: a stdio connection or an HTTP
   * session), named when a later step arrives without its continuation_id.
   */
  readonly recent: Map<string, string>;
}

interface StepSchemas {
  /** What the handler validates with, after aliases are mapped. */
  readonly schema: ReturnType<typeof stepSchema>;
  /** What tools/list shows; it lets any object through so the handler can answer in the tool's own shape. */
  readonly advertised: ReturnType<typeof deferredSchema>;
  readonly rules: ReturnType<typeof argumentRules>;
}
const stepSchemas = new WeakMap<WorkflowTool, StepSchemas>();

/**
 * A tool's input schema, built once per process: a server is built for every HTTP session and every stateless
 * request, and building the twelve step schemas with zod (and their JSON Schemas for tools/list) was most of
 * that cost. Schemas are immutable, so every server can share them.
 */
function schemasOf(tool: WorkflowTool): StepSchemas {
  let built = stepSchemas.get(tool);
  if (!built) {
    const schema = stepSchema(tool);
    built = {
      schema,
      advertised: deferredSchema(leanSchema(schema, { unlisted: UNLISTED_FIELDS })),
      rules: argumentRules(tool),
    };
    stepSchemas.set(tool, built);
  }
  return built;
}

export function registerWorkflowTool(server: McpServer, runtime: WorkflowRuntime, tool: WorkflowTool): void {
  const { schema, advertised, rules } = schemasOf(tool);
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: advertised,
      annotations: {
        readOnlyHint: true,
        openWorldHint: tool.expert !== undefined || tool.name === 'consensus',
      },
    },
    (raw, ctx) =>
      runTool(
        runtime.deps,
        tool.name,
        ctx,
        async budget => {
          const { args, notes } = prepareArguments(tool.name, raw, rules);
          const parsed = schema.safeParse(args);
          if (!parsed.success) return invalidStep(runtime, tool, args, parsed.error);
          return withNotes(await runStep(runtime, tool, parsed.data, ctx, budget), notes);
        },
        clientName(server, ctx),
      ),
  );
}

/** The `<tool>_failed` answer, naming this client's latest thread when a later step came without its id. */
function invalidStep(
  runtime: WorkflowRuntime,
  tool: WorkflowTool,
  args: Record<string, unknown>,
  error: z.ZodError,
): CallToolResult {
  let message = issuesText(error);
  const stepNumber = typeof args.step_number === 'number' ? args.step_number : undefined;
  const recent = runtime.recent.get(tool.name);
  const missingId =
    error.issues.some(i => i.path[0] === 'continuation_id') && args.continuation_id === undefined;
  if (missingId && recent !== undefined) {
    message += `. Your latest ${tool.name} workflow here is continuation_id "${recent}": pass it if this step continues that one.`;
  }
  return failedResult(tool.name, message, {
    ...(stepNumber !== undefined && { step_number: stepNumber }),
    ...(missingId && recent !== undefined && { latest_continuation_id: recent }),
  });
}

export async function runStep(
  runtime: WorkflowRuntime,
  tool: WorkflowTool,
  parsed: Record<string, unknown>,
  ctx: ServerContext,
  call: Deadline,
): Promise<CallToolResult> {
  const { args, extras } = splitArgs(tool, parsed);
  const oversized = oversizedPrompt(
    tool.name,
    'step',
    args.step,
    'Keep the step short, put the details in a file and list it in relevant_files.',
  );
  if (oversized) return workflowResult(oversized, true);

  const budgetMs = secondsToMs(runtime.deps.config.workflowTimeoutSecs);
  const workflow = call.child(budgetMs, `${tool.name} workflow call (WORKFLOW_TOOL_TIMEOUT_SECS)`);
  try {
    return await untilAborted(step(runtime, tool, args, extras, ctx, workflow), workflow.signal);
  } catch (thrown) {
    // The model job runs on after the soft budget: the agent repeats this step to collect it.
    if (isJobPending(thrown)) {
      return workflowResult({
        ...inProgressFields(thrown, tool.name, parsed),
        step_number: args.step_number,
        total_steps: args.total_steps,
        metadata: { tool_name: tool.name },
      });
    }
    const error = toExaiError(thrown);
    if (error.kind !== 'timeout' || call.signal.aborted) throw error;
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
  runtime.recent.set(tool.name, threadId);
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
