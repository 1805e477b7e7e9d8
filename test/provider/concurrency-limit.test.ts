import { afterEach, describe, expect, it } from 'vitest';
import { fakeProviderSuite, user } from '../helpers/gateway.js';
import { type KeyLimit, keyWithConcurrency } from '../helpers/key-concurrency.js';

const suite = fakeProviderSuite();

let key: KeyLimit | undefined;
afterEach(async () => {
  await key?.close();
  key = undefined;
});

describe('learned concurrency per key', () => {
  it('GLM 1302 above 3 in flight: the limit converges to the key, and then no call is refused', async () => {
    key = await keyWithConcurrency(suite.fake.url, 3, 'glmerror,code=1302', 150);
    suite.gateway({
      GLM_API_URL: `${key.url}/api/paas/v4`,
      GLM_MAX_CONCURRENCY: '12',
      GLM_TIMEOUT_SECS: '30',
      BREAKER_FAILURE_THRESHOLD: '3',
    });
    const ask = () => suite.t.gateway.chat({ model: 'glm-4.6', messages: user('hello') });
    const glm = () => suite.t.gateway.status().find(s => s.provider === 'glm')!;

    // A burst of 12 against a key that takes 3: some are refused while the limit is learned, none fail.
    const first = await Promise.all(Array.from({ length: 12 }, ask));
    expect(first.every(r => r.content === 'echo: hello')).toBe(true);
    expect(key.refusals).toBeGreaterThan(0);
    expect(key.refusals).toBeLessThanOrEqual(15);
    const learned = glm().concurrency;
    expect(learned.max).toBe(12);
    expect(learned.limit).toBeGreaterThanOrEqual(2);
    expect(learned.limit).toBeLessThanOrEqual(3);
    // Refusals said "too many at once", not "GLM is down": the breaker never counted them.
    expect(glm().breaker).toMatchObject({ state: 'closed', consecutiveFailures: 0 });

    // After convergence: a second burst waits in our queue instead of being sent into a 429.
    key.resetCounters();
    const second = await Promise.all(Array.from({ length: 12 }, ask));
    expect(second).toHaveLength(12);
    expect(key.refusals).toBe(0);
    expect(key.peak).toBeLessThanOrEqual(3);
    expect(second.every(r => r.attempts === 1)).toBe(true);
    expect(suite.t.logs.some(l => l.event === 'concurrency_limit')).toBe(true);
  });

  it('Kimi concurrency 429 naming its limit sets the limit to it at once', async () => {
    key = await keyWithConcurrency(suite.fake.url, 1, 'kimierror,kind=concurrency', 100);
    suite.gateway({
      KIMI_API_URL: `${key.url}/v1`,
      KIMI_MAX_CONCURRENCY: '8',
      KIMI_TIMEOUT_SECS: '30',
    });
    const ask = () => suite.t.gateway.chat({ model: 'kimi-k2.6', messages: user('hi') });
    const responses = await Promise.all(Array.from({ length: 6 }, ask));
    expect(responses.every(r => r.content === 'echo: hi')).toBe(true);
    const kimi = suite.t.gateway.status().find(s => s.provider === 'kimi')!;
    expect(kimi.concurrency).toMatchObject({ limit: 1, max: 8, inFlight: 0, queued: 0 });
    expect(key.peak).toBe(1);
    expect(key.refusals).toBeLessThanOrEqual(7);
  });
});
