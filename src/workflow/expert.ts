/**
 * Expert analysis (reference §2.4 "Expert analysis call"): which model answers, and one call under its own
 * budget. The budget is a child of the workflow's, so the workflow can still answer when the expert runs
 * out; the call goes through the gateway (retries, breaker, stall detection, fallback within what is left),
 * reports progress while it runs, and is shared with identical requests in flight.
 */
import { createHash } from 'node:crypto';
import type { ServerContext } from '@modelcontextprotocol/server';
import { secondsToMs } from '../config/load.js';
import { ExaiError, isExaiError, toExaiError } from '../errors.js';
import type { ModelSpec } from '../providers/models.js';
import type { ChatMessage, ChatResponse } from '../providers/types.js';
import { Deadline } from '../resilience/deadline.js';
import type { FlightShare, SingleFlight } from '../resilience/single-flight.js';
import { type AutoModels, assertUsable, resolveModel } from '../tools/model-choice.js';
import { type ThinkingMode, thinkingFrom } from '../tools/schema.js';
import type { ToolDeps } from '../tools/types.js';
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
  flights: SingleFlight;
  ctx: ServerContext;
  tool: string;
  threadId: string;
  /** The workflow call's deadline: the expert budget is its child. */
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
  share?: FlightShare;
  elapsedMs: number;
}

/** Never throws for a failed or slow expert (that becomes analysis_error / analysis_timeout); only when cancelled. */
export async function callExpert(call: ExpertCall): Promise<ExpertOutcome> {
  const { deps, model } = call;
  const expert = call.workflow.child(
    secondsToMs(deps.config.expertTimeoutSecs),
    `${call.tool} expert analysis (EXPERT_ANALYSIS_TIMEOUT_SECS)`,
  );
  const progress = deps.progress(call.ctx, { tool: call.tool, model: model.spec.name });
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const { value, share } = await call.flights.run(
      flightKey(call),
      async signal => {
        // The shared call's own budget: it must not end when its first caller leaves, only when all have.
        // Bounded by the expert's time, so a tie with the workflow deadline still reports the workflow.
        const budget = Deadline.start(expert.budgetMs, {
          parent: signal,
          bound: expert,
          label: expert.label,
        });
        try {
          return await deps.gateway.chat({
            messages: call.messages,
            model: model.spec.name,
            temperature: call.temperature,
            thinking: model.thinking,
            ...(model.level !== undefined && { thinkingLevel: model.level }),
            webSearch: call.webSearch,
            parent: budget,
            onEvent: event => progress.onEvent(event),
          });
        } finally {
          budget.dispose();
        }
      },
      expert.signal,
    );
    return { analysis: parseExpertText(value.content), response: value, share, elapsedMs: elapsed() };
  } catch (thrown) {
    const error = toExaiError(thrown);
    if (error.kind === 'cancelled') throw error;
    deps.logger.warn(
      { event: 'expert_failed', tool: call.tool, model: model.spec.name, kind: error.kind, ms: elapsed() },
      `${call.tool} expert analysis failed: ${error.message}`,
    );
    return { analysis: failedAnalysis(error, expert.budgetMs), elapsedMs: elapsed() };
  } finally {
    progress.stop();
    expert.dispose();
  }
}

/** Same tool, thread, model settings and prompt (so the same findings and files): the same call. */
function flightKey(call: ExpertCall): string {
  const hash = createHash('sha256')
    .update(
      JSON.stringify({
        model: call.model.spec.name,
        thinking: call.model.thinking,
        level: call.model.level,
        temperature: call.temperature,
        webSearch: call.webSearch,
        messages: call.messages,
      }),
    )
    .digest('hex');
  return `${call.tool}:${call.threadId}:${hash}`;
}
