/**
 * In-flight de-duplication with a short memory: callers that ask for the same key while a call runs join
 * it instead of starting a second one, and for `ttlMs` after it succeeds they get its value at once.
 *
 * Why: agents retry a final workflow step when their client times out, and each retry used to start
 * another multi-minute expert call. The Python EX-AI MCP server's cache was process-global, waited
 * up to 120 s and never evicted; this one is created per App, ends with its owner, and forgets.
 *
 * Cancellation is reference-counted: each caller waits under its own signal, and the shared call is
 * aborted only when the last waiter has gone, so one impatient caller cannot cut off the others.
 * Failures are never remembered; the next caller starts afresh.
 */
import { abortReason } from './deadline.js';

export interface SingleFlightOptions {
  /** How long a successful value is reused after the call finished; 0 keeps only calls in flight. */
  ttlMs: number;
  /** Most finished values kept; the oldest go first. Default 256. */
  maxEntries?: number;
  /** Monotonic clock in ms; injectable for tests. */
  now?: () => number;
}

/** How a caller got its value: it ran the call, joined one in flight, or reused a finished one. */
export type FlightShare = 'started' | 'joined' | 'cached';

export interface FlightResult<T> {
  value: T;
  share: FlightShare;
}

export interface SingleFlight {
  /**
   * Runs `work` for `key` unless an identical call is in flight or remembered. `work` gets a signal that
   * aborts when every caller waiting for it has gone. The caller's own `signal` only ends its wait.
   */
  run<T>(
    key: string,
    work: (signal: AbortSignal) => Promise<T>,
    signal: AbortSignal,
  ): Promise<FlightResult<T>>;
  /** Calls in flight plus values remembered. */
  readonly size: number;
  /** Aborts every call in flight and forgets every value. */
  clear(reason?: unknown): void;
}

interface Entry {
  readonly promise: Promise<unknown>;
  readonly controller: AbortController;
  waiters: number;
  /** Set when the call succeeded: from then on the entry is a remembered value. */
  expiresAt: number | undefined;
}

const DEFAULT_MAX_ENTRIES = 256;

export function createSingleFlight(options: SingleFlightOptions): SingleFlight {
  const now = options.now ?? (() => performance.now());
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const entries = new Map<string, Entry>();

  function sweep(): void {
    const at = now();
    let finished = 0;
    for (const [key, entry] of entries) {
      if (entry.expiresAt === undefined) continue;
      if (entry.expiresAt <= at) entries.delete(key);
      else finished++;
    }
    // Map iteration is insertion order, so the first finished entries are the oldest.
    for (const [key, entry] of entries) {
      if (finished <= maxEntries) break;
      if (entry.expiresAt === undefined) continue;
      entries.delete(key);
      finished--;
    }
  }

  function start(key: string, work: (signal: AbortSignal) => Promise<unknown>): Entry {
    const controller = new AbortController();
    // An async wrapper so that a work function that throws synchronously still yields a rejected promise.
    const promise = (async () => work(controller.signal))();
    const entry: Entry = { promise, controller, waiters: 0, expiresAt: undefined };
    promise.then(
      () => {
        if (entries.get(key) !== entry) return;
        if (options.ttlMs > 0) entry.expiresAt = now() + options.ttlMs;
        else entries.delete(key);
      },
      () => {
        if (entries.get(key) === entry) entries.delete(key);
      },
    );
    entries.set(key, entry);
    return entry;
  }

  return {
    async run<T>(key: string, work: (signal: AbortSignal) => Promise<T>, signal: AbortSignal) {
      sweep();
      if (signal.aborted) throw abortReason(signal);
      const existing = entries.get(key);
      if (existing?.expiresAt !== undefined) return { value: (await existing.promise) as T, share: 'cached' };
      const entry = existing ?? start(key, work);
      const share: FlightShare = existing ? 'joined' : 'started';
      entry.waiters++;
      try {
        return { value: (await untilAborted(entry.promise, signal)) as T, share };
      } finally {
        entry.waiters--;
        if (entry.waiters === 0 && entry.expiresAt === undefined && entries.get(key) === entry) {
          entries.delete(key);
          entry.controller.abort(signal.aborted ? signal.reason : undefined);
        }
      }
    },
    get size() {
      sweep();
      return entries.size;
    },
    clear(reason?: unknown) {
      for (const entry of entries.values()) entry.controller.abort(reason);
      entries.clear();
    },
  };
}

/**
 * Settles like `promise`, or rejects with the signal's reason (as an ExaiError) as soon as it aborts,
 * whichever comes first. The promise keeps running; whoever owns it must cancel it through its own signal.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      value => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      error => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
