/** Load: the connection pool never opens more upstream connections than PROVIDER_MAX_CONNECTIONS. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { type TestGateway, testGateway, user } from '../helpers/gateway.js';

let glm: FakeProvider;
let kimi: FakeProvider;
let t: TestGateway | undefined;
beforeAll(async () => {
  [glm, kimi] = await Promise.all([startFakeProvider(), startFakeProvider()]);
});
afterEach(async () => {
  t?.close();
  t = undefined;
  await Promise.all([glm.waitForOpenSockets(0), kimi.waitForOpenSockets(0)]);
});
afterAll(() => Promise.all([glm.close(), kimi.close()]));

/** Highest open-socket count the fakes saw while `work` ran (sampled on every connection and every ms). */
async function peakSockets<T>(work: () => Promise<T>): Promise<{ glm: number; kimi: number; value: T }> {
  const peak = { glm: 0, kimi: 0 };
  const sample = () => {
    peak.glm = Math.max(peak.glm, glm.stats().openSockets);
    peak.kimi = Math.max(peak.kimi, kimi.stats().openSockets);
  };
  const timer = setInterval(sample, 1);
  try {
    const value = await work();
    sample();
    return { ...peak, value };
  } finally {
    clearInterval(timer);
  }
}

describe('pool limits', () => {
  it('500 concurrent calls through a bulkhead of 50 use at most 8 connections, reused', async () => {
    const before = glm.stats().connectionsTotal;
    t = testGateway({
      GLM_API_URL: `${glm.url}/mode/delay,ms=5/v1`,
      GLM_MAX_CONCURRENCY: '50',
      PROVIDER_MAX_CONNECTIONS: '8',
      GLM_TIMEOUT_SECS: '60',
      LOG_LEVEL: 'warn',
    });
    const { glm: peak, value } = await peakSockets(() =>
      Promise.all(
        Array.from({ length: 500 }, (_, i) => t!.gateway.chat({ model: 'glm-4.6', messages: user(`${i}`) })),
      ),
    );
    expect(value).toHaveLength(500);
    expect(peak).toBeLessThanOrEqual(8);
    // Every connection ever opened counts: streamed answers must hand their socket back to the pool.
    expect(glm.stats().connectionsTotal - before).toBeLessThanOrEqual(8);
  });

  it('sequential streamed calls reuse one keep-alive connection', async () => {
    const before = glm.stats().connectionsTotal;
    t = testGateway({ GLM_API_URL: `${glm.url}/v1`, LOG_LEVEL: 'warn' });
    for (let i = 0; i < 200; i++) await t.gateway.chat({ model: 'glm-4.6', messages: user(`${i}`) });
    expect(glm.stats().connectionsTotal - before).toBe(1);
  });

  it('the limit holds per origin: GLM and Kimi each stay within it at the same time', async () => {
    const before = { glm: glm.stats().connectionsTotal, kimi: kimi.stats().connectionsTotal };
    t = testGateway({
      GLM_API_URL: `${glm.url}/mode/delay,ms=5/v1`,
      KIMI_API_URL: `${kimi.url}/mode/delay,ms=5/v1`,
      GLM_MAX_CONCURRENCY: '100',
      KIMI_MAX_CONCURRENCY: '100',
      PROVIDER_MAX_CONNECTIONS: '6',
      GLM_TIMEOUT_SECS: '60',
      KIMI_TIMEOUT_SECS: '60',
      LOG_LEVEL: 'warn',
    });
    const peak = await peakSockets(() =>
      Promise.all(
        Array.from({ length: 400 }, (_, i) =>
          t!.gateway.chat({ model: i % 2 ? 'kimi-k2.6' : 'glm-4.6', messages: user(`${i}`) }),
        ),
      ),
    );
    expect(peak.value).toHaveLength(400);
    expect(peak.glm).toBeLessThanOrEqual(6);
    expect(peak.kimi).toBeLessThanOrEqual(6);
    expect(glm.stats().connectionsTotal - before.glm).toBeLessThanOrEqual(6);
    expect(kimi.stats().connectionsTotal - before.kimi).toBeLessThanOrEqual(6);
  });
});
