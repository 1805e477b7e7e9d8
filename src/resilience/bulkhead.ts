import { ExaiError } from '../errors.js';
import type { AdaptiveLimit } from './adaptive-limit.js';
import { abortReason } from './deadline.js';

/**
 * At most `limit` calls per provider at once, with a bounded FIFO queue behind them. With an adaptive limit the
 * bound is the one learned from the provider's concurrency refusals (adaptive-limit.ts), and the bulkhead
 * reports each call's outcome to it: callers above the learned limit wait here, within their deadline,
 * instead of being sent into a 429.
 *
 * Not cockatiel's BulkheadPolicy: in 3.2.1 a queued call whose signal aborts stays in the queue until a slot
 * frees (the signal is only checked on dequeue), so a cancelled or timed-out call would wait for someone
 * else's slow request before it could fail. Here an aborted waiter leaves the queue at once.
 *
 * A running call is not raced against its signal: its slot is held until `fn` settles, because returning
 * early would let more than `limit` requests reach the provider. `fn` must honour the signal itself.
 */
export interface Bulkhead {
  run<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T>;
  readonly active: number;
  readonly queued: number;
  /** Calls allowed in flight now: the learned limit, or the configured one. */
  readonly limit: number;
  /** The configured maximum. */
  readonly max: number;
}

export interface AdaptiveFeedback {
  limit: AdaptiveLimit;
  /** Whether a failure is the provider refusing a call for concurrency, and the limit it named if any. */
  refusal(error: unknown): { reported?: number | undefined } | undefined;
}

interface Waiter {
  start(): void;
  signal: AbortSignal;
  onAbort(): void;
}

export function createBulkhead(options: {
  name: string;
  limit: number;
  maxQueue: number;
  adaptive?: AdaptiveFeedback | undefined;
}): Bulkhead {
  const { name, maxQueue, adaptive } = options;
  const max = options.limit;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`${name} bulkhead limit must be >= 1`);
  if (!Number.isInteger(maxQueue) || maxQueue < 0)
    throw new RangeError(`${name} bulkhead queue must be >= 0`);
  if (adaptive && adaptive.limit.max !== max)
    throw new RangeError(
      `${name} adaptive limit max ${adaptive.limit.max} differs from the bulkhead's ${max}`,
    );
  const current = (): number => adaptive?.limit.limit ?? max;

  let active = 0;
  // A Set keeps insertion order (FIFO) and deletes an aborted waiter from the middle in O(1).
  const queue = new Set<Waiter>();

  /**
   * Starts waiters while there is room. Called whenever room appears (a release, a raised limit), so the queue
   * is empty whenever a slot is free and a newcomer can never overtake it.
   */
  const drain = (): void => {
    while (active < current()) {
      const next = queue.values().next();
      if (next.done) return;
      queue.delete(next.value);
      next.value.signal.removeEventListener('abort', next.value.onAbort);
      active++;
      next.value.start();
    }
  };
  adaptive?.limit.onChange(drain);

  const release = (): void => {
    active--;
    drain();
  };

  const runInSlot = async <T>(fn: () => Promise<T>): Promise<T> => {
    // Taken as the call starts: its own slot is already counted.
    const startedWith = active;
    const epoch = adaptive?.limit.epoch ?? 0;
    try {
      const value = await fn();
      adaptive?.limit.onSuccess({ inFlight: startedWith });
      return value;
    } catch (error) {
      const refusal = adaptive?.refusal(error);
      if (refusal) adaptive?.limit.onLimited({ inFlight: active, epoch, reported: refusal.reported });
      throw error;
    } finally {
      release();
    }
  };

  return {
    get active() {
      return active;
    },
    get queued() {
      return queue.size;
    },
    get limit() {
      return current();
    },
    max,
    run<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
      if (signal.aborted) return Promise.reject(abortReason(signal));
      if (active < current() && queue.size === 0) {
        active++;
        return runInSlot(fn);
      }
      if (queue.size >= maxQueue) {
        return Promise.reject(
          new ExaiError(
            'overloaded',
            `${name} is busy: ${active} calls running and ${maxQueue} queued (the limits); not queueing more`,
            { retryable: false, provider: name },
          ),
        );
      }
      return new Promise<T>((resolve, reject) => {
        const waiter: Waiter = {
          signal,
          start: () => runInSlot(fn).then(resolve, reject),
          onAbort: () => {
            queue.delete(waiter);
            reject(abortReason(signal));
          },
        };
        queue.add(waiter);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      });
    },
  };
}
