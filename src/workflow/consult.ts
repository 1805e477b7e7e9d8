/**
 * Consulting several models at once for consensus. The models are independent, so they are asked
 * concurrently, each under its own budget (EXPERT_ANALYSIS_TIMEOUT_SECS, capped by what is left of the
 * workflow): one slow or failing model costs its own answer, never the others'.
 */
import type { ServerContext } from '@modelcontextprotocol/server';
import { secondsToMs } from '../config/load.js';
import { toExaiError } from '../errors.js';
import type { ModelSpec } from '../providers/models.js';
import type { ChatMessage } from '../providers/types.js';
import type { Deadline } from '../resilience/deadline.js';
import type { ToolDeps } from '../tools/types.js';

export type Stance = 'for' | 'against' | 'neutral';

export interface Consultation {
  model: ModelSpec;
  stance: Stance;
  messages: ChatMessage[];
}

export interface ConsultResult {
  model: string;
  stance: Stance;
  status: 'success' | 'error';
  verdict?: string;
  error?: string;
  error_kind?: string;
  model_used?: string;
  provider_used?: string;
  elapsed_ms: number;
}

export interface ConsultOptions {
  deps: ToolDeps;
  ctx: ServerContext;
  /** The workflow call's deadline: each model's budget is its child. */
  workflow: Deadline;
  temperature: number;
  thinking: boolean;
  webSearch: boolean;
}

export async function consultAll(
  consultations: readonly Consultation[],
  options: ConsultOptions,
): Promise<ConsultResult[]> {
  const { deps } = options;
  const budgetMs = secondsToMs(deps.config.expertTimeoutSecs);
  const progress = deps.progress(options.ctx, {
    tool: 'consensus',
    model: consultations.map(c => c.model.name).join(', '),
  });
  try {
    return await Promise.all(
      consultations.map(async ({ model, stance, messages }): Promise<ConsultResult> => {
        const deadline = options.workflow.child(
          budgetMs,
          `consensus: ${model.name} (EXPERT_ANALYSIS_TIMEOUT_SECS)`,
        );
        const started = performance.now();
        const elapsed = () => Math.round(performance.now() - started);
        try {
          const answer = await deps.gateway.chat({
            messages,
            model: model.name,
            temperature: options.temperature,
            thinking: options.thinking,
            webSearch: options.webSearch,
            parent: deadline,
            onEvent: event => progress.onEvent(event),
          });
          return {
            model: model.name,
            stance,
            status: 'success',
            verdict: answer.content,
            model_used: answer.model,
            provider_used: answer.provider,
            elapsed_ms: elapsed(),
          };
        } catch (thrown) {
          const error = toExaiError(thrown);
          // The caller going away ends the whole call; anything else is this model's answer.
          if (error.kind === 'cancelled') throw error;
          return {
            model: model.name,
            stance,
            status: 'error',
            error: error.message,
            error_kind: error.kind,
            elapsed_ms: elapsed(),
          };
        } finally {
          deadline.dispose();
        }
      }),
    );
  } finally {
    progress.stop();
  }
}
