/**
 * The link between one provider's local circuit breaker and the health other replicas share (shared-health.ts).
 * It wraps the breaker, so the provider's call path is unchanged:
 *
 * - before each attempt, a remote gate: another replica's open breaker for this provider fails the attempt at
 *   once as `circuit_open` (naming that replica and until when, so the gateway can fall back); another
 *   replica's Retry-After fails it as `rate_limited` carrying the remaining wait, which the retry policy
 *   sleeps out within the budget (or stops, and the gateway falls back) — no request is sent either way;
 * - local transitions are published: opened (with until when and why — auth and balance failures open it at
 *   once) and closed (recovery, so the others stop failing fast too);
 * - a 429 with a retry-after hint is published as a shared wait.
 *
 * The gate runs outside the local breaker: remote reports never count as this replica's failures.
 */
import { ExaiError, isExaiError } from '../errors.js';
import { clockTime, type ProviderBreaker } from '../resilience/breaker.js';
import { abortReason } from '../resilience/deadline.js';
import type { SharedHealth } from './shared-health.js';

export interface ShareOptions {
  provider: string;
  /** For messages: `GLM`, `Kimi`. */
  label: string;
  now?: () => number;
}

/** Publishing two waits that end within this of each other is noise. */
const RETRY_AFTER_RESOLUTION_MS = 100;

export function shareBreaker(
  breaker: ProviderBreaker,
  health: SharedHealth | undefined,
  options: ShareOptions,
): ProviderBreaker {
  if (!health) return breaker;
  const { provider, label } = options;
  const now = options.now ?? Date.now;
  let publishedWaitUntil = 0;

  const unsubscribe = breaker.onTransition((_from, to) => {
    if (to === 'closed') {
      health.publish(provider, { type: 'closed' });
      return;
    }
    if (to !== 'open') return;
    const snap = breaker.snapshot();
    const until = snap.retryAt === undefined ? now() : Date.parse(snap.retryAt);
    const reason = snap.lastError
      ? `${snap.lastError.kind}: ${snap.lastError.message}`
      : `${snap.consecutiveFailures} consecutive failures`;
    health.publish(provider, { type: 'open', until, reason });
  });

  function gate(): void {
    const remote = health?.remote(provider);
    if (!remote) return;
    if (remote.open) {
      const { until, from, reason } = remote.open;
      throw new ExaiError(
        'circuit_open',
        `${label} circuit breaker is open on replica ${from} until ${clockTime(until)}` +
          `${reason ? ` (${reason})` : ''}; failing fast`,
        { retryable: false, provider, retryAt: until },
      );
    }
    if (remote.retryAfter) {
      const { until, from } = remote.retryAfter;
      throw new ExaiError(
        'rate_limited',
        `${label} told replica ${from} to wait until ${clockTime(until)} (retry-after); not sending before then`,
        { retryable: true, provider, retryAfterMs: Math.max(0, until - now()) },
      );
    }
  }

  return {
    async execute(fn, signal) {
      if (signal.aborted) throw abortReason(signal);
      gate();
      try {
        return await breaker.execute(fn, signal);
      } catch (error) {
        if (isExaiError(error) && error.kind === 'rate_limited' && (error.retryAfterMs ?? 0) > 0) {
          const until = now() + (error.retryAfterMs as number);
          if (until > publishedWaitUntil + RETRY_AFTER_RESOLUTION_MS) {
            publishedWaitUntil = until;
            health.publish(provider, { type: 'retry_after', until });
          }
        }
        throw error;
      }
    },
    generation: () => breaker.generation(),
    ensureNotOpen(generation) {
      gate();
      breaker.ensureNotOpen(generation);
    },
    snapshot: () => breaker.snapshot(),
    onTransition: listener => breaker.onTransition(listener),
    dispose() {
      unsubscribe();
      breaker.dispose();
    },
  };
}
