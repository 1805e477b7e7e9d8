import { describe, expect, it } from 'vitest';
import { Deadline } from '../../src/resilience/deadline.js';
import { startFakeProvider } from '../fakes/fake-provider.js';
import { fakeProviderSuite, rejection, user } from '../helpers/gateway.js';

const suite = fakeProviderSuite();

const glm = (mode: string, env: Record<string, string> = {}, stream?: boolean) =>
  suite.gateway(
    { GLM_API_URL: `${suite.fake.url}/mode/${mode}/v1`, ...env },
    stream === undefined ? {} : { stream },
  );
const ask = (model = 'glm-4.6') => suite.t.gateway.chat({ model, messages: user('hello') });

describe('stall detection', () => {
  it.each(['comment', 'whitespace', 'empty'])(
    'a stream that drips %s but never content is stalled, retried, and ends by its idle budget',
    async kind => {
      glm(`drip,every=30,kind=${kind}`, {
        PROVIDER_FIRST_TOKEN_TIMEOUT_SECS: '0.3',
        PROVIDER_MAX_RETRIES: '1',
      });
      const started = performance.now();
      const error = await rejection(ask());
      expect(error.kind).toBe('stalled');
      expect(error.attempts).toBe(2);
      expect(suite.fake.stats().requestsByMode.drip).toBe(2);
      expect(performance.now() - started).toBeLessThan(3_000);
    },
  );

  it('a stream that goes quiet after content is stalled by the idle timeout and retried if nothing was forwarded', async () => {
    glm('slow,chunks=5,every=1000', { PROVIDER_IDLE_TIMEOUT_SECS: '0.2', PROVIDER_MAX_RETRIES: '1' });
    const error = await rejection(ask());
    expect(error.kind).toBe('stalled');
    expect(error.message).toMatch(/no new content for 0\.2 s/);
    expect(suite.fake.stats().requestsByMode.slow).toBe(2);
  });

  it('a stall after content reached the caller is not retried', async () => {
    glm('slow,chunks=5,every=1000', { PROVIDER_IDLE_TIMEOUT_SECS: '0.2', PROVIDER_MAX_RETRIES: '3' });
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const chunk of suite.t.gateway.stream({ model: 'glm-4.6', messages: user('hello') })) {
          if (chunk.type === 'content') seen.push(chunk.text);
        }
      })(),
    );
    expect(error.kind).toBe('stalled');
    expect(seen.length).toBeGreaterThan(0);
    expect(suite.fake.stats().requestsByMode.slow).toBe(1);
  });
});

