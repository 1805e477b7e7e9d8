/** Load: a storm of hung calls ends at its deadline and leaves healthy traffic on the other provider alone. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { rejection, type TestGateway, testGateway, user } from '../helpers/gateway.js';

let hung: FakeProvider;
let healthy: FakeProvider;
let t: TestGateway | undefined;
beforeAll(async () => {
  [hung, healthy] = await Promise.all([startFakeProvider(), startFakeProvider()]);
});
afterEach(() => {
  t?.close();
  t = undefined;
  hung.reset();
  healthy.reset();
});
afterAll(() => Promise.all([hung.close(), healthy.close()]));

describe('timeouts under load', () => {
  it('300 hung calls time out and close their sockets while 300 healthy calls all succeed', async () => {
    t = testGateway({
      GLM_API_URL: `${hung.url}/mode/hang/v1`,
      KIMI_API_URL: `${healthy.url}/mode/delay,ms=20/v1`,
      GLM_TIMEOUT_SECS: '1',
      KIMI_TIMEOUT_SECS: '30',
      GLM_MAX_CONCURRENCY: '300',
      KIMI_MAX_CONCURRENCY: '300',
      PROVIDER_MAX_CONNECTIONS: '300',
      LOG_LEVEL: 'warn',
    });
    const calls = Array.from({ length: 600 }, (_, i) =>
      i % 2 === 0
        ? rejection(t!.gateway.chat({ model: 'glm-4.6', messages: user('hung') }))
        : t!.gateway.chat({ model: 'kimi-k2.6', messages: user(`ok ${i}`) }),
    );
    const settled = await Promise.all(calls);
    const hungErrors = settled.filter((_, i) => i % 2 === 0) as Array<Error & { kind?: unknown }>;
    const answers = settled.filter((_, i) => i % 2 === 1) as Array<{ content: string }>;
    expect(new Set(hungErrors.map(e => e.kind))).toEqual(new Set(['timeout']));
    expect(answers.map(a => a.content)).toEqual(
      Array.from({ length: 300 }, (_, k) => `echo: ok ${2 * k + 1}`),
    );
    // Nothing is left upstream on the hung provider, without closing the gateway.
    await hung.waitForOpenSockets(0);
    expect(hung.stats().activeRequests).toBe(0);
    const status = t.gateway.status();
    expect(status.map(s => [s.inFlight, s.queued])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('calls queued behind hung ones still end at their own deadline', async () => {
    t = testGateway({
      GLM_API_URL: `${hung.url}/mode/hang/v1`,
      GLM_TIMEOUT_SECS: '0.5',
      GLM_MAX_CONCURRENCY: '5',
      LOG_LEVEL: 'warn',
    });
    const errors = await Promise.all(
      Array.from({ length: 100 }, () =>
        rejection(t!.gateway.chat({ model: 'glm-4.6', messages: user('x') })),
      ),
    );
    // Each ends by its deadline; a call that gets its slot after the hung ones opened the breaker fails fast
    // instead of being sent to the provider that just failed.
    const timeouts = errors.filter(e => e.kind === 'timeout');
    expect(timeouts.length).toBeGreaterThanOrEqual(5);
    expect(timeouts.every(e => /timed out/.test(e.message))).toBe(true);
    expect(errors.every(e => e.kind === 'timeout' || e.kind === 'circuit_open')).toBe(true);
    await hung.waitForOpenSockets(0);
    expect(t.gateway.status().find(s => s.provider === 'glm')).toMatchObject({ inFlight: 0, queued: 0 });
  });
});
