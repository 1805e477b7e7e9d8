/**
 * Consulting several models at once for consensus. The models are independent, so they are asked
 * concurrently, each as its own model job under its own budget (EXPERT_ANALYSIS_TIMEOUT_SECS, capped by
 * what is left of the workflow): one slow or failing model costs its own answer, never the others'. When
 * the call's soft budget ends first, the step answers in_progress naming every model still at work, and the
 * same step sent again collects them all (answers already in come back at once).
 */
import type { ServerContext } from '@modelcontextprotocol/server';
import { secondsToMs } from '../config/load.js';
import { toExaiError } from '../errors.js';
import { isJobPending, JobPending } from '../jobs/pending.js';
import { requestHash } from '../jobs/registry.js';
import type { ModelSpec } from '../providers/models.js';
import type { ChatMessage } from '../providers/types.js';
import type { Deadline } from '../resilience/deadline.js';
import type { ToolDeps } from '../toolkit/types.js';

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
  threadId: string;
  stepNumber: number;
  /** The workflow call's deadline: it bounds each model job's time, and ends this call's wait. */
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
    const settled = await Promise.allSettled(
      consultations.map(async ({ model, stance, messages }): Promise<ConsultResult> => {
        const started = performance.now();
        const elapsed = () => Math.round(performance.now() - started);
        const sent = {
          model: model.name,
          temperature: options.temperature,
          thinking: options.thinking,
          webSearch: options.webSearch,
          messages,
        };
        try {
          const { value: answer } = await deps.jobs.run(
            {
              key: {
                thread: options.threadId,
                tool: 'consensus',
                step: `${options.stepNumber} ${model.name} ${stance}`,
                hash: requestHash(sent),
              },
              model: model.name,
              budgetMs,
              bound: options.workflow,
              label: `consensus: ${model.name} (EXPERT_ANALYSIS_TIMEOUT_SECS)`,
              exclusive: true,
              work: (deadline, onEvent) => deps.gateway.chat({ ...sent, budget: deadline, onEvent }),
            },
            { ctx: options.ctx, signal: options.workflow.signal, watcher: progress },
          );
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
          if (isJobPending(thrown)) throw thrown;
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
        }
      }),
    );
    const failed = settled.flatMap(s => (s.status === 'rejected' ? [s.reason as unknown] : []));
    const cancelled = failed.find(reason => !isJobPending(reason));
    if (cancelled !== undefined) throw cancelled;
    if (failed.length > 0) throw JobPending.merge(failed.filter(isJobPending));
    return settled.map(s => (s as PromiseFulfilledResult<ConsultResult>).value);
  } finally {
    progress.stop();
  }
}
