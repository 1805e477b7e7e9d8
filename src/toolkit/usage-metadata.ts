/** The usage and cost part of an answer's metadata, one shape for every model-backed tool. */
import type { ChatResponse } from '../providers/types.js';
import { adjustmentMetadata } from './model-choice.js';

/** What an answer's metadata says about the call behind it: the same names in chat and in `ask --json`. */
export function callMetadata(response: ChatResponse): Record<string, unknown> {
  return {
    model_used: response.model,
    provider_used: response.provider,
    elapsed_ms: response.elapsedMs,
    attempts: response.attempts,
    finish_reason: response.finishReason,
    ...usageMetadata(response),
    ...(response.requestId !== undefined && { request_id: response.requestId }),
    ...(response.fallbackFrom && { fallback_from: response.fallbackFrom }),
    ...(response.webSearch?.length && { web_search_results: response.webSearch.length }),
    ...adjustmentMetadata(response),
  };
}

export function usageMetadata(response: Pick<ChatResponse, 'usage' | 'costUsd'>): Record<string, unknown> {
  const { usage } = response;
  return {
    usage: {
      input_tokens: usage.inputTokens,
      output_tokens: usage.outputTokens,
      total_tokens: usage.totalTokens,
      ...(usage.cachedTokens !== undefined && { cached_tokens: usage.cachedTokens }),
      ...(usage.reasoningTokens !== undefined && { reasoning_tokens: usage.reasoningTokens }),
      ...(usage.webSearches !== undefined && { web_searches: usage.webSearches }),
    },
    ...(response.costUsd !== undefined && { cost_usd: response.costUsd }),
  };
}

/** What a thread's answers cost so far: each stored answer keeps its own `cost_usd`. */
export function threadCostUsd(turns: ReadonlyArray<{ metadata?: Record<string, unknown> }>): number {
  let total = 0;
  for (const turn of turns) {
    const cost = turn.metadata?.cost_usd;
    if (typeof cost === 'number' && Number.isFinite(cost)) total += cost;
  }
  return Math.round(total * 1_000_000) / 1_000_000;
}
