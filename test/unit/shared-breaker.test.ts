import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { shareBreaker } from '../../src/cluster/shared-breaker.js';
import type { HealthEvent, RemoteHealth, SharedHealth } from '../../src/cluster/shared-health.js';
import { type ErrorKind, ExaiError } from '../../src/errors.js';
import { createBreaker, type ProviderBreaker } from '../../src/resilience/breaker.js';

const START = Date.parse('2025-11-20T12:00:00Z');
const never = () => new AbortController().signal;
const ok = () => Promise.resolve('ok');

/** Shared health without Redis: records what is published, serves what the test says other replicas reported. */
function fakeHealth() {
  const published: Array<{ provider: string; event: HealthEvent }> = [];
  const reports = new Map<string, RemoteHealth>();
  const health: SharedHealth = {
    replicaId: 'me',
    publish: (provider, event) => published.push({ provider, event }),
    subscribe: () => () => {},
    remote: provider => reports.get(provider),
    snapshot: () => ({ replicaId: 'me', connected: true, degraded: false, remote: {} }),
    ready: async () => true,
    close: async () => {},
  };
  return { health, published, reports };
}

describe('a breaker linked to shared provider health', () => {
  let shared: ReturnType<typeof fakeHealth>;
  let breaker: ProviderBreaker;

  beforeEach(() => {
    vi.useFakeTimers({ now: START });
    shared = fakeHealth();
    breaker = shareBreaker(createBreaker({ name: 'GLM', threshold: 3, resetMs: 30_000 }), shared.health, {
      provider: 'glm',
      label: 'GLM',
    });
  });
  afterEach(() => {
    breaker.dispose();
    vi.useRealTimers();
  });

  const failWith = (kind: ErrorKind, details: ConstructorParameters<typeof ExaiError>[2] = {}) =>
    expect(
      breaker.execute(() => Promise.reject(new ExaiError(kind, `${kind} happened`, details)), never()),
    ).rejects.toMatchObject({ kind });

  test('is the breaker itself when nothing is shared', () => {
    const plain = createBreaker({ name: 'GLM', threshold: 3, resetMs: 30_000 });
    expect(shareBreaker(plain, undefined, { provider: 'glm', label: 'GLM' })).toBe(plain);
    plain.dispose();
  });

  test('publishes an auth failure at once as open until the reset time, with the reason', async () => {
    await failWith('auth');
    expect(shared.published).toEqual([
      { provider: 'glm', event: { type: 'open', until: START + 30_000, reason: 'auth: auth happened' } },
    ]);
  });

  test('publishes the recovery when a probe closes the breaker', async () => {
    for (let i = 0; i < 3; i++) await failWith('overloaded');
    vi.advanceTimersByTime(30_000);
    await expect(breaker.execute(ok, never())).resolves.toBe('ok');
    expect(shared.published.map(p => p.event.type)).toEqual(['open', 'closed']);
  });

  test('publishes a retry-after hint as a shared wait', async () => {
    await failWith('rate_limited', { retryAfterMs: 20_000 });
    expect(shared.published).toEqual([
      { provider: 'glm', event: { type: 'retry_after', until: START + 20_000 } },
    ]);
  });

  test("fails fast on another replica's open breaker, naming it and until when, without calling", async () => {
    shared.reports.set('glm', {
      open: { until: START + 10_000, from: 'replica-7', reason: 'quota_exhausted: recharge' },
    });
    const fn = vi.fn(ok);
    const error = await breaker.execute(fn, never()).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(error).toMatchObject({
      kind: 'circuit_open',
      retryable: false,
      provider: 'glm',
      retryAt: START + 10_000,
      message: `GLM circuit breaker is open on replica replica-7 until ${new Date(START + 10_000).toTimeString().slice(0, 8)} (quota_exhausted: recharge); failing fast`,
    });
    // Not this replica's failure: its own breaker neither counts it nor opens.
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  test("holds a call back for another replica's retry-after, leaving the wait to the retry policy", async () => {
    shared.reports.set('glm', { retryAfter: { until: START + 4_000, from: 'replica-7' } });
    const fn = vi.fn(ok);
    const error = await breaker.execute(fn, never()).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(error).toMatchObject({ kind: 'rate_limited', retryable: true, retryAfterMs: 4_000 });
    expect(shared.published).toEqual([]);
  });

  test('reports a cancelled caller as cancelled, not as a remote report', async () => {
    shared.reports.set('glm', { open: { until: START + 10_000, from: 'replica-7' } });
    const controller = new AbortController();
    controller.abort(new ExaiError('cancelled', 'gone'));
    await expect(breaker.execute(ok, controller.signal)).rejects.toMatchObject({ kind: 'cancelled' });
  });
});
