import { describe, expect, it } from 'vitest';
import { Deadline } from '../../src/resilience/deadline.js';
import { fakeProviderSuite, rejection, user } from '../helpers/gateway.js';

const suite = fakeProviderSuite();

describe('errors of parallel calls', () => {
  it('two calls ended by one parent deadline each report their own provider, model and attempts', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/hang/v1`,
      // Two 503s (retried), then a hang: this call has made several attempts when the parent runs out.
      KIMI_API_URL: `${suite.fake.url}/mode/flaky,fail=2,key=parallel,then=hang/v1`,
      // Room to retry whatever a loaded machine throws in, so the parent's budget is what ends the call.
      PROVIDER_MAX_RETRIES: '10',
    });
    const parent = Deadline.start(1_000, { label: 'workflow step' });
    try {
      const [glm, kimi] = await Promise.all([
        rejection(suite.t.gateway.chat({ model: 'glm-4.6', messages: user('a'), budget: parent })),
        rejection(suite.t.gateway.chat({ model: 'kimi-k2', messages: user('b'), budget: parent })),
      ]);
      // Both end because the same parent ran out, and both say so...
      expect(glm).toMatchObject({
        kind: 'timeout',
        message: expect.stringMatching(/workflow step timed out/),
      });
      expect(kimi).toMatchObject({
        kind: 'timeout',
        message: expect.stringMatching(/workflow step timed out/),
      });
      // ...but each error is its own: annotating one must not rewrite the other.
      expect(glm).not.toBe(kimi);
      expect(glm).toMatchObject({ provider: 'glm', model: 'glm-4.6', attempts: 1 });
      // At least the two 503s were attempts of their own (a loaded machine may add a retried hiccup).
      expect(kimi).toMatchObject({ provider: 'kimi', model: 'kimi-k2.6' });
      expect(kimi.attempts).toBeGreaterThanOrEqual(2);
    } finally {
      parent.dispose();
    }
  });
});
