import { describe, expect, it } from 'vitest';
import { addUsage, firstTokenTimeoutMs, largerOutputBudget } from '../../src/providers/budget.js';

describe('prompt-dependent budgets', () => {
  it('the first-token timeout is the floor plus an allowance per 1,000 prompt tokens', () => {
    expect(firstTokenTimeoutMs(120_000, 2_000, 0)).toBe(120_000);
    expect(firstTokenTimeoutMs(120_000, 2_000, 100_000)).toBe(320_000);
    expect(firstTokenTimeoutMs(300, 0, 1_000_000)).toBe(300);
    expect(firstTokenTimeoutMs(500, 2_000, 999)).toBe(500);
    expect(firstTokenTimeoutMs(500, 2_000, 1_999)).toBe(2_500);
  });

  it.each([
    [4_096, { maxOutputTokens: 131_072, contextWindow: 200_000 }, 1_000, 8_192],
    [100_000, { maxOutputTokens: 131_072, contextWindow: 1_000_000 }, 1_000, 131_072],
    [8_192, { maxOutputTokens: 131_072, contextWindow: 20_000 }, 10_000, 10_000],
    [8_192, { maxOutputTokens: 8_192, contextWindow: 200_000 }, 1_000, undefined],
    [8_192, { maxOutputTokens: 131_072, contextWindow: 16_000 }, 10_000, undefined],
  ])('a budget of %i on %j with a %i-token prompt grows to %s', (current, model, prompt, expected) => {
    expect(largerOutputBudget(current, model, prompt)).toBe(expected);
  });

  it('sums usage over rounds, keeping optional counts only when a round had them', () => {
    const first = addUsage(undefined, { inputTokens: 100, outputTokens: 10, totalTokens: 110 });
    expect(first).toEqual({ inputTokens: 100, outputTokens: 10, totalTokens: 110 });
    const both = addUsage(first, {
      inputTokens: 200,
      outputTokens: 20,
      totalTokens: 220,
      cachedTokens: 150,
      webSearches: 1,
    });
    expect(both).toEqual({
      inputTokens: 300,
      outputTokens: 30,
      totalTokens: 330,
      cachedTokens: 150,
      webSearches: 1,
    });
  });
});
