import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ProgressParams, startProgress } from '../../src/server/progress.js';

let sent: ProgressParams[];
let clock: number;

function reporter(overrides: Partial<Parameters<typeof startProgress>[0]> = {}) {
  return startProgress({
    tool: 'chat',
    model: 'glm-4.6',
    token: 'tok-1',
    intervalMs: 5_000,
    now: () => clock,
    send: async params => {
      sent.push(params);
    },
    ...overrides,
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  sent = [];
  clock = 0;
});

afterEach(() => {
  vi.useRealTimers();
});

function advance(ms: number): void {
  clock += ms;
  vi.advanceTimersByTime(ms);
}

describe('progress heartbeat', () => {
  it('sends at once, then at least every interval, with strictly increasing progress', () => {
    const progress = reporter();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ progressToken: 'tok-1', progress: 1 });
    expect(sent[0]?.message).toBe('chat · glm-4.6: started · 0.0 s elapsed');
    advance(4_999);
    expect(sent).toHaveLength(1);
    advance(1);
    expect(sent).toHaveLength(2);
    advance(15_000);
    expect(sent).toHaveLength(5);
    expect(sent.map(p => p.progress)).toEqual([1, 2, 3, 4, 5]);
    expect(sent[4]?.message).toBe('chat · glm-4.6: waiting for the model · 20 s elapsed');
    progress.stop();
  });

  it('stops for good: no heartbeat and no event message after stop()', () => {
    const progress = reporter();
    progress.stop();
    progress.stop();
    advance(60_000);
    progress.onEvent({
      type: 'retry',
      provider: 'glm',
      model: 'glm-4.6',
      attempt: 1,
      delayMs: 500,
      reason: 'rate_limited',
    });
    expect(sent).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends nothing and starts no timer without a progress token', () => {
    const progress = reporter({ token: undefined });
    advance(60_000);
    progress.onEvent({ type: 'attempt_start', provider: 'glm', model: 'glm-4.6', attempt: 2 });
    expect(sent).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    progress.stop();
  });

  it('reports attempts, retries, fallbacks, web searches and tokens received', () => {
    const progress = reporter({ intervalMs: 1_000 });
    progress.onEvent({ type: 'attempt_start', provider: 'glm', model: 'glm-4.6', attempt: 1 });
    progress.onEvent({
      type: 'retry',
      provider: 'glm',
      model: 'glm-4.6',
      attempt: 1,
      delayMs: 1_500,
      reason: 'overloaded',
    });
    progress.onEvent({ type: 'attempt_start', provider: 'glm', model: 'glm-4.6', attempt: 2 });
    progress.onEvent({
      type: 'fallback',
      from: { provider: 'glm', model: 'glm-4.6' },
      to: { provider: 'kimi', model: 'kimi-k2.6' },
      reason: 'timeout',
    });
    progress.onEvent({ type: 'web_search', iteration: 1 });
    progress.onEvent({ type: 'delta', channel: 'content', text: 'x'.repeat(350) });
    advance(1_000);
    const messages = sent.map(p => p.message);
    expect(messages[1]).toContain('attempt 1 failed (overloaded); retrying in 1.5 s');
    expect(messages[2]).toBe('chat · glm-4.6: attempt 2 started · 0.0 s elapsed · attempt 2');
    expect(messages[3]).toContain('chat · kimi-k2.6: glm-4.6 unavailable (timeout); falling back');
    expect(messages[4]).toContain('web search round 1');
    expect(messages[5]).toBe(
      'chat · kimi-k2.6: receiving the answer · 1.0 s elapsed · attempt 2 · ~100 tokens so far',
    );
    expect(sent.map(p => p.progress)).toEqual([1, 2, 3, 4, 5, 6]);
    progress.stop();
  });

  it('a failed send is reported, not thrown, and the heartbeat goes on', async () => {
    const errors: unknown[] = [];
    const progress = reporter({
      intervalMs: 100,
      send: async () => {
        throw new Error('connection closed');
      },
      onSendError: error => errors.push(error),
    });
    advance(100);
    await vi.runAllTicks();
    await Promise.resolve();
    expect(errors.length).toBeGreaterThanOrEqual(1);
    progress.stop();
  });

  it('never sends faster than every 10 ms, whatever the setting', () => {
    const progress = reporter({ intervalMs: 0 });
    advance(100);
    expect(sent.length).toBeLessThanOrEqual(11);
    progress.stop();
  });
});
