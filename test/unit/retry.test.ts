import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { type ErrorKind, ExaiError, type ExaiErrorDetails } from '../../src/errors.js';
import {
  backoffDelay,
  decideRetry,
  type RetryDecision,
  type RetryPolicyOptions,
  sleep,
} from '../../src/resilience/retry.js';

const options: RetryPolicyOptions = { maxRetries: 2, baseMs: 500, capMs: 8000 };
const half = () => 0.5;
const err = (kind: ErrorKind, details: ExaiErrorDetails = {}) =>
  new ExaiError(kind, `${kind} happened`, details);

describe('decideRetry', () => {
  test.each<[string, ExaiError, number, number, RetryDecision]>([
    [
      'retries 429 with retry-after within the remaining budget',
      err('rate_limited', { status: 429, retryAfterMs: 1200 }),
      0,
      10_000,
      { retry: true, delayMs: 1200, reason: 'retry_after' },
    ],
    [
      'fails now when retry-after exceeds the remaining budget',
      err('rate_limited', { status: 429, retryAfterMs: 30_000 }),
      0,
      2100,
      { retry: false, why: 'server asked to wait 30 s but only 2.1 s of budget remain' },
    ],
    [
      'fails now when retry-after leaves less than the minimum attempt budget',
      err('rate_limited', { retryAfterMs: 1000 }),
      0,
      1040,
      { retry: false, why: 'server asked to wait 1 s but only 1.04 s of budget remain' },
    ],
    [
      'honours a retry-after of zero',
      err('overloaded', { retryAfterMs: 0 }),
      1,
      5000,
      { retry: true, delayMs: 0, reason: 'retry_after' },
    ],
    [
      'backs off with full jitter on a 503',
      err('overloaded', { status: 503 }),
      1,
      10_000,
      { retry: true, delayMs: 500, reason: 'backoff' },
    ],
    [
      'does not retry 401',
      err('auth', { status: 401 }),
      0,
      10_000,
      { retry: false, why: 'auth is not retryable' },
    ],
    [
      'does not retry a non-retryable 429 (quota exhausted)',
      err('quota_exhausted', { status: 429 }),
      0,
      10_000,
      { retry: false, why: 'quota_exhausted is not retryable' },
    ],
    [
      'does not retry a stream that already forwarded content',
      err('stalled', { forwarded: true }),
      0,
      10_000,
      { retry: false, why: 'part of the answer already reached the caller' },
    ],
    [
      'stops when the retries are used up',
      err('network'),
      2,
      10_000,
      { retry: false, why: 'gave up after 3 attempts' },
    ],
    [
      'never retries a timeout, even one marked retryable',
      err('timeout', { retryable: true }),
      0,
      10_000,
      { retry: false, why: 'timeout is never retried' },
    ],
    [
      'never retries a cancellation',
      err('cancelled'),
      0,
      10_000,
      { retry: false, why: 'cancelled is never retried' },
    ],
    [
      'never retries an open circuit',
      err('circuit_open', { retryable: true }),
      0,
      10_000,
      { retry: false, why: 'circuit_open is never retried' },
    ],
    [
      'does not back off past the remaining budget',
      err('upstream_error', { status: 502 }),
      0,
      200,
      { retry: false, why: 'a backoff of 0.25 s would outlast the 0.2 s of budget remaining' },
    ],
    [
      'does not back off into the last few milliseconds of the budget',
      err('upstream_error', { status: 502 }),
      0,
      290,
      { retry: false, why: 'a backoff of 0.25 s would leave only 0.04 s of budget for the attempt' },
    ],
  ])('%s', (_name, error, retriesSoFar, remainingMs, expected) => {
    expect(decideRetry({ error, retriesSoFar, remainingMs, options, random: half })).toEqual(expected);
  });

  test('says "1 attempt" when no retry is allowed', () => {
    expect(
      decideRetry({
        error: err('network'),
        retriesSoFar: 0,
        remainingMs: 10_000,
        options: { ...options, maxRetries: 0 },
        random: half,
      }),
    ).toEqual({ retry: false, why: 'gave up after 1 attempt' });
  });
});

describe('backoffDelay', () => {
  /** mulberry32: a tiny seeded generator, so the jitter test is reproducible. */
  function seeded(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  test.each([
    [0, 500],
    [1, 1000],
    [3, 4000],
    [4, 8000],
    [10, 8000],
  ])('after %i retries stays within [0, %i) ms and spreads over the window', (retries, window) => {
    const random = seeded(42 + retries);
    const delays = Array.from({ length: 2000 }, () => backoffDelay(retries, options, random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(window);
    expect(Math.min(...delays)).toBeLessThan(window * 0.05);
    expect(Math.max(...delays)).toBeGreaterThan(window * 0.95);
  });

  test('is exactly random() times the capped window', () => {
    expect(backoffDelay(2, options, () => 0.25)).toBe(500);
    expect(backoffDelay(20, options, () => 0.5)).toBe(4000);
  });
});

describe('sleep', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('resolves after the delay and removes its abort listener', async () => {
    const controller = new AbortController();
    let done = false;
    const slept = sleep(1000, controller.signal).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await slept;
    expect(done).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  test('rejects promptly with the abort reason and clears its timer', async () => {
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    controller.abort(new ExaiError('timeout', 'workflow timed out after 600 s'));
    await expect(slept).rejects.toMatchObject({ kind: 'timeout', message: 'workflow timed out after 600 s' });
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  test('rejects at once on an already aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(sleep(1000, controller.signal)).rejects.toMatchObject({ kind: 'cancelled' });
    expect(vi.getTimerCount()).toBe(0);
  });
});
