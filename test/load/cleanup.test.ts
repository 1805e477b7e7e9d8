/** Load: after a mixed load and close(), nothing is left holding the event loop: no socket, server or timer. */
import { describe, expect, it } from 'vitest';
import { Deadline } from '../../src/resilience/deadline.js';
import { startFakeProvider } from '../fakes/fake-provider.js';
import { liveHandles, testGateway, user } from '../helpers/gateway.js';

/** Waits (bounded) for the handles to go: sockets close asynchronously after destroy(). */
async function settledHandles(): Promise<string[]> {
  for (let i = 0; i < 200 && liveHandles().length > 0; i++) await new Promise(r => setImmediate(r));
  for (let i = 0; i < 50 && liveHandles().length > 0; i++) await new Promise(r => setTimeout(r, 10).unref());
  return liveHandles();
}

describe('resource cleanup', () => {
  it('a mixed load of answers, failures, timeouts and cancels leaves no open handle after close', async () => {
    expect(await settledHandles()).toEqual([]);
    const [ok, hang, failing] = await Promise.all([
      startFakeProvider(),
      startFakeProvider(),
      startFakeProvider(),
    ]);
    const t = testGateway({
      GLM_API_URL: `${ok.url}/mode/delay,ms=5/v1`,
      KIMI_API_URL: `${hang.url}/mode/hang/v1`,
      KIMI_TIMEOUT_SECS: '0.3',
      GLM_MAX_CONCURRENCY: '64',
      KIMI_MAX_CONCURRENCY: '64',
      LOG_LEVEL: 'warn',
    });
    const failingGateway = testGateway({
      GLM_API_URL: `${failing.url}/mode/status,code=503/v1`,
      PROVIDER_MAX_RETRIES: '2',
      LOG_LEVEL: 'warn',
    });
    const controllers: AbortController[] = [];
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 600; i++) {
      const kind = i % 4;
      if (kind === 0) calls.push(t.gateway.chat({ model: 'glm-4.6', messages: user(`${i}`) }));
      if (kind === 1) calls.push(t.gateway.chat({ model: 'kimi-k2.6', messages: user('hang') }));
      if (kind === 2) calls.push(failingGateway.gateway.chat({ model: 'glm-4.6', messages: user('fail') }));
      if (kind === 3) {
        const c = new AbortController();
        controllers.push(c);
        calls.push(
          t.gateway.chat({
            model: 'kimi-k2.6',
            messages: user('cancel'),
            budget: Deadline.open({ parents: [c.signal] }),
          }),
        );
      }
    }
    setTimeout(() => {
      for (const c of controllers) c.abort(new Error('stop'));
    }, 20);
    const settled = await Promise.allSettled(calls);
    expect(settled.filter(s => s.status === 'fulfilled')).toHaveLength(150);

    t.close();
    failingGateway.close();
    await Promise.all([ok.close(), hang.close(), failing.close()]);
    expect(await settledHandles()).toEqual([]);
  });
});
