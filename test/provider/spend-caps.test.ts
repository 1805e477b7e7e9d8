/**
 * Spending caps through the gateway against the fake provider: a call over EXAI_MAX_COST_PER_CALL or past
 * EXAI_MAX_COST_PER_DAY is refused before anything is sent, with the figures, and never counts against the
 * provider.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeProviderSuite, rejection, user } from '../helpers/gateway.js';

const suite = fakeProviderSuite();
const glm = (env: Record<string, string>) =>
  suite.gateway({ GLM_API_URL: `${suite.fake.url}/api/paas/v4`, BREAKER_FAILURE_THRESHOLD: '1', ...env });
const breaker = () => suite.t.gateway.status().find(s => s.provider === 'glm')?.breaker;

describe('spending caps', () => {
  it('refuses a call whose worst case is over EXAI_MAX_COST_PER_CALL, naming the figures, sending nothing', async () => {
    glm({ EXAI_MAX_COST_PER_CALL: '0.01' });
    // glm-4.7: 32,768 output tokens at 2.20 USD per million is about 0.072 USD at worst.
    const error = await rejection(suite.t.gateway.chat({ model: 'glm-4.7', messages: user('hi') }));
    expect(error).toMatchObject({ kind: 'local', retryable: false, provider: 'glm', model: 'glm-4.7' });
    expect(error.message).toMatch(
      /glm-4\.7 call not sent: it may cost up to \$0\.07\d* \(\d+ input and up to 32,768 output tokens\), over EXAI_MAX_COST_PER_CALL=\$0\.01/,
    );
    expect(suite.fake.requests).toHaveLength(0);
    expect(breaker()).toMatchObject({ state: 'closed' });
    // A smaller output budget fits under the cap and is sent.
    const answer = await suite.t.gateway.chat({
      model: 'glm-4.7',
      messages: user('hi'),
      maxOutputTokens: 1_000,
    });
    expect(answer.costUsd).toBeGreaterThan(0);
    expect(answer.costUsd).toBeLessThan(0.01);
  });

  it('refuses calls to a provider once its spending today would pass EXAI_MAX_COST_PER_DAY', async () => {
    glm({ EXAI_MAX_COST_PER_DAY: '0.1' });
    // About 100,000 prompt tokens at 0.60 USD per million: about 0.06 USD a call, so the second would pass 0.1.
    const big = user('x'.repeat(400_000));
    const first = await suite.t.gateway.chat({ model: 'glm-4.7', messages: big, maxOutputTokens: 1_000 });
    expect(first.costUsd).toBeGreaterThan(0.04);
    const error = await rejection(
      suite.t.gateway.chat({ model: 'glm-4.7', messages: big, maxOutputTokens: 1_000 }),
    );
    expect(error.kind).toBe('local');
    expect(error.message).toMatch(
      /GLM calls cost \$[0-9.]+ today \(UTC\) and this one may cost up to \$0\.0\d+ \(/,
    );
    expect(error.message).toMatch(/over EXAI_MAX_COST_PER_DAY=\$0\.1\. The day turns in \d+(\.\d)? h/);
    expect(error.retryAt).toBe(Math.ceil(Date.now() / 86_400_000) * 86_400_000);
    expect(suite.fake.requests).toHaveLength(1);
    expect(breaker()).toMatchObject({ state: 'closed' });
    expect(suite.t.gateway.status().find(s => s.provider === 'glm')?.costUsd).toBe(first.costUsd);
  });

  it('refuses a model without a price while a cap is set, rather than guessing its cost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exai-spend-'));
    const file = join(dir, 'models.json');
    const row = {
      name: 'glm-unpriced',
      provider: 'glm',
      contextWindow: 8_000,
      maxOutputTokens: 1_000,
      thinking: 'none',
    };
    writeFileSync(file, JSON.stringify({ models: [row] }));
    glm({ EXAI_MAX_COST_PER_CALL: '1', EXAI_MODELS_FILE: file });
    const error = await rejection(suite.t.gateway.chat({ model: 'glm-unpriced', messages: user('hi') }));
    expect(error.message).toMatch(/glm-unpriced has no price in the catalogue/);
    expect(suite.fake.requests).toHaveLength(0);
    rmSync(dir, { recursive: true, force: true });
  });
});
