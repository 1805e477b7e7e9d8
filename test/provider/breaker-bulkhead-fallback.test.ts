import { describe, expect, it } from 'vitest';
import { Deadline } from '../../src/resilience/deadline.js';
import { fakeProviderSuite, rejection, TEST_KEY, user } from '../helpers/gateway.js';

const suite = fakeProviderSuite();

const ask = (model = 'glm-4.6', extra: Record<string, unknown> = {}) =>
  suite.t.gateway.chat({ model, messages: user('hello'), ...extra });
const glmBreaker = () => suite.t.gateway.status().find(s => s.provider === 'glm')!.breaker;

describe('circuit breaker per provider', () => {
  it('opens after consecutive failures, fails fast saying until when, then a probe closes it', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/flaky,fail=3,code=500/v1`,
      PROVIDER_MAX_RETRIES: '0',
      BREAKER_FAILURE_THRESHOLD: '3',
      BREAKER_RESET_SECS: '0.3',
      FALLBACK_ON_FAILURE: 'false',
    });
    for (let i = 0; i < 3; i++) expect((await rejection(ask())).kind).toBe('upstream_error');
    expect(glmBreaker().state).toBe('open');

    const started = performance.now();
    const fast = await rejection(ask());
    expect(performance.now() - started).toBeLessThan(50);
    expect(fast.kind).toBe('circuit_open');
    expect(fast.message).toMatch(/GLM circuit breaker is open until \d\d:\d\d:\d\d/);
    expect(fast.retryAt).toBeGreaterThan(Date.now());
    expect(suite.fake.requests).toHaveLength(3);

    await new Promise(r => setTimeout(r, 350));
    expect((await ask()).content).toBe('echo: hello');
    const snapshot = glmBreaker();
    expect(snapshot.state).toBe('closed');
    expect(snapshot.transitions.map(x => x.to)).toEqual(['open', 'half_open', 'closed']);
  });

  it.each([
    ['auth', 'status,code=401'],
    ['balance', 'status,code=429,flavor=glm,errcode=1113'],
  ])('an %s failure opens it at once', async (_name, mode) => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/${mode}/v1`,
      BREAKER_FAILURE_THRESHOLD: '5',
      FALLBACK_ON_FAILURE: 'false',
    });
    await rejection(ask());
    expect(glmBreaker().state).toBe('open');
    expect((await rejection(ask())).kind).toBe('circuit_open');
    expect(suite.fake.requests).toHaveLength(1);
  });

  it('bad requests do not count against the provider', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/status,code=400/v1`,
      BREAKER_FAILURE_THRESHOLD: '2',
    });
    for (let i = 0; i < 4; i++) await rejection(ask());
    expect(glmBreaker().state).toBe('closed');
  });
});

describe('local failures', () => {
  // What JSON.stringify does with a body past V8's string limit (~512 MB), without allocating one.
  const unserialisable = () => [
    {
      role: 'user' as const,
      content: {
        toJSON() {
          throw new RangeError('Invalid string length');
        },
      } as unknown as string,
    },
  ];

  it('a body that cannot be serialised fails once as local: no retry, no breaker, no fallback', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/v1`,
      KIMI_API_URL: `${suite.fake.url}/v1`,
      BREAKER_FAILURE_THRESHOLD: '2',
      FALLBACK_ON_FAILURE: 'true',
    });
    for (let i = 0; i < 5; i++) {
      const error = await rejection(suite.t.gateway.chat({ model: 'glm-4.6', messages: unserialisable() }));
      expect(error).toMatchObject({ kind: 'local', retryable: false, attempts: 1, provider: 'glm' });
      expect(error.message).toMatch(
        /^GLM glm-4\.6: request not sent: its body could not be serialised \(Invalid string length\)/,
      );
    }
    expect(suite.fake.requests).toHaveLength(0);
    expect(glmBreaker()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    expect(suite.t.logs.filter(l => l.event === 'fallback')).toHaveLength(0);
    // Other callers are unaffected.
    expect((await ask()).content).toBe('echo: hello');
  });

  it('a body over PROVIDER_MAX_REQUEST_BYTES is refused locally with the limit named', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/v1`,
      PROVIDER_MAX_REQUEST_BYTES: '2048',
      BREAKER_FAILURE_THRESHOLD: '1',
    });
    const error = await rejection(
      suite.t.gateway.chat({ model: 'glm-4.6', messages: user('x'.repeat(4_000)) }),
    );
    expect(error).toMatchObject({ kind: 'local', attempts: 1 });
    expect(error.message).toMatch(
      /^GLM glm-4\.6: request not sent: its body is \d KiB, over the 2 KiB limit \(PROVIDER_MAX_REQUEST_BYTES\)/,
    );
    expect(suite.fake.requests).toHaveLength(0);
    expect(glmBreaker().state).toBe('closed');
    expect((await ask()).content).toBe('echo: hello');
  });
});

describe('bulkhead per provider', () => {
  it('never has more calls in flight upstream than GLM_MAX_CONCURRENCY', async () => {
    suite.gateway({ GLM_API_URL: `${suite.fake.url}/mode/delay,ms=100/v1`, GLM_MAX_CONCURRENCY: '3' });
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, suite.fake.stats().activeRequests);
    }, 2);
    try {
      const responses = await Promise.all(Array.from({ length: 12 }, () => ask()));
      expect(responses).toHaveLength(12);
    } finally {
      clearInterval(sampler);
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('time waiting in the queue counts against the deadline', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/hang/v1`,
      GLM_MAX_CONCURRENCY: '1',
      GLM_TIMEOUT_SECS: '0.4',
      FALLBACK_ON_FAILURE: 'false',
    });
    const first = rejection(ask());
    const second = rejection(ask());
    const started = performance.now();
    const [a, b] = await Promise.all([first, second]);
    expect(a.kind).toBe('timeout');
    expect(b.kind).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(suite.fake.requests).toHaveLength(1);
  });
});

