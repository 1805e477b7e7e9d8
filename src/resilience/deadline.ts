import { ExaiError, isExaiError } from '../errors.js';
import { formatSeconds } from '../format.js';

/**
 * One owner of a time budget per layer (workflow > expert analysis > provider call), composed with its parent.
 *
 * Why not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: on Node 20 the timeout signal is only weakly
 * held, and once a garbage collection has run the combined signal never fires — a call that should time out
 * hangs instead. So each Deadline owns an AbortController and a plain setTimeout whose handle it stores: the
 * timer list holds the callback strongly, the callback holds the controller.
 *
 * Clock: `performance.now()` (monotonic, so a wall-clock jump cannot stretch or shrink a budget; vitest's fake
 * timers fake it too). `expiresAt` is on that clock, not an epoch time.
 */
export interface DeadlineOptions {
  parent?: Deadline | AbortSignal | undefined;
  /**
   * A deadline whose *time*, not its cancellation, bounds this one: a call shared by several callers must end
   * when its first caller's budget does, but must not be cancelled when that caller leaves. Like a parent, a
   * bound that leaves no more time than our own budget is the one reported on expiry.
   */
  bound?: Deadline | undefined;
  /** Names the layer in the timeout message, e.g. "GLM glm-4.6 call". */
  label?: string;
  /** Runs once when this deadline's signal aborts because a budget ran out (its own or an ancestor's). */
  onExpire?: () => void;
}

/** setTimeout fires at once (with a warning) above this; no budget here is anywhere near it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Deadline {
  readonly signal: AbortSignal;
  readonly budgetMs: number;
  readonly expiresAt: number;
  readonly label: string;

  readonly #controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #parentSignal: AbortSignal | undefined;
  /** Set when the parent Deadline's remaining time, not our own, is the binding budget. */
  #cappedBy: Deadline | undefined;
  #onExpire: (() => void) | undefined;

  static start(ms: number, options: DeadlineOptions = {}): Deadline {
    return new Deadline(ms, options);
  }

  private constructor(ms: number, options: DeadlineOptions) {
    if (!Number.isFinite(ms) || ms > MAX_TIMER_MS) {
      throw new RangeError(`deadline budget must be a finite number of ms up to ${MAX_TIMER_MS}, got ${ms}`);
    }
    const { parent } = options;
    const parentDeadline = parent instanceof Deadline ? parent : undefined;
    const own = Math.max(0, ms);
    // A tie goes to the parent: its reason is the truer story ("the workflow ran out", not "the call did").
    // Decided here, once, from the remaining times, so which of two coinciding timers fires first never
    // changes the reason reported.
    let budget = own;
    for (const bound of [parentDeadline, options.bound]) {
      if (!bound) continue;
      const remaining = bound.remainingMs();
      if (remaining <= budget) {
        budget = remaining;
        this.#cappedBy = bound;
      }
    }
    this.budgetMs = budget;
    this.expiresAt = performance.now() + this.budgetMs;
    this.label = options.label ?? 'operation';
    this.signal = this.#controller.signal;
    this.#onExpire = options.onExpire;
    this.#parentSignal = parentDeadline ? parentDeadline.signal : (parent as AbortSignal | undefined);

    if (this.#parentSignal?.aborted) {
      this.#abort(this.#parentSignal.reason);
      return;
    }
    if (this.budgetMs <= 0) {
      this.#abort(this.#expireReason());
      return;
    }
    this.#parentSignal?.addEventListener('abort', this.#onParentAbort, { once: true });
    // Also armed when capped: if the parent is disposed early, this child must still end at its budget.
    this.#timer = setTimeout(() => this.#abort(this.#expireReason()), this.budgetMs);
    // A forgotten deadline must not hold a shutting-down process open for minutes; any real work in flight
    // (a socket, a pending stdio read) keeps the loop alive on its own.
    this.#timer.unref();
  }

  remainingMs(): number {
    if (this.signal.aborted) return 0;
    return Math.max(0, this.expiresAt - performance.now());
  }

  child(ms: number, label?: string): Deadline {
    return Deadline.start(ms, label === undefined ? { parent: this } : { parent: this, label });
  }

  get expired(): boolean {
    return this.signal.aborted || performance.now() >= this.expiresAt;
  }

  /** Idempotent. The signal stays as it is (a finished call has nothing left to cancel). */
  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#parentSignal?.removeEventListener('abort', this.#onParentAbort);
    this.#parentSignal = undefined;
    this.#onExpire = undefined;
  }

  readonly #onParentAbort = (): void => {
    this.#abort(this.#parentSignal?.reason);
  };

  /** The reason this layer ends with when time runs out: the binding layer's label, found up the chain. */
  #expireReason(): unknown {
    if (this.signal.aborted) return this.signal.reason;
    // A bound that was cancelled (its caller left) no longer explains why time ran out here.
    const binding = this.#cappedBy ? this.#cappedBy.#expireReason() : undefined;
    if (binding !== undefined && isTimeout(binding)) return binding;
    return new ExaiError('timeout', `${this.label} timed out after ${formatSeconds(this.budgetMs)}`, {
      elapsedMs: this.budgetMs,
    });
  }

  #abort(reason: unknown): void {
    if (this.signal.aborted) return;
    const onExpire = this.#onExpire;
    this.dispose();
    this.#controller.abort(reason);
    if (onExpire && isTimeout(reason)) onExpire();
  }
}

function isTimeout(reason: unknown): boolean {
  return (isExaiError(reason) && reason.kind === 'timeout') || isDomError(reason, 'TimeoutError');
}

function isDomError(value: unknown, name: string): boolean {
  return typeof value === 'object' && value !== null && (value as { name?: unknown }).name === name;
}

/**
 * Turns an aborted signal's reason into an ExaiError: a timeout stays a timeout (ours, or a DOMException
 * TimeoutError from someone else's AbortSignal.timeout); everything else is the caller cancelling.
 */
export function abortReason(signal: AbortSignal): ExaiError {
  const reason: unknown = signal.reason;
  if (isExaiError(reason) && (reason.kind === 'timeout' || reason.kind === 'cancelled')) return reason;
  if (isDomError(reason, 'TimeoutError')) {
    return new ExaiError('timeout', `timed out: ${(reason as Error).message}`, { cause: reason });
  }
  const detail = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : '';
  return new ExaiError(
    'cancelled',
    detail ? `cancelled by the caller: ${detail}` : 'cancelled by the caller',
    {
      cause: reason,
    },
  );
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
