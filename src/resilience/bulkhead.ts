import { ExaiError } from '../errors.js';
import { abortReason } from './deadline.js';

/**
 * At most `limit` calls per provider at once, with a bounded FIFO queue behind them.
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
  readonly limit: number;
}

interface Waiter {
  start(): void;
  signal: AbortSignal;
  onAbort(): void;
}

export function createBulkhead(options: { name: string; limit: number; maxQueue: number }): Bulkhead {
  const { name, limit, maxQueue } = options;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`${name} bulkhead limit must be >= 1`);
  if (!Number.isInteger(maxQueue) || maxQueue < 0)
    throw new RangeError(`${name} bulkhead queue must be >= 0`);

  let active = 0;
  // A Set keeps insertion order (FIFO) and deletes an aborted waiter from the middle in O(1).
  const queue = new Set<Waiter>();

  /** Hands the slot straight to the next waiter, so a newcomer can never overtake the queue. */
  const release = (): void => {
    const next = queue.values().next();
    if (next.done) {
      active--;
      return;
    }
    queue.delete(next.value);
    next.value.signal.removeEventListener('abort', next.value.onAbort);
    next.value.start();
  };

  const runInSlot = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
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
    limit,
    run<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
      if (signal.aborted) return Promise.reject(abortReason(signal));
      if (active < limit) {
        active++;
        return runInSlot(fn);
      }
      if (queue.size >= maxQueue) {
        return Promise.reject(
          new ExaiError(
            'overloaded',
            `${name} is busy: ${limit} calls running and ${maxQueue} queued (the limits); not queueing more`,
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