describe('fallback to the other provider', () => {
  it('falls back to the equivalent model when the provider is overloaded, and says so', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/status,code=429,flavor=glm,errcode=1305/v1`,
      KIMI_API_URL: `${suite.fake.url}/v1`,
      FALLBACK_ON_FAILURE: 'true',
      PROVIDER_MAX_RETRIES: '1',
    });
    const events: string[] = [];
    const response = await ask('glm-4.6', { onEvent: (e: { type: string }) => events.push(e.type) });
    expect(response.provider).toBe('kimi');
    expect(response.model).toBe('kimi-k2.6');
    expect(response.fallbackFrom).toMatchObject({ provider: 'glm', model: 'glm-4.6', reason: 'overloaded' });
    expect(events).toContain('fallback');
  });

  it('falls back after a provider timeout when the caller budget remains', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/hang/v1`,
      KIMI_API_URL: `${suite.fake.url}/v1`,
      GLM_TIMEOUT_SECS: '0.3',
      FALLBACK_ON_FAILURE: 'true',
    });
    const response = await ask('glm-4.6', { budget: Deadline.start(3_000) });
    expect(response.fallbackFrom?.reason).toBe('timeout');
    expect(response.provider).toBe('kimi');
  });

  it('a hung primary leaves the fallback room: the answer comes well within the budget', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/hang/v1`,
      KIMI_API_URL: `${suite.fake.url}/v1`,
      GLM_TIMEOUT_SECS: '3',
      FALLBACK_ON_FAILURE: 'true',
    });
    const started = performance.now();
    // No budget of its own: the whole call may take GLM_TIMEOUT_SECS, of which GLM gets 60 %.
    const response = await ask('glm-4.6');
    const elapsed = performance.now() - started;
    expect(response.provider).toBe('kimi');
    expect(response.fallbackFrom).toMatchObject({ reason: 'timeout' });
    expect(response.fallbackFrom?.message).toMatch(/no answer within 1\.8 s, its 60 % share of the budget/);
    expect(elapsed).toBeGreaterThan(1_500);
    expect(elapsed).toBeLessThan(2_800);
  });

  it('a primary that is answering may use the whole budget, past its share', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/slow,chunks=8,every=200/v1`,
      KIMI_API_URL: `${suite.fake.url}/v1`,
      GLM_TIMEOUT_SECS: '2.5',
      FALLBACK_ON_FAILURE: 'true',
    });
    // 1.6 s of streaming against a 1.5 s share: cut at the share, it would fall back.
    const response = await ask('glm-4.6');
    expect(response.provider).toBe('glm');
    expect(response.fallbackFrom).toBeUndefined();
  });

  it('FALLBACK_RESERVE_FRACTION=0 gives the primary the whole budget', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/hang/v1`,
      KIMI_API_URL: `${suite.fake.url}/v1`,
      GLM_TIMEOUT_SECS: '0.6',
      FALLBACK_ON_FAILURE: 'true',
      FALLBACK_RESERVE_FRACTION: '0',
    });
    const error = await rejection(ask('glm-4.6'));
    expect(error.kind).toBe('timeout');
    expect(suite.fake.requests.every(r => r.mode === 'hang')).toBe(true);
  });

  it('falls back when the primary provider has no key', async () => {
    suite.gateway({ GLM_API_KEY: '', KIMI_API_URL: `${suite.fake.url}/v1`, FALLBACK_ON_FAILURE: 'true' });
    const response = await ask('glm-4.6');
    expect(response.fallbackFrom?.reason).toBe('not_configured');
  });

  it('does not fall back when FALLBACK_ON_FAILURE is off, or for a bad request', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/status,code=503/v1`,
      KIMI_API_URL: `${suite.fake.url}/v1`,
      FALLBACK_ON_FAILURE: 'false',
      PROVIDER_MAX_RETRIES: '0',
    });
    expect((await rejection(ask())).kind).toBe('overloaded');
    suite.t.close();
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/status,code=400/v1`,
      KIMI_API_URL: `${suite.fake.url}/v1`,
      FALLBACK_ON_FAILURE: 'true',
    });
    expect((await rejection(ask())).kind).toBe('bad_request');
    expect(suite.fake.requests.every(r => r.mode !== 'ok')).toBe(true);
  });

  it('reports both failures when the fallback fails too', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/status,code=503/v1`,
      KIMI_API_URL: `${suite.fake.url}/mode/status,code=503/v1`,
      PROVIDER_MAX_RETRIES: '0',
      FALLBACK_ON_FAILURE: 'true',
    });
    const error = await rejection(ask());
    expect(error.message).toMatch(/GLM glm-4\.6.*fallback to kimi-k2\.6 failed too: Kimi/);
  });
});

