/**
 * Load: thousands of calls at once all complete, each with its own answer. Functional only: no timing
 * assertions, so a loaded machine can be slow but never red.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { type TestGateway, testGateway, user } from '../helpers/gateway.js';

let fake: FakeProvider;
let t: TestGateway | undefined;
beforeAll(async () => {
  fake = await startFakeProvider({ backlog: 4_096 });
});
afterEach(() => {
  t?.close();
  t = undefined;
});
afterAll(() => fake.close());

describe('high concurrency', () => {
  it('2,000 simultaneous calls all complete with their own answers, none lost', async () => {
    t = testGateway({
      GLM_API_URL: `${fake.url}/mode/delay,ms=20/v1`,
      GLM_MAX_CONCURRENCY: '256',
      PROVIDER_MAX_CONNECTIONS: '256',
      GLM_TIMEOUT_SECS: '60',
      LOG_LEVEL: 'warn',
    });
    const n = 2_000;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) => t!.gateway.chat({ model: 'glm-4.6', messages: user(`call ${i}`) })),
    );
    expect(answers.map(a => a.content)).toEqual(Array.from({ length: n }, (_, i) => `echo: call ${i}`));
    const glm = t.gateway.status().find(s => s.provider === 'glm')!;
    expect(glm.stats.calls).toBe(n);
    expect(glm.stats.outcomes).toEqual({ ok: n });
    expect(glm.inFlight).toBe(0);
    expect(glm.queued).toBe(0);
    expect(fake.stats().activeRequests).toBe(0);
  });

  it('a queue far deeper than the concurrency limit drains completely, in order of arrival', async () => {
    t = testGateway({
      GLM_API_URL: `${fake.url}/v1`,
      GLM_MAX_CONCURRENCY: '4',
      GLM_TIMEOUT_SECS: '60',
      LOG_LEVEL: 'warn',
    });
    const finished: number[] = [];
    await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        t!.gateway.chat({ model: 'glm-4.6', messages: user(`q${i}`) }).then(() => finished.push(i)),
      ),
    );
    expect(finished).toHaveLength(1_000);
    expect(new Set(finished).size).toBe(1_000);
  });
});