describe('retries', () => {
  it.each([true, false])('retries 5xx with backoff and succeeds (stream=%s)', async stream => {
    glm('flaky,fail=2,code=503', {}, stream);
    const response = await ask();
    expect(response.content).toBe('echo: hello');
    expect(response.attempts).toBe(3);
  });

  it('honours retry-after-ms within the remaining budget', async () => {
    glm('ratelimit,ms=300');
    const started = performance.now();
    const response = await ask();
    expect(response.attempts).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('honours retry-after in seconds', async () => {
    glm('ratelimit,secs=1');
    const started = performance.now();
    const response = await ask();
    expect(response.attempts).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('fails at once when the server asks to wait longer than the budget left', async () => {
    glm('ratelimit,secs=30', { GLM_TIMEOUT_SECS: '2' });
    const started = performance.now();
    const error = await rejection(ask());
    expect(error.kind).toBe('rate_limited');
    expect(error.message).toMatch(/server asked to wait 30 s but only .* of budget remain/);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it.each([
    ['GLM 1302 concurrency', 'flaky,fail=1,code=429,flavor=glm,errcode=1302'],
    ['GLM 1305 traffic limit', 'flaky,fail=1,code=429,flavor=glm,errcode=1305'],
    ['GLM 1234 network error', 'flaky,fail=1,code=500,flavor=glm,errcode=1234'],
    ['Kimi engine overloaded', 'flaky,fail=1,code=429,flavor=kimi,type=engine_overloaded_error'],
    ['Kimi rate limit', 'flaky,fail=1,code=429,flavor=kimi,type=rate_limit_reached_error'],
    ['408', 'flaky,fail=1,code=408'],
  ])('retries %s', async (name, mode) => {
    const kimi = name.startsWith('Kimi');
    suite.gateway({ [kimi ? 'KIMI_API_URL' : 'GLM_API_URL']: `${suite.fake.url}/mode/${mode}/v1` });
    expect((await ask(kimi ? 'kimi-k2' : 'glm-4.6')).attempts).toBe(2);
  });

  it.each([
    ['400', 'status,code=400', 'bad_request'],
    ['401', 'status,code=401', 'auth'],
    ['403', 'status,code=403', 'auth'],
    ['404', 'status,code=404', 'not_found'],
    ['GLM 1301 content filter', 'status,code=400,flavor=glm,errcode=1301', 'content_filtered'],
    ['GLM 1113 arrears', 'status,code=429,flavor=glm,errcode=1113', 'quota_exhausted'],
    [
      'Kimi exhausted quota',
      'status,code=429,flavor=kimi,type=exceeded_current_quota_error',
      'quota_exhausted',
    ],
    ['Kimi content filter', 'status,code=400,flavor=kimi,type=content_filter', 'content_filtered'],
  ])('never retries %s', async (name, mode, kind) => {
    const kimi = name.startsWith('Kimi');
    suite.gateway({ [kimi ? 'KIMI_API_URL' : 'GLM_API_URL']: `${suite.fake.url}/mode/${mode}/v1` });
    const error = await rejection(ask(kimi ? 'kimi-k2' : 'glm-4.6'));
    expect(error.kind).toBe(kind);
    expect(error.retryable).toBe(false);
    expect(error.attempts).toBe(1);
    expect(suite.fake.requests).toHaveLength(1);
  });

  it('retries refused connections as network errors, up to PROVIDER_MAX_RETRIES', async () => {
    const closed = await startFakeProvider();
    const url = closed.url;
    await closed.close();
    suite.gateway({ GLM_API_URL: `${url}/v1`, PROVIDER_MAX_RETRIES: '2' });
    const error = await rejection(ask());
    expect(error.kind).toBe('network');
    expect(error.attempts).toBe(3);
  });

  it('an error object inside a stream is an error, not content', async () => {
    glm('streamerror,flavor=glm,errcode=1234', { PROVIDER_MAX_RETRIES: '0' });
    const error = await rejection(ask());
    expect(error.kind).toBe('network');
    expect(error.message).toMatch(/error in stream \[1234\]/);
  });

  it('malformed JSON is a protocol error', async () => {
    glm('malformed', { PROVIDER_MAX_RETRIES: '0' }, false);
    expect((await rejection(ask())).kind).toBe('protocol');
  });

  it('a stream cut mid-body after forwarding content is not retried', async () => {
    glm('reset,after=2', { PROVIDER_MAX_RETRIES: '3' });
    const error = await rejection(
      (async () => {
        for await (const _ of suite.t.gateway.stream({ model: 'glm-4.6', messages: user('hello') })) {
          // consume
        }
      })(),
    );
    expect(['network', 'protocol']).toContain(error.kind);
    expect(suite.fake.stats().requestsByMode.reset).toBe(1);
  });

  it('caller abort is final: no retry, no fallback, socket closed', async () => {
    suite.gateway({ GLM_API_URL: `${suite.fake.url}/mode/hang/v1`, KIMI_API_URL: `${suite.fake.url}/v1` });
    const controller = new AbortController();
    const call = rejection(
      suite.t.gateway.chat({
        model: 'glm-4.6',
        messages: user('x'),
        budget: Deadline.open({ parents: [controller.signal] }),
      }),
    );
    await suite.fake.waitForActive(1, 2_000).catch(() => undefined);
    while (suite.fake.stats().activeRequests < 1) await new Promise(r => setTimeout(r, 5));
    const started = performance.now();
    controller.abort('stop');
    const error = await call;
    expect(error.kind).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(200);
    await suite.fake.waitForActive(0, 1_000);
    expect(suite.fake.requests).toHaveLength(1);
  });
});
