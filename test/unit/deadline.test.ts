import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { ExaiError, isExaiError } from '../../src/errors.js';
import { abortReason, budgetWithin, Deadline } from '../../src/resilience/deadline.js';

function reasonOf(signal: AbortSignal): ExaiError {
  const reason: unknown = signal.reason;
  if (!isExaiError(reason)) throw new Error(`expected an ExaiError reason, got ${String(reason)}`);
  return reason;
}

describe('Deadline with fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('fires at its budget with a timeout naming the layer', () => {
    const onExpire = vi.fn();
    const deadline = Deadline.start(1000, { label: 'GLM call', onExpire });
    vi.advanceTimersByTime(999);
    expect(deadline.signal.aborted).toBe(false);
    expect(deadline.expired).toBe(false);
    expect(deadline.remainingMs()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.expired).toBe(true);
    expect(deadline.remainingMs()).toBe(0);
    expect(reasonOf(deadline.signal)).toMatchObject({
      kind: 'timeout',
      message: 'GLM call timed out after 1 s',
    });
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  test('a tie with its parent reports the parent even when the child timer fires first', () => {
    const workflow = Deadline.start(600, { label: 'workflow call (WORKFLOW_TOOL_TIMEOUT_SECS)' });
    const expert = workflow.child(600, 'expert analysis (EXPERT_ANALYSIS_TIMEOUT_SECS)');
    // The parent's timer losing the race is simulated by disarming it: the reason must not depend on it.
    workflow.dispose();
    vi.advanceTimersByTime(600);
    expect(reasonOf(expert.signal).message).toBe(
      'workflow call (WORKFLOW_TOOL_TIMEOUT_SECS) timed out after 0.6 s',
    );
  });

  test('a bound caps the time and, on a tie, names the reason even when its own timer fires first', () => {
    const workflow = Deadline.start(600, { label: 'workflow call' });
    const expert = workflow.child(600, 'expert analysis');
    const shared = Deadline.start(900, { bound: expert, label: 'shared expert call' });
    expect(shared.budgetMs).toBe(600);
    workflow.dispose();
    expert.dispose();
    vi.advanceTimersByTime(600);
    expect(reasonOf(shared.signal).message).toBe('workflow call timed out after 0.6 s');
    const loose = Deadline.start(1000, { bound: Deadline.start(2000, { label: 'roomy' }), label: 'own' });
    vi.advanceTimersByTime(1000);
    expect(reasonOf(loose.signal).message).toBe('own timed out after 1 s');
  });

  test("a bound's cancellation does not reach the child, which then ends in its own name", () => {
    const caller = new AbortController();
    const expert = Deadline.start(600, { parents: [caller.signal], label: 'expert analysis' });
    const shared = Deadline.start(600, { bound: expert, label: 'shared expert call' });
    caller.abort(new Error('client left'));
    expect(expert.signal.aborted).toBe(true);
    expect(shared.signal.aborted).toBe(false);
    vi.advanceTimersByTime(600);
    expect(reasonOf(shared.signal).message).toBe('shared expert call timed out after 0.6 s');
  });

  test('reports a decimal budget as decimal seconds', () => {
    const deadline = Deadline.start(1500, { label: 'expert analysis' });
    expect(deadline.budgetMs).toBe(1500);
    vi.advanceTimersByTime(1500);
    expect(reasonOf(deadline.signal).message).toBe('expert analysis timed out after 1.5 s');
  });

  test('caps a child budget at what the parent has left', () => {
    const parent = Deadline.start(10_000, { label: 'workflow' });
    vi.advanceTimersByTime(4000);
    const child = parent.child(8000, 'GLM call');
    expect(child.budgetMs).toBe(6000);
    expect(child.expiresAt).toBe(parent.expiresAt);
    expect(parent.child(1000).budgetMs).toBe(1000);
  });

  test('a child whose own budget is smaller times out with its own label', () => {
    const parent = Deadline.start(10_000, { label: 'workflow' });
    const child = parent.child(2000, 'GLM call');
    vi.advanceTimersByTime(2000);
    expect(reasonOf(child.signal).message).toBe('GLM call timed out after 2 s');
    expect(parent.signal.aborted).toBe(false);
  });

  test("a child capped by its parent ends with the parent's timeout, and both onExpire run", () => {
    const parentExpired = vi.fn();
    const childExpired = vi.fn();
    const parent = Deadline.start(3000, { label: 'workflow', onExpire: parentExpired });
    const child = Deadline.start(5000, { parents: [parent], label: 'GLM call', onExpire: childExpired });
    vi.advanceTimersByTime(3000);
    expect(child.signal.reason).toBe(parent.signal.reason);
    expect(reasonOf(child.signal).message).toBe('workflow timed out after 3 s');
    expect(parentExpired).toHaveBeenCalledTimes(1);
    expect(childExpired).toHaveBeenCalledTimes(1);
  });

  test("a capped child still ends at its budget with the parent's label if the parent was disposed", () => {
    const parent = Deadline.start(3000, { label: 'workflow' });
    const child = parent.child(5000, 'GLM call');
    parent.dispose();
    vi.advanceTimersByTime(3000);
    expect(parent.signal.aborted).toBe(false);
    expect(reasonOf(child.signal).message).toBe('workflow timed out after 3 s');
  });

  test("parent abort propagates with the parent's reason unchanged", () => {
    const controller = new AbortController();
    const reason = new Error('client sent notifications/cancelled');
    const onExpire = vi.fn();
    const deadline = Deadline.start(60_000, { parents: [controller.signal], onExpire });
    const grandchild = deadline.child(30_000);
    controller.abort(reason);
    expect(deadline.signal.reason).toBe(reason);
    expect(grandchild.signal.reason).toBe(reason);
    expect(onExpire).not.toHaveBeenCalled();
    expect(abortReason(grandchild.signal)).toMatchObject({
      kind: 'cancelled',
      message: 'cancelled by the caller: client sent notifications/cancelled',
    });
  });

  test('starting under an already aborted parent aborts at once and arms no timer', () => {
    const controller = new AbortController();
    controller.abort('gone');
    const deadline = Deadline.start(1000, { parents: [controller.signal] });
    expect(deadline.signal.reason).toBe('gone');
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a zero budget aborts at once with a timeout', () => {
    const deadline = Deadline.start(0, { label: 'call' });
    expect(reasonOf(deadline.signal)).toMatchObject({ kind: 'timeout', message: 'call timed out after 0 s' });
  });

  test('rejects a budget setTimeout cannot represent', () => {
    expect(() => Deadline.start(Number.NaN)).toThrow(RangeError);
    expect(() => Deadline.start(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => Deadline.start(2 ** 31)).toThrow(RangeError);
  });

  test('dispose clears the timer and a later parent abort leaves the child alone', () => {
    const controller = new AbortController();
    const deadline = Deadline.start(1000, { parents: [controller.signal] });
    expect(vi.getTimerCount()).toBe(1);
    deadline.dispose();
    deadline.dispose();
    expect(vi.getTimerCount()).toBe(0);
    controller.abort();
    vi.advanceTimersByTime(5000);
    expect(deadline.signal.aborted).toBe(false);
  });

  test('expiry removes its listener from the parent and clears its timer', () => {
    const parent = Deadline.start(10_000);
    parent.child(1000);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(1);
  });

  test('10,000 disposed children leave no abort listener on the parent', () => {
    const parent = Deadline.start(60_000);
    for (let i = 0; i < 10_000; i++) parent.child(1000).dispose();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(1);
  });

  test("ends when any of its parents ends, with that parent's reason, and leaves the others' listeners", () => {
    const client = new AbortController();
    const shutdown = new AbortController();
    const frame = Deadline.open({ parents: [client.signal, shutdown.signal], label: 'chat call' });
    expect(vi.getTimerCount()).toBe(0);
    expect(frame.remainingMs()).toBe(Number.POSITIVE_INFINITY);
    const reason = new ExaiError('cancelled', 'The server is shutting down');
    shutdown.abort(reason);
    expect(frame.signal.reason).toBe(reason);
    expect(getEventListeners(client.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });

  test('a timed budget under a caller signal and a parent deadline is capped by the deadline', () => {
    const caller = new AbortController();
    const workflow = Deadline.start(1000, { label: 'workflow' });
    const expert = Deadline.start(5000, { parents: [caller.signal, workflow], label: 'expert' });
    expect(expert.budgetMs).toBe(1000);
    vi.advanceTimersByTime(1000);
    expect(reasonOf(expert.signal).message).toBe('workflow timed out after 1 s');
    const other = Deadline.start(5000, { parents: [caller.signal, Deadline.start(9000)] });
    caller.abort('left');
    expect(other.signal.reason).toBe('left');
  });

  test('a chain of capped children holds one timer, and each ends with the top reason', () => {
    const job = Deadline.start(3000, { label: 'chat job' });
    const provider = job.child(5000, 'GLM call');
    const share = provider.child(undefined, 'GLM share');
    expect(vi.getTimerCount()).toBe(1);
    expect(share.budgetMs).toBe(3000);
    vi.advanceTimersByTime(3000);
    expect(reasonOf(provider.signal).message).toBe('chat job timed out after 3 s');
    expect(share.signal.reason).toBe(job.signal.reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a child with less time than its parent arms its own timer', () => {
    const job = Deadline.start(3000, { label: 'chat job' });
    job.child(1000, 'GLM call');
    expect(vi.getTimerCount()).toBe(2);
  });

  test('cancel ends a budget and its children with the reason given, not its parent', () => {
    const budget = Deadline.start(3000, { label: 'whole call' });
    const primary = budget.child(undefined, 'primary');
    const below = primary.child(10_000);
    const why = new ExaiError('timeout', 'no answer within its share');
    primary.cancel(why);
    expect(below.signal.reason).toBe(why);
    expect(budget.signal.aborted).toBe(false);
    expect(getEventListeners(budget.signal, 'abort')).toHaveLength(0);
  });

  test('a capped child whose parent is disposed early arms its own timer for the time left', () => {
    const job = Deadline.start(3000, { label: 'chat job' });
    vi.advanceTimersByTime(1000);
    const provider = job.child(5000, 'GLM call');
    expect(vi.getTimerCount()).toBe(1);
    job.dispose();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1999);
    expect(provider.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(reasonOf(provider.signal).message).toBe('chat job timed out after 3 s');
  });

  test('an open child of an open budget arms no timer when its parent is disposed first', () => {
    const frame = Deadline.open({ label: 'ask' });
    const stream = frame.child();
    frame.dispose();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(stream.signal.aborted).toBe(false);
  });

  test("budgetWithin lends the caller's budget when it ends first, and makes a child otherwise", () => {
    const job = Deadline.start(3000, { label: 'chat job' });
    const lent = budgetWithin(job, 3000, 'GLM call');
    expect(lent.budget).toBe(job);
    lent.release();
    expect(job.signal.aborted).toBe(false);
    vi.advanceTimersByTime(3000);
    expect(job.signal.aborted).toBe(true);

    const roomy = Deadline.start(60_000, { label: 'workflow' });
    const own = budgetWithin(roomy, 1000, 'GLM call');
    expect(own.budget).not.toBe(roomy);
    vi.advanceTimersByTime(1000);
    expect(reasonOf(own.budget.signal).message).toBe('GLM call timed out after 1 s');
    own.release();
    const alone = budgetWithin(undefined, 500, 'GLM call');
    vi.advanceTimersByTime(500);
    expect(reasonOf(alone.budget.signal).message).toBe('GLM call timed out after 0.5 s');
  });
});

describe('abortReason', () => {
  test('keeps a timeout a timeout', () => {
    const timeout = new ExaiError('timeout', 'GLM call timed out after 300 s');
    const controller = new AbortController();
    controller.abort(timeout);
    expect(abortReason(controller.signal)).toBe(timeout);

    const dom = new AbortController();
    dom.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    expect(abortReason(dom.signal).kind).toBe('timeout');
  });

  test('turns anything else into a cancellation by the caller', () => {
    const plain = new AbortController();
    plain.abort();
    expect(abortReason(plain.signal)).toMatchObject({
      kind: 'cancelled',
      message: 'cancelled by the caller: This operation was aborted',
      retryable: false,
    });
    const empty = new AbortController();
    empty.abort(null);
    expect(abortReason(empty.signal).message).toBe('cancelled by the caller');
  });
});

describe('Deadline with real timers', () => {
  test('fires after forced garbage collection even when only a pending promise refers to it', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('run vitest with --expose-gc (see vitest.config.ts)');
    const started = performance.now();
    const fired = Array.from({ length: 20 }, (_, i) => {
      const { signal } = Deadline.start(200, { label: `call ${i}` });
      return new Promise<number>(resolve => {
        signal.addEventListener('abort', () => resolve(performance.now() - started), { once: true });
      });
    });
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise(resolve => setTimeout(resolve, 10));
    }
    const guard = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error('deadlines did not fire within 2 s after GC')), 2000).unref();
    });
    const elapsed = await Promise.race([Promise.all(fired), guard]);
    expect(Math.max(...elapsed)).toBeLessThan(2000);
    expect(Math.min(...elapsed)).toBeGreaterThanOrEqual(199);
  });
});
