/**
 * Sizes that depend on the prompt: how long a healthy model may take before its first token, how far an
 * output budget may grow, and usage summed over the rounds of one call.
 */
import type { ModelSpec } from './models.js';
import type { Usage } from './types.js';

/**
 * The first-token timeout of one attempt: a floor plus an allowance per whole 1,000 prompt tokens (so a short
 * prompt gets exactly the floor). A thinking model given a large prompt can take minutes before its first
 * byte and still be healthy; the call's deadline bounds the attempt whatever this says.
 */
export function firstTokenTimeoutMs(floorMs: number, msPer1kTokens: number, promptTokens: number): number {
  return Math.round(floorMs + msPer1kTokens * Math.floor(promptTokens / 1_000));
}

/**
 * The output budget for one more try after reasoning used all of it: double, but never above the model's
 * ceiling nor beyond what the context window leaves after the prompt (Kimi rejects prompt + budget > window).
 * Undefined when it cannot grow.
 */
export function largerOutputBudget(
  current: number,
  model: Pick<ModelSpec, 'maxOutputTokens' | 'contextWindow'>,
  promptTokens: number,
): number | undefined {
  const room = model.contextWindow - promptTokens;
  const larger = Math.min(current * 2, model.maxOutputTokens, room);
  return larger > current ? larger : undefined;
}

/** Usage of two rounds of one call, added field by field; optional fields stay absent when both lack them. */
export function addUsage(total: Usage | undefined, round: Usage): Usage {
  if (!total) return { ...round };
  const sum = (a: number | undefined, b: number | undefined) =>
    a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
  const reasoningTokens = sum(total.reasoningTokens, round.reasoningTokens);
  const cachedTokens = sum(total.cachedTokens, round.cachedTokens);
  const webSearches = sum(total.webSearches, round.webSearches);
  return {
    inputTokens: total.inputTokens + round.inputTokens,
    outputTokens: total.outputTokens + round.outputTokens,
    totalTokens: total.totalTokens + round.totalTokens,
    ...(reasoningTokens !== undefined && { reasoningTokens }),
    ...(cachedTokens !== undefined && { cachedTokens }),
    ...(webSearches !== undefined && { webSearches }),
  };
}
