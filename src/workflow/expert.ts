/**
 * Expert analysis: which model answers, and one model job under its
 * own budget (EXPERT_ANALYSIS_TIMEOUT_SECS, bounded by the workflow call that starts it), so the workflow can
 * still answer when the expert runs out. The call goes through the gateway (retries, breaker, stall
 * detection, fallback within what is left), reports progress while it runs, and is a job (src/jobs): an
 * identical request joins it or collects its answer, and a call whose soft budget ends answers in_progress.
 */
import type { ServerContext } from '@modelcontextprotocol/server';
import { secondsToMs } from '../config/load.js';
import { ExaiError, isExaiError, toExaiError } from '../errors.js';
import { isJobPending } from '../jobs/pending.js';
import { type JobShare, requestHash } from '../jobs/registry.js';
import type { ModelSpec } from '../providers/models.js';
import type { ChatMessage, ChatResponse } from '../providers/types.js';
import type { Deadline } from '../resilience/deadline.js';
import { type AutoModels, assertUsable, resolveModel } from '../toolkit/model-choice.js';
import { type ThinkingMode, thinkingFrom } from '../toolkit/schema.js';
import type { ToolDeps } from '../toolkit/types.js';
import { type ExpertAnalysis, failedAnalysis, parseExpertText } from './expert-result.js';
import type { StepArgs } from './types.js';

/** `auto` for workflow tools: the registry's expert default of a configured provider. */
export const WORKFLOW_AUTO: AutoModels = 'expert';

export interface ExpertModel {
  spec: ModelSpec;
  thinking: boolean;
  /** The thinking_mode asked for, mapped onto the model's effort levels by its request rules. */
  level?: ThinkingMode;
  /** The model asked for, when it could not think and was replaced by a thinking one. */
  upgradedFrom?: string;
}

/**
 * thinking_mode becomes the request's thinking switch and effort level (each model's row says how they are
 * sent). A model that cannot think at all is replaced by its provider's thinking default (the registry's
 * `thinking` role, GLM_THINKING_UPGRADE_MODEL / KIMI_THINKING_MODEL) when EXPERT_ANALYSIS_AUTO_UPGRADE allows,
 * rather than silently answering without thinking.
 */
export function expertModel(
  deps: Pick<ToolDeps, 'config' | 'gateway'>,
  args: Pick<StepArgs, 'model' | 'thinking_mode' | 'next_step_required'>,
  defaultMode: ThinkingMode | undefined,
): ExpertModel {
  const level = (args.thinking_mode ?? defaultMode ?? deps.config.expertThinkingMode) as ThinkingMode;
  const thinking = thinkingFrom(level);
  const spec = resolveModel(deps, args.model, WORKFLOW_AUTO);
  // Only the final step calls the expert: the steps before it call no model, so they need no key.
  if (!args.next_step_required) usableOrWithout(deps, spec);
  if (!thinking || spec.thinking !== 'none' || !deps.config.expertAutoUpgrade)
    return { spec, thinking, level };
  const upgraded = deps.gateway.registry.defaultFor(spec.provider, 'thinking');
  if (upgraded.name === spec.name || upgraded.thinking === 'none') return { spec, thinking, level };
  return { spec: upgraded, thinking, level, upgradedFrom: spec.name };
}

/** A final step whose expert has no key: say which key to set, or how to finish without the expert. */
function usableOrWithout(deps: Pick<ToolDeps, 'config' | 'gateway'>, spec: ModelSpec): void {
  try {
    assertUsable(deps, spec);
  } catch (thrown) {
    if (!isExaiError(thrown) || thrown.kind !== 'not_configured') throw thrown;
    throw new ExaiError(
      'not_configured',
      `${thrown.message}. Or send this final step again with use_assistant_model: false: the workflow then ` +
        "finishes on your own findings, without an expert's review (the earlier steps are kept)",
      { retryable: false },
    );
  }
}

export interface ExpertCall {
  deps: ToolDeps;
  ctx: ServerContext;
  tool: string;
  threadId: string;
  /** The workflow call's deadline: it bounds the expert job's time, and ends this call's wait. */
  workflow: Deadline;
  model: ExpertModel;
  messages: ChatMessage[];
  temperature: number;
  webSearch: boolean;
}

export interface ExpertOutcome {
  analysis: ExpertAnalysis;
  /** Absent when the call failed or timed out. */
  response?: ChatResponse;
  share?: JobShare;
  elapsedMs: number;
}

/**
 * Never throws for a failed or slow expert (that becomes analysis_error / analysis_timeout); only when
 * cancelled, or with JobPending when the call's soft budget ends before the expert job does.
 */
export async function callExpert(call: ExpertCall): Promise<ExpertOutcome> {
  const { deps, model } = call;
  const budgetMs = Math.min(secondsToMs(deps.config.expertTimeoutSecs), call.workflow.remainingMs());
  const progress = deps.progress(call.ctx, { tool: call.tool, model: model.spec.name });
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const { value, share } = await deps.jobs.run(
      {
        // One expert job per workflow thread: a final step sent again with other findings replaces it.
        key: { thread: call.threadId, tool: call.tool, step: 'expert', hash: requestHash(sentRequest(call)) },
        model: model.spec.name,
        budgetMs: secondsToMs(deps.config.expertTimeoutSecs),
        // Bounded by the time of the workflow call that starts it, so a tie still reports the workflow.
        bound: call.workflow,
        label: `${call.tool} expert analysis (EXPERT_ANALYSIS_TIMEOUT_SECS)`,
        exclusive: true,
        work: (deadline, onEvent) =>
          deps.gateway.chat({
            messages: call.messages,
            model: model.spec.name,
            temperature: call.temperature,
            thinking: model.thinking,
            ...(model.level !== undefined && { thinkingLevel: model.level }),
            webSearch: call.webSearch,
            budget: deadline,
            onEvent,
          }),
      },
      { ctx: call.ctx, signal: call.workflow.signal, watcher: progress },
    );
    return { analysis: parseExpertText(value.content), response: value, share, elapsedMs: elapsed() };
  } catch (thrown) {
    if (isJobPending(thrown)) throw thrown;
    const error = toExaiError(thrown);
    if (error.kind === 'cancelled') throw error;
    deps.logger.warn(
      { event: 'expert_failed', tool: call.tool, model: model.spec.name, kind: error.kind, ms: elapsed() },
      `${call.tool} expert analysis failed: ${error.message}`,
    );
    return { analysis: failedAnalysis(error, budgetMs), elapsedMs: elapsed() };
  } finally {
    progress.stop();
  }
}

/** Everything the model is sent: the same tool, thread and request is the same job. */
function sentRequest(call: ExpertCall): Record<string, unknown> {
  return {
    model: call.model.spec.name,
    thinking: call.model.thinking,
    level: call.model.level,
    temperature: call.temperature,
    webSearch: call.webSearch,
    messages: call.messages,
  };
}
