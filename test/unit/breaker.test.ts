import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { type ErrorKind, ExaiError } from '../../src/errors.js';
import { createBreaker, type ProviderBreaker } from '../../src/resilience/breaker.js';

const START = Date.parse('2025-11-20T12:00:00Z');
const fail =
  (kind: ErrorKind, message = `${kind} happened`) =>
  () =>
    Promise.reject(new ExaiError(kind, message));
const ok = () => Promise.resolve('ok');
const never = () => new AbortController().signal;

async function failTimes(breaker: ProviderBreaker, n: number, kind: ErrorKind = 'overloaded') {
  for (let i = 0; i < n; i++)
    await expect(breaker.execute(fail(kind), never())).rejects.toMatchObject({ kind });
}

describe('provider circuit breaker', () => {
  let breaker: ProviderBreaker;
  beforeEach(() => {
    vi.useFakeTimers({ now: START });
    breaker = createBreaker({ name: 'GLM', threshold: 3, resetMs: 30_000 });
  });
  afterEach(() => {
    breaker.dispose();
    vi.useRealTimers();
  });

  test('stays closed below the threshold and opens at it', async () => {
    await failTimes(breaker, 2);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 2 });
    await failTimes(breaker, 1);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', consecutiveFailures: 3 });
  });

  test('a call admitted before the breaker opened fails fast when it gets to send; the probe does not', async () => {
    const admittedWhileClosed = breaker.generation();
    await failTimes(breaker, 3);
    expect(() => breaker.ensureNotOpen(admittedWhileClosed)).toThrow(/circuit breaker is open until/);
    vi.advanceTimersByTime(30_000);
    const probe = breaker.generation();
    await expect(
      breaker.execute(async () => {
        breaker.ensureNotOpen(probe);
        return 'probed';
      }, never()),
    ).resolves.toBe('probed');
    expect(breaker.snapshot().state).toBe('closed');
    expect(() => breaker.ensureNotOpen(admittedWhileClosed)).not.toThrow();
  });

  test('a success resets the consecutive count', async () => {
    await failTimes(breaker, 2);
    await expect(breaker.execute(ok, never())).resolves.toBe('ok');
    await failTimes(breaker, 2);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 2 });
  });

  test('fails fast while open with retryAt and a message saying until when and why', async () => {
    await failTimes(breaker, 3, 'overloaded');
    vi.advanceTimersByTime(5000);
    const fn = vi.fn(ok);
    const error = await breaker.execute(fn, never()).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(ExaiError);
    const retryAt = START + 30_000;
    const until = new Date(retryAt).toTimeString().slice(0, 8);
    expect(error).toMatchObject({
      kind: 'circuit_open',
      retryable: false,
      provider: 'GLM',
      retryAt,
      message: `GLM circuit breaker is open until ${until} (3 consecutive failures; last: overloaded: overloaded happened); failing fast`,
    });
  });

  test('half-opens after resetMs and a successful probe closes it', async () => {
    await failTimes(breaker, 3);
    vi.advanceTimersByTime(30_000);
    await expect(breaker.execute(ok, never())).resolves.toBe('ok');
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    await expect(breaker.execute(ok, never())).resolves.toBe('ok');
  });

  test('lets exactly one probe through and fails the others fast while it runs', async () => {
    await failTimes(breaker, 3);
    vi.advanceTimersByTime(30_000);
    let finishProbe!: (value: string) => void;
    const probe = breaker.execute(() => new Promise<string>(resolve => (finishProbe = resolve)), never());
    expect(breaker.snapshot().state).toBe('half_open');
    const other = vi.fn(ok);
    await expect(breaker.execute(other, never())).rejects.toMatchObject({
      kind: 'circuit_open',
      retryAt: undefined,
      message: expect.stringContaining('GLM circuit breaker is half-open'),
    });
    expect(other).not.toHaveBeenCalled();
    finishProbe('probe ok');
    await expect(probe).resolves.toBe('probe ok');
    expect(breaker.snapshot().state).toBe('closed');
  });

  test('a failed probe reopens it for another resetMs', async () => {
    await failTimes(breaker, 3);
    vi.advanceTimersByTime(30_000);
    await failTimes(breaker, 1, 'timeout');
    const snapshot = breaker.snapshot();
    expect(snapshot.state).toBe('open');
    expect(snapshot.retryAt).toBe(new Date(START + 60_000).toISOString());
    await expect(breaker.execute(ok, never())).rejects.toMatchObject({
      kind: 'circuit_open',
      retryAt: START + 60_000,
    });
    vi.advanceTimersByTime(30_000);
    await expect(breaker.execute(ok, never())).resolves.toBe('ok');
  });

  test.each<ErrorKind>(['auth', 'quota_exhausted'])('%s opens it at once', async kind => {
    await failTimes(breaker, 1, kind);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', consecutiveFailures: 1 });
    await expect(breaker.execute(ok, never())).rejects.toMatchObject({
      kind: 'circuit_open',
      message: expect.stringContaining(`(${kind} failures open it at once; last: ${kind}: ${kind} happened)`),
    });
  });

  test.each<ErrorKind>(['cancelled', 'bad_request', 'not_found', 'content_filtered', 'circuit_open'])(
    '%s passes through unchanged and neither counts nor resets the count',
    async kind => {
      await failTimes(breaker, 2);
      const original = new ExaiError(kind, 'caller problem');
      for (let i = 0; i < 5; i++) {
        await expect(breaker.execute(() => Promise.reject(original), never())).rejects.toBe(original);
      }
      expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 2 });
      await failTimes(breaker, 1);
      expect(breaker.snapshot().state).toBe('open');
    },
  );

  test('a non-ExaiError passes through unchanged and does not count', async () => {
    const bug = new TypeError('undefined is not a function');
    for (let i = 0; i < 5; i++)
      await expect(breaker.execute(() => Promise.reject(bug), never())).rejects.toBe(bug);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  test('a probe that ends in bad_request proves the provider answers and closes it with a fresh count', async () => {
    await failTimes(breaker, 3);
    vi.advanceTimersByTime(30_000);
    await failTimes(breaker, 1, 'bad_request');
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    await failTimes(breaker, 1);
    expect(breaker.snapshot().state).toBe('closed');
  });

  test.each<ErrorKind>(['cancelled', 'local'])(
    'a probe that ends %s never reached the provider: it proves nothing and reopens it',
    async kind => {
      await failTimes(breaker, 3);
      vi.advanceTimersByTime(30_000);
      await failTimes(breaker, 1, kind);
      expect(breaker.snapshot()).toMatchObject({
        state: 'open',
        retryAt: new Date(START + 60_000).toISOString(),
      });
      expect(breaker.snapshot().lastError?.kind).toBe('overloaded');
    },
  );

  test('passes the caller signal to fn and rejects an already aborted call without running it', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    await breaker.execute(async signal => {
      seen = signal;
    }, controller.signal);
    expect(seen).toBe(controller.signal);
    controller.abort(new ExaiError('timeout', 'workflow timed out after 600 s'));
    const fn = vi.fn(ok);
    await expect(breaker.execute(fn, controller.signal)).rejects.toMatchObject({ kind: 'timeout' });
    expect(fn).not.toHaveBeenCalled();
  });

  test('records transitions and notifies listeners until they unsubscribe', async () => {
    const seen: string[] = [];
    const unsubscribe = breaker.onTransition((from, to) => seen.push(`${from}->${to}`));
    await failTimes(breaker, 3);
    vi.advanceTimersByTime(30_000);
    await failTimes(breaker, 1);
    vi.advanceTimersByTime(30_000);
    await breaker.execute(ok, never());
    expect(seen).toEqual([
      'closed->open',
      'open->half_open',
      'half_open->open',
      'open->half_open',
      'half_open->closed',
    ]);
    expect(breaker.snapshot().transitions).toEqual([
      { from: 'closed', to: 'open', at: new Date(START).toISOString() },
      { from: 'open', to: 'half_open', at: new Date(START + 30_000).toISOString() },
      { from: 'half_open', to: 'open', at: new Date(START + 30_000).toISOString() },
      { from: 'open', to: 'half_open', at: new Date(START + 60_000).toISOString() },
      { from: 'half_open', to: 'closed', at: new Date(START + 60_000).toISOString() },
    ]);
    unsubscribe();
    await failTimes(breaker, 3);
    expect(seen).toHaveLength(5);
  });

  test('keeps only the last 20 transitions', async () => {
    await failTimes(breaker, 3);
    for (let i = 0; i < 15; i++) {
      vi.advanceTimersByTime(30_000);
      await failTimes(breaker, 1);
    }
    const { transitions } = breaker.snapshot();
    expect(transitions).toHaveLength(20);
    expect(transitions.at(-1)).toMatchObject({ from: 'half_open', to: 'open' });
  });

  test('a throwing transition listener does not fail the call', async () => {
    breaker.onTransition(() => {
      throw new Error('listener bug');
    });
    await failTimes(breaker, 3);
    expect(breaker.snapshot().state).toBe('open');
  });

  test('snapshot counts successes, counted failures and fast rejections', async () => {
    await breaker.execute(ok, never());
    await breaker.execute(ok, never());
    await failTimes(breaker, 1, 'bad_request');
    await failTimes(breaker, 3, 'network');
    for (let i = 0; i < 4; i++)
      await expect(breaker.execute(ok, never())).rejects.toMatchObject({ kind: 'circuit_open' });
    expect(breaker.snapshot()).toEqual({
      state: 'open',
      consecutiveFailures: 3,
      openedAt: new Date(START).toISOString(),
      retryAt: new Date(START + 30_000).toISOString(),
      lastError: { kind: 'network', message: 'network happened', at: new Date(START).toISOString() },
      transitions: [{ from: 'closed', to: 'open', at: new Date(START).toISOString() }],
      counts: { successes: 2, failures: 3, rejected: 4 },
    });
  });

  test('failures its owner marks as ignored neither count nor open it', async () => {
    const concurrency = createBreaker({
      name: 'GLM',
      threshold: 2,
      resetMs: 30_000,
      ignore: error => error.code === '1302',
    });
    try {
      for (let i = 0; i < 5; i++) {
        await expect(
          concurrency.execute(
            () => Promise.reject(new ExaiError('rate_limited', 'too many at once', { code: '1302' })),
            never(),
          ),
        ).rejects.toMatchObject({ kind: 'rate_limited' });
      }
      expect(concurrency.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
      await failTimes(concurrency, 2, 'rate_limited');
      expect(concurrency.snapshot().state).toBe('open');
    } finally {
      concurrency.dispose();
    }
  });
});

