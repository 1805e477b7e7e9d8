/** Load: a failing provider opens its breaker under concurrent traffic, recovers, and no call is left stuck. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Deadline } from '../../src/resilience/deadline.js';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { rejection, type TestGateway, testGateway, user } from '../helpers/gateway.js';

let fake: FakeProvider;
let t: TestGateway | undefined;
beforeAll(async () => {
  fake = await startFakeProvider();
});
afterEach(async () => {
  t?.close();
  t = undefined;
  await fake.waitForActive(0);
  fake.reset();
});
afterAll(() => fake.close());

const glmOf = (g: TestGateway) => g.gateway.status().find(s => s.provider === 'glm')!;

/** Settles every call, answered or failed, and says which. */
const settle = (calls: Array<Promise<{ content: string }>>) =>
  Promise.all(
    calls.map(c =>
      c.then(
        r => ({ ok: true as const, content: r.content }),
        (e: { kind?: string }) => ({ ok: false as const, kind: e.kind ?? 'unknown' }),
      ),
    ),
  );

describe('recovery from failures', () => {
  it('200 concurrent calls against a failing provider open the breaker; after the reset it serves again', async () => {
    t = testGateway({
      // 503 for the first 20 requests with this key, then answers.
      GLM_API_URL: `${fake.url}/mode/flaky,fail=20,code=503,key=recovery/v1`,
      BREAKER_FAILURE_THRESHOLD: '5',
      BREAKER_RESET_SECS: '0.2',
      PROVIDER_MAX_RETRIES: '1',
      GLM_MAX_CONCURRENCY: '10',
      LOG_LEVEL: 'warn',
    });
    const first = await settle(
      Array.from({ length: 200 }, (_, i) => t!.gateway.chat({ model: 'glm-4.6', messages: user(`a${i}`) })),
    );
    const kinds = new Set(first.filter(r => !r.ok).map(r => (r.ok ? '' : r.kind)));
    expect([...kinds].every(k => k === 'overloaded' || k === 'circuit_open')).toBe(true);
    expect(kinds.has('circuit_open')).toBe(true);
    expect(glmOf(t).breaker.transitions.map(x => x.to)).toContain('open');
    // Retries after the breaker opened failed fast instead of reaching the provider.
    expect(glmOf(t).breaker.counts.rejected).toBeGreaterThan(0);
    // Calls queued behind the bulkhead when it opened check it again before sending: few reach the provider.
    expect(fake.stats().requestsByMode.flaky ?? 0).toBeLessThanOrEqual(40);
    expect(glmOf(t)).toMatchObject({ inFlight: 0, queued: 0 });

    // Recovery: keep calling until one is the probe that closes the breaker (bounded in count and time).
    let answered = 0;
    for (let i = 0; i < 400 && answered === 0; i++) {
      const [r] = await settle([t.gateway.chat({ model: 'glm-4.6', messages: user(`b${i}`) })]);
      if (r?.ok) answered++;
      else await new Promise(resolve => setTimeout(resolve, 25));
    }
    expect(answered).toBe(1);
    const after = await settle(
      Array.from({ length: 200 }, (_, i) => t!.gateway.chat({ model: 'glm-4.6', messages: user(`c${i}`) })),
    );
    expect(after.every(r => r.ok)).toBe(true);
    expect(glmOf(t).breaker.state).toBe('closed');
    expect(glmOf(t)).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('callers cancelling many calls do not open the breaker', async () => {
    t = testGateway({
      GLM_API_URL: `${fake.url}/mode/hang/v1`,
      BREAKER_FAILURE_THRESHOLD: '3',
      GLM_MAX_CONCURRENCY: '50',
      LOG_LEVEL: 'warn',
    });
    for (const reason of [new Error('user pressed stop'), 'a string reason', undefined]) {
      const controllers = Array.from({ length: 20 }, () => new AbortController());
      const calls = controllers.map(c =>
        rejection(
          t!.gateway.chat({
            model: 'glm-4.6',
            messages: user('x'),
            budget: Deadline.open({ parents: [c.signal] }),
          }),
        ),
      );
      // Cancel once every request is upstream (bounded: the loop gives up after ~2,000 turns).
      for (let i = 0; i < 2_000 && fake.stats().activeRequests < 20; i++) {
        await new Promise(resolve => setTimeout(resolve, 1));
      }
      expect(fake.stats().activeRequests).toBe(20);
      for (const c of controllers) c.abort(reason);
      const errors = await Promise.all(calls);
      expect(new Set(errors.map(e => e.kind))).toEqual(new Set(['cancelled']));
    }
    expect(glmOf(t).breaker.state).toBe('closed');
    expect(glmOf(t).breaker.counts.failures).toBe(0);
    await fake.waitForOpenSockets(0);
  });

  it('a flapping provider under steady load never leaves a call unsettled', async () => {
    t = testGateway({
      GLM_API_URL: `${fake.url}/mode/flaky,fail=30,code=500,key=flap/v1`,
      BREAKER_FAILURE_THRESHOLD: '4',
      BREAKER_RESET_SECS: '0.05',
      PROVIDER_MAX_RETRIES: '2',
      GLM_MAX_CONCURRENCY: '8',
      GLM_TIMEOUT_SECS: '5',
      LOG_LEVEL: 'warn',
    });
    const results = await settle(
      Array.from({ length: 300 }, (_, i) =>
        new Promise<void>(r => setTimeout(r, i)).then(() =>
          t!.gateway.chat({ model: 'glm-4.6', messages: user(`${i}`) }),
        ),
      ),
    );
    expect(results).toHaveLength(300);
    const kinds = new Set(results.flatMap(r => (r.ok ? ['ok'] : [r.kind])));
    expect([...kinds].every(k => ['ok', 'upstream_error', 'circuit_open'].includes(k))).toBe(true);
    expect(glmOf(t)).toMatchObject({ inFlight: 0, queued: 0 });
    expect(fake.stats().activeRequests).toBe(0);
  });
});
