import { describe, expect, it } from 'vitest';
import { callCostUsd } from '../../src/providers/cost.js';
import type { ModelSpec } from '../../src/providers/models.js';
import { createSpendGuard } from '../../src/providers/spend.js';
import { threadCostUsd, usageMetadata } from '../../src/toolkit/usage-metadata.js';

const priced = { price: { input: 0.6, cachedInput: 0.11, output: 2.2 }, webSearchPrice: 0.03 };
const usage = (inputTokens: number, outputTokens: number, extra: object = {}) => ({
  inputTokens,
  outputTokens,
  totalTokens: inputTokens + outputTokens,
  ...extra,
});

describe('the cost of a call', () => {
  it.each([
    ['input and output at their prices', usage(1_000_000, 1_000_000), 2.8],
    ['cached input at the cached rate', usage(1_000_000, 0, { cachedTokens: 500_000 }), 0.355],
    ['each web search on top of tokens', usage(0, 0, { webSearches: 2 }), 0.06],
    ['cached tokens never above the input', usage(1_000, 0, { cachedTokens: 5_000 }), 0.00011],
    ['a small call to the millionth of a dollar', usage(123, 45), 0.000173],
  ])('%s', (_name, u, expected) => {
    expect(callCostUsd(priced, u)).toBeCloseTo(expected, 6);
  });

  it('cached input without a cached price is billed at the input price', () => {
    expect(
      callCostUsd({ price: { input: 1, output: 1 } }, usage(1_000_000, 0, { cachedTokens: 1_000_000 })),
    ).toBe(1);
  });

  it('is unknown, never zero, for a model without a price', () => {
    expect(callCostUsd({}, usage(1_000, 1_000))).toBeUndefined();
  });

  it('shows in metadata with the usage, and a thread sums the cost its answers stored', () => {
    expect(usageMetadata({ usage: usage(10, 5, { cachedTokens: 4 }), costUsd: 0.0001 })).toEqual({
      usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15, cached_tokens: 4 },
      cost_usd: 0.0001,
    });
    expect(usageMetadata({ usage: usage(1, 1) })).not.toHaveProperty('cost_usd');
    expect(
      threadCostUsd([
        { metadata: { cost_usd: 0.1 } },
        {},
        { metadata: { cost_usd: 0.2 } },
        { metadata: { cost_usd: 'x' } },
      ]),
    ).toBeCloseTo(0.3, 6);
  });
});

describe('the daily spending cap', () => {
  const model = {
    name: 'glm-4.7',
    provider: 'glm',
    price: { input: 1, output: 1 },
  } as unknown as ModelSpec;

  it('counts per provider and UTC day, and starts again when the day turns', () => {
    let now = Date.UTC(2026, 11, 1, 23, 0);
    const guard = createSpendGuard({ perDayUsd: 1 }, () => now);
    guard.check(model, 400_000, 100_000);
    guard.record('glm', 0.9);
    expect(() => guard.check(model, 100_000, 100_000)).toThrow(/cost \$0\.9 today.*The day turns in 1 h/);
    guard.check({ ...model, provider: 'kimi' }, 100_000, 100_000);
    now = Date.UTC(2026, 11, 2, 0, 1);
    guard.check(model, 100_000, 100_000);
    expect(guard.total('glm')).toBe(0.9);
  });
});