describe('provider circuit breaker and quota reset times', () => {
  let breaker: ProviderBreaker;
  beforeEach(() => {
    vi.useFakeTimers({ now: START });
    breaker = createBreaker({ name: 'GLM', threshold: 3, resetMs: 30_000 });
  });
  afterEach(() => {
    breaker.dispose();
    vi.useRealTimers();
  });

  const quotaUntil = (retryAt: number) => () =>
    Promise.reject(new ExaiError('quota_exhausted', '5-hour limit', { retryAt }));

  test('a quota failure that names its reset time holds the breaker open until then, not resetMs', async () => {
    const resetAt = START + 3 * 3_600_000;
    await expect(breaker.execute(quotaUntil(resetAt), never())).rejects.toMatchObject({
      kind: 'quota_exhausted',
    });
    expect(breaker.snapshot()).toMatchObject({ state: 'open', retryAt: new Date(resetAt).toISOString() });
    vi.advanceTimersByTime(60_000);
    const error = await breaker.execute(ok, never()).catch((e: ExaiError) => e);
    expect(error).toMatchObject({ kind: 'circuit_open', retryAt: resetAt });
    vi.advanceTimersByTime(resetAt - START - 60_000);
    await expect(breaker.execute(ok, never())).resolves.toBe('ok');
    expect(breaker.snapshot().state).toBe('closed');
  });

  test('a reset time sooner than resetMs does not shorten the usual wait', async () => {
    await expect(breaker.execute(quotaUntil(START + 1_000), never())).rejects.toBeDefined();
    expect(breaker.snapshot().retryAt).toBe(new Date(START + 30_000).toISOString());
  });

  test('an open breaker a day or more away names the date as well as the time', async () => {
    const resetAt = START + 3 * 86_400_000;
    await expect(breaker.execute(quotaUntil(resetAt), never())).rejects.toBeDefined();
    const error = (await breaker.execute(ok, never()).catch((e: ExaiError) => e)) as ExaiError;
    expect(error.message).toMatch(/open until \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
  });

  test('a probe that hits the same quota again reopens until the newly named reset', async () => {
    const first = START + 60_000;
    await expect(breaker.execute(quotaUntil(first), never())).rejects.toBeDefined();
    vi.advanceTimersByTime(60_000);
    const second = Date.now() + 7 * 86_400_000;
    await expect(breaker.execute(quotaUntil(second), never())).rejects.toMatchObject({
      kind: 'quota_exhausted',
    });
    expect(breaker.snapshot()).toMatchObject({ state: 'open', retryAt: new Date(second).toISOString() });
  });
});
