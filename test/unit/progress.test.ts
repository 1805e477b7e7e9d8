import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobView } from '../../src/jobs/view.js';
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
    expect(sent[0]?.message).toBe('chat: glm-4.6 starting, 0.0 s');
    advance(4_999);
    expect(sent).toHaveLength(1);
    advance(1);
    expect(sent).toHaveLength(2);
    advance(15_000);
    expect(sent).toHaveLength(5);
    expect(sent.map(p => p.progress)).toEqual([1, 2, 3, 4, 5]);
    expect(sent[4]?.message).toBe('chat: glm-4.6 starting, 20 s');
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

  it('says what the job is doing in words, at once for retries, fallbacks and searches', () => {
    const progress = reporter({ intervalMs: 1_000 });
    let job: JobView = {
      id: 'j',
      tool: 'chat',
      model: 'glm-5.1',
      phase: 'thinking',
      elapsed_s: 74,
      attempt: 1,
      reasoning_tokens: 1820,
      output_tokens: 0,
      started_at: new Date(0).toISOString(),
      collected: false,
    };
    progress.watch(() => job);
    advance(1_000);
    job = { ...job, phase: 'retrying', attempt: 2, note: 'attempt 2 after a stall' };
    progress.onEvent({ type: 'attempt_start', provider: 'glm', model: 'glm-5.1', attempt: 2 });
    job = { ...job, phase: 'falling_back', model: 'kimi-k2.6', note: 'falling back to kimi-k2.6' };
    progress.onEvent({
      type: 'fallback',
      from: { provider: 'glm', model: 'glm-5.1' },
      to: { provider: 'kimi', model: 'kimi-k2.6' },
      reason: 'timeout',
    });
    // Tokens arriving wait for the next heartbeat.
    const { note: _, ...rest } = job;
    job = { ...rest, phase: 'answering', output_tokens: 640, elapsed_s: 90 };
    progress.onEvent({ type: 'delta', channel: 'content', text: 'x'.repeat(40) });
    advance(1_000);
    expect(sent.map(p => p.message)).toEqual([
      'chat: glm-4.6 starting, 0.0 s',
      'chat: glm-5.1 thinking, 74 s, 1,820 reasoning tokens',
      'chat: attempt 2 after a stall, 74 s',
      'chat: falling back to kimi-k2.6, 74 s',
      'chat: kimi-k2.6 answering, 640 tokens, 90 s',
    ]);
    expect(sent.map(p => p.progress)).toEqual([1, 2, 3, 4, 5]);
    progress.stop();
  });

  it('reports several jobs of one call side by side (consensus)', () => {
    const progress = reporter({ tool: 'consensus' });
    const base: JobView = {
      id: 'a',
      tool: 'consensus',
      model: 'glm-5.1',
      phase: 'thinking',
      elapsed_s: 10,
      attempt: 1,
      reasoning_tokens: 100,
      output_tokens: 0,
      started_at: new Date(0).toISOString(),
      collected: false,
    };
    progress.watch(() => base);
    progress.watch(() => ({ ...base, id: 'b', model: 'kimi-k2.6', phase: 'answering', output_tokens: 20 }));
    progress.onEvent({ type: 'web_search', iteration: 1 });
    expect(sent.at(-1)?.message).toBe(
      'consensus: glm-5.1 thinking, 10 s, 100 reasoning tokens; kimi-k2.6 answering, 20 tokens, 10 s',
    );
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