describe('observability and secrecy', () => {
  it('logs one event per attempt with duration and outcome, and rolls latency stats', async () => {
    suite.gateway({ GLM_API_URL: `${suite.fake.url}/mode/flaky,fail=1,code=503/v1` });
    await ask();
    const attempts = suite.t.logs.filter(l => l.event === 'attempt_end');
    expect(attempts.map(a => a.outcome)).toEqual(['overloaded', 'ok']);
    expect(attempts.every(a => typeof a.ms === 'number')).toBe(true);
    expect(suite.t.logs.filter(l => l.event === 'attempt_start')).toHaveLength(2);
    const stats = suite.t.gateway.status().find(s => s.provider === 'glm')!.stats;
    expect(stats.calls).toBe(1);
    expect(stats.retries).toBe(1);
    expect(stats.latencyMs.p50).toBeGreaterThan(0);
    expect(stats.byModel['glm-4.6']?.outcomes.ok).toBe(1);
  });

  it('never writes the API key into errors, logs or responses', async () => {
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/status,code=401/v1`,
      KIMI_API_URL: `${suite.fake.url}/mode/status,code=401/v1`,
      FALLBACK_ON_FAILURE: 'true',
    });
    const error = await rejection(ask());
    expect(suite.fake.requests[0]?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    expect(JSON.stringify(error)).not.toContain(TEST_KEY);
    expect(error.message).not.toContain(TEST_KEY);
    expect(suite.t.logText()).not.toContain(TEST_KEY);
    expect(JSON.stringify(suite.t.gateway.status())).not.toContain(TEST_KEY);
  });
});
