import { getEventListeners } from 'node:events';
import { describe, expect, test } from 'vitest';
import { ExaiError } from '../../src/errors.js';
import { createBulkhead } from '../../src/resilience/bulkhead.js';

/** A promise with its resolve/reject outside, to hold a call open for as long as a test needs. */
function gate<T = void>() {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const tick = () => new Promise(resolve => setImmediate(resolve));

describe('bulkhead', () => {
  test('never runs more than the limit at once under 1,000 concurrent calls', async () => {
    const bulkhead = createBulkhead({ name: 'GLM', limit: 8, maxQueue: 1000 });
    // One signal per call, as each call has its own deadline in the server.
    const signals = Array.from({ length: 1000 }, () => new AbortController().signal);
    let running = 0;
    let maxRunning = 0;
    const results = await Promise.all(
      signals.map((signal, i) =>
        bulkhead.run(async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await new Promise(resolve => setTimeout(resolve, i % 3));
          running--;
          return i;
        }, signal),
      ),
    );
    expect(maxRunning).toBe(8);
    expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(bulkhead.active).toBe(0);
    expect(bulkhead.queued).toBe(0);
    for (const signal of signals) expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  test('starts queued calls in FIFO order', async () => {
    const bulkhead = createBulkhead({ name: 'GLM', limit: 1, maxQueue: 10 });
    const signal = new AbortController().signal;
    const first = gate();
    const order: number[] = [];
    const runs = [bulkhead.run(() => first.promise, signal)];
    for (let i = 1; i <= 5; i++) {
      runs.push(
        bulkhead.run(async () => {
          order.push(i);
        }, signal),
      );
    }
    expect(bulkhead.queued).toBe(5);
    first.open();
    await Promise.all(runs);
    expect(order).toEqual([1, 2, 3, 4, 5]);
  });

  test('a waiter that aborts leaves the queue at once with the abort reason', async () => {
    const bulkhead = createBulkhead({ name: 'GLM', limit: 1, maxQueue: 10 });
    const held = gate();
    const running = bulkhead.run(() => held.promise, new AbortController().signal);
    const caller = new AbortController();
    let started = false;
    const queued = bulkhead.run(async () => {
      started = true;
    }, caller.signal);
    expect(bulkhead.queued).toBe(1);
    caller.abort(new ExaiError('timeout', 'GLM call timed out after 300 s'));
    expect(bulkhead.queued).toBe(0);
    await expect(queued).rejects.toMatchObject({
      kind: 'timeout',
      message: 'GLM call timed out after 300 s',
    });
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    held.open();
    await running;
    await tick();
    expect(started).toBe(false);
    expect(bulkhead.active).toBe(0);
  });

  test('an already aborted call is rejected without taking a slot', async () => {
    const bulkhead = createBulkhead({ name: 'GLM', limit: 1, maxQueue: 1 });
    const caller = new AbortController();
    caller.abort();
    await expect(bulkhead.run(async () => 1, caller.signal)).rejects.toMatchObject({ kind: 'cancelled' });
    expect(bulkhead.active).toBe(0);
  });

  test('a full queue rejects at once with a non-retryable overloaded error naming the limits', async () => {
    const bulkhead = createBulkhead({ name: 'Kimi', limit: 2, maxQueue: 1 });
    const signal = new AbortController().signal;
    const held = gate();
    const runs = [0, 1, 2].map(() => bulkhead.run(() => held.promise, signal));
    expect([bulkhead.active, bulkhead.queued]).toEqual([2, 1]);
    const rejected = bulkhead.run(async () => 'never', signal);
    await expect(rejected).rejects.toMatchObject({
      kind: 'overloaded',
      retryable: false,
      message: 'Kimi is busy: 2 calls running and 1 queued (the limits); not queueing more',
    });
    held.open();
    await Promise.all(runs);
  });

  test('releases the slot exactly once when the call throws', async () => {
    const bulkhead = createBulkhead({ name: 'GLM', limit: 1, maxQueue: 5 });
    const signal = new AbortController().signal;
    await expect(
      bulkhead.run(() => {
        throw new Error('sync throw');
      }, signal),
    ).rejects.toThrow('sync throw');
    await expect(bulkhead.run(() => Promise.reject(new Error('async')), signal)).rejects.toThrow('async');
    expect(bulkhead.active).toBe(0);
    const held = gate();
    const first = bulkhead.run(() => held.promise, signal);
    const second = bulkhead.run(async () => 'second', signal);
    expect([bulkhead.active, bulkhead.queued]).toEqual([1, 1]);
    held.fail(new Error('boom'));
    await expect(first).rejects.toThrow('boom');
    await expect(second).resolves.toBe('second');
    expect(bulkhead.active).toBe(0);
  });

  test('leaves no abort listeners on signals of calls that ran, queued or were rejected', async () => {
    const bulkhead = createBulkhead({ name: 'GLM', limit: 2, maxQueue: 2 });
    const signals = Array.from({ length: 6 }, () => new AbortController().signal);
    const held = gate();
    const runs = signals.map(signal => bulkhead.run(() => held.promise, signal).catch(() => 'rejected'));
    held.open();
    expect(await Promise.all(runs)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      'rejected',
      'rejected',
    ]);
    for (const signal of signals) expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  test('rejects nonsensical limits', () => {
    expect(() => createBulkhead({ name: 'GLM', limit: 0, maxQueue: 1 })).toThrow(RangeError);
    expect(() => createBulkhead({ name: 'GLM', limit: 1, maxQueue: -1 })).toThrow(RangeError);
  });
});
