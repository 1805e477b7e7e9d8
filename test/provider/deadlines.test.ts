import { describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { Deadline } from '../../src/resilience/deadline.js';
import { fakeProviderSuite, rejection, user } from '../helpers/gateway.js';

const suite = fakeProviderSuite();

const gc = () => (globalThis as { gc?: () => void }).gc?.();

describe('deadline hierarchy', () => {
  it.each([true, false])(
    'a hanging provider times out at its deadline and its socket closes (stream=%s)',
    async stream => {
      suite.gateway({ GLM_API_URL: `${suite.fake.url}/mode/hang/v1`, GLM_TIMEOUT_SECS: '0.5' }, { stream });
      const started = performance.now();
      const error = await rejection(suite.t.gateway.chat({ model: 'glm-4.6', messages: user('hi') }));
      const elapsed = performance.now() - started;
      expect(error.kind).toBe('timeout');
      expect(error.message).toMatch(/GLM glm-4\.6 call timed out after 0\.5 s/);
      expect(elapsed).toBeGreaterThanOrEqual(450);
      expect(elapsed).toBeLessThan(2_000);
      await suite.fake.waitForActive(0, 2_000);
    },
  );

  it('deadlines fire under forced garbage collection while calls are pending', async () => {
    // All 20 in flight at once (not queued behind a small concurrency limit).
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/mode/hang/v1`,
      GLM_TIMEOUT_SECS: '0.4',
      GLM_MAX_CONCURRENCY: '32',
    });
    const calls = Array.from({ length: 20 }, () =>
      rejection(suite.t.gateway.chat({ model: 'glm-4.6', messages: user('x') })),
    );
    const collector = setInterval(gc, 20);
    try {
      const started = performance.now();
      const errors = await Promise.all(calls);
      expect(errors.every(e => e.kind === 'timeout')).toBe(true);
      expect(performance.now() - started).toBeLessThan(3_000);
    } finally {
      clearInterval(collector);
    }
    await suite.fake.waitForActive(0, 2_000);
  });

  it('a child call gets min(its own budget, the parent remaining) and reports the parent running out', async () => {
    suite.gateway({ GLM_API_URL: `${suite.fake.url}/mode/hang/v1`, GLM_TIMEOUT_SECS: '5' });
    const expert = Deadline.start(300, { label: 'expert analysis' });
    try {
      const started = performance.now();
      const error = await rejection(
        suite.t.gateway.chat({ model: 'glm-4.6', messages: user('hi'), budget: expert }),
      );
      expect(error.kind).toBe('timeout');
      expect(error.message).toMatch(/expert analysis timed out/);
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      expert.dispose();
    }
  });

  it('a call longer than 300 s completes when its budget allows (no hidden transport timeout)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
    try {
      suite.gateway({
        GLM_API_URL: `${suite.fake.url}/mode/delay,ms=310000/v1`,
        GLM_TIMEOUT_SECS: '400',
        EXPERT_ANALYSIS_TIMEOUT_SECS: '450',
        WORKFLOW_TOOL_TIMEOUT_SECS: '500',
        PROVIDER_FIRST_TOKEN_TIMEOUT_SECS: '400',
      });
      const call = suite.t.gateway.chat({ model: 'glm-4.6', messages: user('slow thinker') });
      await vi.waitFor(() => expect(suite.fake.stats().activeRequests).toBe(1), {
        timeout: 2_000,
        interval: 10,
      });
      await vi.advanceTimersByTimeAsync(305_000);
      expect(suite.fake.stats().activeRequests).toBe(1);
      await vi.advanceTimersByTimeAsync(6_000);
      const response = await call;
      expect(response.content).toBe('echo: slow thinker');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a child budget larger than its parent is a startup error naming both variables', () => {
    expect(() => loadConfig({ envFile: false, env: { GLM_TIMEOUT_SECS: '500' } })).toThrow(ConfigError);
    expect(() => loadConfig({ envFile: false, env: { GLM_TIMEOUT_SECS: '500' } })).toThrow(
      /GLM_TIMEOUT_SECS=500 exceeds EXPERT_ANALYSIS_TIMEOUT_SECS=480/,
    );
    expect(() => loadConfig({ envFile: false, env: { EXPERT_ANALYSIS_TIMEOUT_SECS: '601' } })).toThrow(
      /EXPERT_ANALYSIS_TIMEOUT_SECS=601 exceeds WORKFLOW_TOOL_TIMEOUT_SECS=600/,
    );
  });

  it('decimal seconds are accepted and bad values name the variable', () => {
    expect(loadConfig({ envFile: false, env: { KIMI_TIMEOUT_SECS: '1.25' } }).kimiTimeoutSecs).toBe(1.25);
    expect(() => loadConfig({ envFile: false, env: { KIMI_TIMEOUT_SECS: 'soon' } })).toThrow(
      /KIMI_TIMEOUT_SECS="soon"/,
    );
  });
});

describe('sockets after timeouts and cancels', () => {
  it('aborting many requests waiting for headers on a multi-connection pool closes every one of their sockets', async () => {
    // Both providers share one pool and one origin; only the path picks the fake's behaviour.
    suite.gateway({
      GLM_API_URL: `${suite.fake.url}/v1`,
      KIMI_API_URL: `${suite.fake.url}/mode/hang/v1`,
      GLM_MAX_CONCURRENCY: '8',
      KIMI_MAX_CONCURRENCY: '8',
    });
    // Warm the pool so it holds several idle keep-alive connections to the same origin.
    await Promise.all(
      Array.from({ length: 4 }, () => suite.t.gateway.chat({ model: 'glm-4.6', messages: user('warm') })),
    );
    const idle = suite.fake.stats().openSockets;
    expect(idle).toBeGreaterThanOrEqual(1);

    const controller = new AbortController();
    const hung = Array.from({ length: 8 }, () =>
      rejection(
        suite.t.gateway.chat({
          model: 'kimi-k2',
          messages: user('x'),
          budget: Deadline.open({ parents: [controller.signal] }),
        }),
      ),
    );
    await vi.waitFor(() => expect(suite.fake.stats().activeRequests).toBe(8), {
      timeout: 3_000,
      interval: 10,
    });
    controller.abort(new Error('user pressed stop'));
    const errors = await Promise.all(hung);
    expect(errors.every(e => e.kind === 'cancelled')).toBe(true);
    await suite.fake.waitForActive(0, 2_000);
    await suite.fake.waitForOpenSockets(idle, 2_000);
  });
});
