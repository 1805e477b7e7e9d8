import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeProviderSuite, user } from '../helpers/gateway.js';

const suite = fakeProviderSuite();

/**
 * A key that allows `allowed` requests in flight: a loopback proxy in front of the fake provider that counts
 * the requests it has open and sends each one on with the mode the real API would answer it with (a slow
 * answer, or the provider's own concurrency 429 once `allowed` are already in flight).
 */
interface KeyLimit {
  url: string;
  refusals: number;
  peak: number;
  resetCounters(): void;
  close(): Promise<void>;
}

async function keyWithConcurrency(allowed: number, refusalMode: string, answerMs: number): Promise<KeyLimit> {
  let inFlight = 0;
  const state = { refusals: 0, peak: 0 };
  const upstream = new URL(suite.fake.url);
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    inFlight++;
    res.once('close', () => inFlight--);
    const refused = inFlight > allowed;
    if (refused) state.refusals++;
    else state.peak = Math.max(state.peak, inFlight);
    const headers = { ...req.headers, 'x-fake-mode': refused ? refusalMode : `delay,ms=${answerMs}` };
    delete headers.host;
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, agent },
      answer => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.once('error', () => res.destroy());
    res.once('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get refusals() {
      return state.refusals;
    },
    get peak() {
      return state.peak;
    },
    resetCounters() {
      state.refusals = 0;
      state.peak = 0;
    },
    close: () =>
      new Promise<void>(resolve => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let key: KeyLimit | undefined;
afterEach(async () => {
  await key?.close();
  key = undefined;
});

describe('learned concurrency per key', () => {
  it('GLM 1302 above 3 in flight: the limit converges to the key, and then no call is refused', async () => {
    key = await keyWithConcurrency(3, 'glmerror,code=1302', 150);
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
    key = await keyWithConcurrency(1, 'kimierror,kind=concurrency', 100);
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
