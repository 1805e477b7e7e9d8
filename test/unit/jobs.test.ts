/**
 * The job registry on its own: who joins, who starts, what a cancel does and when a job nobody collects
 * ends. Work functions are promises the test settles; the timers are real and short.
 */
import { describe, expect, it, vi } from 'vitest';
import { isClientTimeout } from '../../src/jobs/cancel.js';
import { isJobPending } from '../../src/jobs/pending.js';
import { createJobRegistry, type JobRequest } from '../../src/jobs/registry.js';
import { softBudget } from '../../src/jobs/soft-budget.js';
import { describeJob, type JobView } from '../../src/jobs/view.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { ChatResponse } from '../../src/providers/types.js';
import type { Deadline } from '../../src/resilience/deadline.js';

function answer(content: string): ChatResponse {
  return {
    content,
    reasoningContent: '',
    usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 },
    finishReason: 'stop',
    model: 'm',
    provider: 'glm',
    attempts: 1,
    elapsedMs: 5,
  };
}

/** A job whose answer the test gives, and whose deadline signal the test can watch. */
function controllable(hash = 'h', thread = 't1') {
  let release: (value: ChatResponse) => void = () => {};
  const seen: { starts: number; deadline?: Deadline } = { starts: 0 };
  const request: JobRequest = {
    key: { thread, tool: 'chat', step: 'chat', hash },
    model: 'm',
    budgetMs: 10_000,
    label: 'test job',
    work: deadline => {
      seen.starts++;
      seen.deadline = deadline;
      return new Promise<ChatResponse>((resolve, reject) => {
        release = resolve;
        deadline.signal.addEventListener('abort', () => reject(deadline.signal.reason), { once: true });
      });
    },
  };
  return {
    request,
    seen,
    /** Answers once the work has started (a run starts its work after a turn of the event loop). */
    release: async (text: string, starts = 1) => {
      await vi.waitFor(() => expect(seen.starts).toBe(starts), { interval: 5 });
      release(answer(text));
    },
  };
}

const registry = (graceMs = 10_000) =>
  createJobRegistry({ graceMs, resultTtlMs: 60_000, logger: silentLogger() });

describe('job registry', () => {
  it('a second identical call joins the running job; one start', async () => {
    const jobs = registry();
    const job = controllable();
    const a = jobs.run(job.request, { signal: new AbortController().signal });
    const b = jobs.run(job.request, { signal: new AbortController().signal });
    await job.release('one');
    const [ra, rb] = await Promise.all([a, b]);
    expect([ra.share, rb.share]).toEqual(['started', 'joined']);
    expect(rb.value.content).toBe('one');
    expect(job.seen.starts).toBe(1);
    jobs.close();
  });

  it('answers JobPending when the soft budget ends, and the next call collects the same job', async () => {
    const jobs = registry();
    const job = controllable();
    const ctx = {};
    jobs.begin(ctx, { ms: 50, reason: 'test' });
    const first = await jobs.run(job.request, { ctx, signal: new AbortController().signal }).catch(e => e);
    expect(isJobPending(first)).toBe(true);
    expect(jobs.running).toBe(1);
    await job.release('late');
    const again = {};
    jobs.begin(again, { ms: 50, reason: 'test' });
    const second = await jobs.run(job.request, { ctx: again, signal: new AbortController().signal });
    expect(second.value.content).toBe('late');
    expect(job.seen.starts).toBe(1);
    expect(jobs.live).toBe(0);
    jobs.close();
  });

  it('an explicit cancel by the only caller cancels the job at once', async () => {
    const jobs = registry();
    const job = controllable();
    const caller = new AbortController();
    const call = jobs.run(job.request, { signal: caller.signal });
    caller.abort('the user pressed Esc');
    await expect(call).rejects.toThrow(/cancelled/);
    expect(job.seen.deadline?.signal.aborted).toBe(true);
    expect(jobs.running).toBe(0);
  });

  it("a client's timeout leaves the job running for the grace period, then cancels it", async () => {
    const jobs = registry(100);
    const job = controllable();
    const caller = new AbortController();
    const call = jobs.run(job.request, { signal: caller.signal });
    caller.abort('SdkError: Request timed out');
    await expect(call).rejects.toThrow();
    expect(job.seen.deadline?.signal.aborted).toBe(false);
    expect(jobs.live).toBe(1);
    await new Promise(resolve => setTimeout(resolve, 300));
    expect(job.seen.deadline?.signal.aborted).toBe(true);
    expect(String(job.seen.deadline?.signal.reason)).toMatch(/grace period/);
    expect(jobs.live).toBe(0);
  });

  it('changed content for the same step starts a new job and cancels the old one', async () => {
    const jobs = registry();
    const old = controllable('h1');
    const fresh = controllable('h2');
    const first = jobs.run({ ...old.request, exclusive: true }, { signal: new AbortController().signal });
    const second = jobs.run({ ...fresh.request, exclusive: true }, { signal: new AbortController().signal });
    await expect(first).rejects.toThrow(/replaced by a changed chat request/);
    await fresh.release('new');
    expect((await second).value.content).toBe('new');
    jobs.close();
  });

  it('a once job is handed out once: the next identical call starts afresh', async () => {
    const jobs = registry();
    const job = controllable();
    const request = { ...job.request, once: true };
    const first = jobs.run(request, { signal: new AbortController().signal });
    await job.release('first');
    await first;
    const second = jobs.run(request, { signal: new AbortController().signal });
    await job.release('second', 2);
    expect((await second).value.content).toBe('second');
    expect(job.seen.starts).toBe(2);
    jobs.close();
  });
});

describe('soft budget', () => {
  it.each([
    ['claude-code', 100],
    ['claude-ai', 45],
    ['codex-mcp-client', 50],
    ['cursor-vscode', 50],
    [undefined, 50],
  ])('client %s gets %i s', (client, secs) => {
    const budget = softBudget(client, undefined);
    expect(budget.ms).toBe(secs * 1000);
    expect(budget.reason).toContain(`${secs} s`);
  });

  it('EXAI_SOFT_RETURN_SECS wins, and 0 turns soft return off', () => {
    expect(softBudget('claude-code', 7)).toMatchObject({ ms: 7000, reason: 'EXAI_SOFT_RETURN_SECS=7' });
    expect(softBudget('claude-code', 0).ms).toBe(0);
  });
});

describe('cancel reasons', () => {
  it.each([
    ['SdkError: Request timed out', true],
    ['McpError: MCP error -32001: Request timed out', true],
    ['AbortError: This operation was aborted', false],
    ['the user pressed Esc', false],
    [undefined, false],
  ])('%s is a client timeout: %s', (reason, expected) => {
    expect(isClientTimeout(reason)).toBe(expected);
  });
});

describe('job descriptions', () => {
  const base: JobView = {
    id: 'j',
    tool: 'thinkdeep',
    model: 'glm-5.1',
    phase: 'thinking',
    elapsed_s: 74.2,
    attempt: 1,
    reasoning_tokens: 1820,
    output_tokens: 0,
    started_at: new Date(0).toISOString(),
    collected: false,
  };
  it('say what the model is doing, in words', () => {
    expect(describeJob(base)).toBe('glm-5.1 thinking, 74 s, 1,820 reasoning tokens');
    expect(describeJob({ ...base, phase: 'answering', output_tokens: 640 })).toBe(
      'glm-5.1 answering, 640 tokens, 74 s',
    );
    expect(describeJob({ ...base, phase: 'retrying', attempt: 2, note: 'attempt 2 after a stall' })).toBe(
      'attempt 2 after a stall, 74 s',
    );
  });
});
