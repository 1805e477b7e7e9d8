/**
 * What one call cost, from the catalogue's prices: uncached input, cached input (at the cached rate where the
 * provider has one), output (reasoning included) and each web search. Undefined when the model has no price,
 * so an unknown cost is never shown as zero.
 */
import type { ModelSpec } from './models.js';
import type { Usage } from './types.js';

const PER_MILLION = 1_000_000;

export function callCostUsd(
  model: Pick<ModelSpec, 'price' | 'webSearchPrice'>,
  usage: Usage,
): number | undefined {
  const { price } = model;
  if (!price) return undefined;
  const cached = Math.min(usage.cachedTokens ?? 0, usage.inputTokens);
  const tokens =
    ((usage.inputTokens - cached) * price.input +
      cached * (price.cachedInput ?? price.input) +
      usage.outputTokens * price.output) /
    PER_MILLION;
  const searches = (usage.webSearches ?? 0) * (model.webSearchPrice ?? 0);
  return roundUsd(tokens + searches);
}

/** Millionths of a dollar: below that a figure is noise, and float sums stay readable. */
export function roundUsd(usd: number): number {
  return Math.round(usd * PER_MILLION) / PER_MILLION;
}
