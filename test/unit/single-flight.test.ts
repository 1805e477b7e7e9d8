import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isExaiError } from '../../src/errors.js';
import { createSingleFlight, untilAborted } from '../../src/resilience/single-flight.js';

/** A call the test finishes by hand, and the signal the single flight gave it. */
function manual<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const calls: AbortSignal[] = [];
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  const work = vi.fn((signal: AbortSignal) => {
    calls.push(signal);
    return promise;
  });
  return { work, resolve, reject, calls };
}

const live = () => new AbortController().signal;

describe('single flight (expert de-duplication)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('joins an identical call in flight instead of starting a second one', async () => {
    const flights = createSingleFlight({ ttlMs: 60_000 });
    const call = manual<string>();
    const first = flights.run('debug:t1:h', call.work, live());
    const second = flights.run('debug:t1:h', call.work, live());
    call.resolve('analysis');
    expect(await first).toEqual({ value: 'analysis', share: 'started' });
    expect(await second).toEqual({ value: 'analysis', share: 'joined' });
    expect(call.work).toHaveBeenCalledTimes(1);
  });

  it('keeps different keys apart', async () => {
    const flights = createSingleFlight({ ttlMs: 60_000 });
    const a = manual<string>();
    const b = manual<string>();
    const ra = flights.run('debug:t1:h', a.work, live());
    const rb = flights.run('debug:t2:h', b.work, live());
    a.resolve('A');
    b.resolve('B');
    expect((await ra).value).toBe('A');
    expect((await rb).value).toBe('B');
  });

  it('reuses a finished value until the TTL runs out, then calls again', async () => {
    const flights = createSingleFlight({ ttlMs: 10_000 });
    const call = manual<string>();
    const first = flights.run('k', call.work, live());
    call.resolve('v1');
    await first;
    vi.advanceTimersByTime(9_999);
    expect(await flights.run('k', call.work, live())).toEqual({ value: 'v1', share: 'cached' });
    vi.advanceTimersByTime(1);
    expect(flights.size).toBe(0);
    const again = manual<string>();
    const third = flights.run('k', again.work, live());
    again.resolve('v2');
    expect(await third).toEqual({ value: 'v2', share: 'started' });
  });

  it('never remembers a failure', async () => {
    const flights = createSingleFlight({ ttlMs: 10_000 });
    const failing = manual<string>();
    const first = flights.run('k', failing.work, live());
    failing.reject(new Error('HTTP 500'));
    await expect(first).rejects.toThrow('HTTP 500');
    expect(flights.size).toBe(0);
    const retry = manual<string>();
    const second = flights.run('k', retry.work, live());
    retry.resolve('ok');
    expect((await second).share).toBe('started');
  });

  it('aborts the shared call only when the last waiting caller has gone', async () => {
    const flights = createSingleFlight({ ttlMs: 10_000 });
    const call = manual<string>();
    const a = new AbortController();
    const b = new AbortController();
    const first = flights.run('k', call.work, a.signal);
    const second = flights.run('k', call.work, b.signal);
    a.abort(new Error('client went away'));
    const error = await first.catch((e: unknown) => e);
    expect(isExaiError(error) && error.kind).toBe('cancelled');
    expect(call.calls[0]?.aborted).toBe(false);
    b.abort(new Error('this one too'));
    await second.catch(() => {});
    expect(call.calls[0]?.aborted).toBe(true);
    expect(flights.size).toBe(0);
  });

  it('ends a waiter at its own deadline while the call goes on for the others', async () => {
    const flights = createSingleFlight({ ttlMs: 0 });
    const call = manual<string>();
    const patient = flights.run('k', call.work, live());
    const hurried = new AbortController();
    setTimeout(() => hurried.abort(new Error('deadline')), 500);
    const short = flights.run('k', call.work, hurried.signal);
    vi.advanceTimersByTime(500);
    await expect(short).rejects.toMatchObject({ kind: 'cancelled' });
    call.resolve('late answer');
    expect((await patient).value).toBe('late answer');
    // ttlMs 0: nothing is remembered once the call is over.
    expect(flights.size).toBe(0);
  });

  it('drops the oldest finished values beyond maxEntries', async () => {
    const flights = createSingleFlight({ ttlMs: 60_000, maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) await flights.run(key, async () => key, live());
    expect(flights.size).toBe(2);
    const fresh = manual<string>();
    const again = flights.run('a', fresh.work, live());
    fresh.resolve('a2');
    expect((await again).share).toBe('started');
  });

  it('clear() aborts calls in flight', async () => {
    const flights = createSingleFlight({ ttlMs: 60_000 });
    const call = manual<string>();
    void flights.run('k', call.work, live()).catch(() => {});
    flights.clear(new Error('shutdown'));
    expect(call.calls[0]?.aborted).toBe(true);
    expect(flights.size).toBe(0);
  });
});

describe('untilAborted', () => {
  it('settles like the promise, or rejects with the abort reason first', async () => {
    expect(await untilAborted(Promise.resolve(1), live())).toBe(1);
    const controller = new AbortController();
    const pending = untilAborted(new Promise(() => {}), controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toMatchObject({
      kind: 'cancelled',
      message: 'cancelled by the caller: stop',
    });
  });
});
