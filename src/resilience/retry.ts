import { ERROR_POLICY, type ExaiError } from '../errors.js';
import { formatSeconds } from '../format.js';
import { abortReason } from './deadline.js';

/**
 * Retry decisions as a pure function of (error, retries so far, remaining budget), so the policy is a table
 * in the tests rather than behaviour spread over a loop. The loop that acts on it lives with the provider.
 */
export interface RetryPolicyOptions {
  /** Retries after the first attempt: 2 means at most 3 attempts. */
  maxRetries: number;
  baseMs: number;
  capMs: number;
}

export type RetryDecision =
  | { retry: true; delayMs: number; reason: 'retry_after' | 'backoff' }
  | { retry: false; why: string };

/**
 * A retry that would start with less than this left cannot do a useful round trip, and would only turn a
 * clear error ("overloaded") into a vaguer one ("timed out"). So we stop and report the real error instead.
 */
export const MIN_ATTEMPT_BUDGET_MS = 50;

export function decideRetry(input: {
  error: ExaiError;
  retriesSoFar: number;
  remainingMs: number;
  options: RetryPolicyOptions;
  random?: () => number;
}): RetryDecision {
  const { error, retriesSoFar, remainingMs, options } = input;
  if (ERROR_POLICY[error.kind].retry === 'never')
    return { retry: false, why: `${error.kind} is never retried` };
  if (error.forwarded) return { retry: false, why: 'part of the answer already reached the caller' };
  if (!error.retryable) return { retry: false, why: `${error.kind} is not retryable` };
  if (retriesSoFar >= options.maxRetries) {
    const attempts = retriesSoFar + 1;
    return { retry: false, why: `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}` };
  }

  if (error.retryAfterMs !== undefined) {
    const delayMs = error.retryAfterMs;
    if (delayMs > remainingMs || remainingMs - delayMs < MIN_ATTEMPT_BUDGET_MS) {
      return {
        retry: false,
        why: `server asked to wait ${formatSeconds(delayMs)} but only ${formatSeconds(remainingMs)} of budget remain`,
      };
    }
    return { retry: true, delayMs, reason: 'retry_after' };
  }

  const delayMs = backoffDelay(retriesSoFar, options, input.random);
  if (delayMs >= remainingMs) {
    return {
      retry: false,
      why: `a backoff of ${formatSeconds(delayMs)} would outlast the ${formatSeconds(remainingMs)} of budget remaining`,
    };
  }
  if (remainingMs - delayMs < MIN_ATTEMPT_BUDGET_MS) {
    return {
      retry: false,
      why: `a backoff of ${formatSeconds(delayMs)} would leave only ${formatSeconds(remainingMs - delayMs)} of budget for the attempt`,
    };
  }
  return { retry: true, delayMs, reason: 'backoff' };
}

/**
 * Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"): spreads a burst of clients that failed
 * together evenly over the window instead of letting them retry in lockstep.
 */
export function backoffDelay(
  retriesSoFar: number,
  options: RetryPolicyOptions,
  random: () => number = Math.random,
): number {
  const window = Math.min(options.capMs, options.baseMs * 2 ** retriesSoFar);
  return random() * window;
}

/** An abortable wait: rejects with abortReason(signal) as soon as the signal aborts, and leaves nothing behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
