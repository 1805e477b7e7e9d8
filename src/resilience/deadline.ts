import { ExaiError, isExaiError } from '../errors.js';
import { formatSeconds } from '../format.js';

/**
 * The one budget type: every layer (tool call > workflow > model job > provider call > attempt) takes one
 * `Deadline`, which carries the signal that ends it. A budget ends when its own time runs out or when any of
 * its parents ends (the caller's cancel, a parent budget); `child()` derives the next layer down.
 *
 * Why not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: on Node 20 the timeout signal is only weakly
 * held, and once a garbage collection has run the combined signal never fires — a call that should time out
 * hangs instead. So each Deadline owns an AbortController and, when it needs one, a plain setTimeout whose
 * handle it stores: the timer list holds the callback strongly, the callback holds the controller.
 *
 * A budget whose time is decided by a parent or bound Deadline (its time would end no later than theirs) arms
 * no timer of its own while that Deadline lives: the binding Deadline's expiry reaches it as an abort. It arms
 * one only if the binding Deadline is disposed early or (a bound) cancelled, so a call stack of nested budgets
 * holds one timer, not one per layer.
 *
 * Clock: `performance.now()` (monotonic, so a wall-clock jump cannot stretch or shrink a budget; vitest's fake
 * timers fake it too). `expiresAt` is on that clock, not an epoch time.
 */
export interface DeadlineOptions {
  /**
   * What may end this budget early: the caller's cancel signal, a shutdown signal, a parent budget. A parent
   * Deadline's remaining time also caps this one's; any parent's abort reason is passed on unchanged.
   */
  parents?: ReadonlyArray<Deadline | AbortSignal | undefined>;
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

interface Listening {
  readonly signal: AbortSignal;
  readonly listener: () => void;
}

export class Deadline {
  readonly signal: AbortSignal;
  /** Infinite for a budget with no time of its own (see `child()` without a budget). */
  readonly budgetMs: number;
  readonly expiresAt: number;
  readonly label: string;

  readonly #controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #listening: Listening[] | undefined;
  /** Set when a parent's or bound's remaining time, not our own, is the binding budget. */
  #cappedBy: Deadline | undefined;
  /** Budgets that rely on this one's timer instead of arming their own: told when it is disposed early. */
  #dependents: Set<Deadline> | undefined;
  #onExpire: (() => void) | undefined;
  #disposed = false;

  /** A budget of `ms` (finite, up to what setTimeout can represent) under the given parents. */
  static start(ms: number, options: DeadlineOptions = {}): Deadline {
    if (!Number.isFinite(ms) || ms > MAX_TIMER_MS) {
      throw new RangeError(`deadline budget must be a finite number of ms up to ${MAX_TIMER_MS}, got ${ms}`);
    }
    return new Deadline(ms, options);
  }

  /**
   * A budget with no time of its own: it ends only when a parent ends or it is cancelled. A tool call's
   * frame (the client's cancel or the server's shutdown), a job that only its owner cancels.
   */
  static open(options: Omit<DeadlineOptions, 'onExpire'> = {}): Deadline {
    return new Deadline(Number.POSITIVE_INFINITY, options);
  }

  private constructor(ms: number, options: DeadlineOptions) {
    const parents = options.parents ?? [];
    // A tie goes to the parent: its reason is the truer story ("the workflow ran out", not "the call did").
    // Decided here, once, from the remaining times, so which of two coinciding timers fires first never
    // changes the reason reported.
    let budget = Math.max(0, ms);
    for (const binder of [...parents, options.bound]) {
      if (!(binder instanceof Deadline)) continue;
      const remaining = binder.remainingMs();
      if (remaining <= budget) {
        budget = remaining;
        this.#cappedBy = binder;
      }
    }
    this.budgetMs = budget;
    this.expiresAt = performance.now() + budget;
    this.label = options.label ?? 'operation';
    this.signal = this.#controller.signal;
    this.#onExpire = options.onExpire;

    for (const parent of parents) {
      const signal = parent instanceof Deadline ? parent.signal : parent;
      if (signal?.aborted) {
        this.#abort(signal.reason);
        return;
      }
    }
    if (budget <= 0) {
      this.#abort(this.#expireReason());
      return;
    }
    for (const parent of parents) {
      if (!parent) continue;
      const signal = parent instanceof Deadline ? parent.signal : parent;
      this.#listen(signal, () => this.#abort(signal.reason));
    }
    const binder = this.#cappedBy;
    if (binder === undefined || binder.#disposed) {
      this.#arm(budget);
      return;
    }
    binder.#dependents ??= new Set();
    binder.#dependents.add(this);
    if (parents.includes(binder)) return;
    // A bound's timeout ends us with its reason; its cancellation does not: our own time then runs on.
    this.#listen(binder.signal, () => {
      if (isTimeout(binder.signal.reason)) this.#abort(binder.signal.reason);
      else this.#arm(this.remainingMs());
    });
  }

  remainingMs(): number {
    if (this.signal.aborted) return 0;
    return Math.max(0, this.expiresAt - performance.now());
  }

  /**
   * The next layer down: at most `ms` (capped by what this one has left), or without `ms` exactly what this
   * one has left. Ends when this one does, with this one's reason.
   */
  child(ms?: number, label?: string): Deadline {
    const options = label === undefined ? { parents: [this] } : { parents: [this], label };
    return ms === undefined ? new Deadline(Number.POSITIVE_INFINITY, options) : Deadline.start(ms, options);
  }

  get expired(): boolean {
    return this.signal.aborted || performance.now() >= this.expiresAt;
  }

  /** Ends this budget (and every budget under it) now, with `reason`. */
  cancel(reason: unknown): void {
    this.#abort(reason);
  }

  /** Idempotent. The signal stays as it is (a finished call has nothing left to cancel). */
  dispose(): void {
    if (this.#disposed) return;
    this.#release();
    // Whoever relied on our timer now needs its own (their time is decided; only who keeps it changes).
    const dependents = this.#dependents;
    this.#dependents = undefined;
    if (dependents) for (const dependent of dependents) dependent.#arm(dependent.remainingMs());
  }

  /** Clears our timer and listeners and leaves the binder's dependents, without telling our own dependents. */
  #release(): void {
    this.#disposed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#listening) {
      for (const { signal, listener } of this.#listening) signal.removeEventListener('abort', listener);
      this.#listening = undefined;
    }
    if (this.#cappedBy) this.#cappedBy.#dependents?.delete(this);
    this.#onExpire = undefined;
  }

  #listen(signal: AbortSignal, listener: () => void): void {
    signal.addEventListener('abort', listener, { once: true });
    this.#listening ??= [];
    this.#listening.push({ signal, listener });
  }

  #arm(ms: number): void {
    // No time of its own and none left to inherit: only a parent or cancel() ends it.
    if (!Number.isFinite(ms)) return;
    if (this.#timer !== undefined || this.signal.aborted || this.#disposed) return;
    this.#timer = setTimeout(() => this.#abort(this.#expireReason()), ms);
    // A forgotten deadline must not hold a shutting-down process open for minutes; any real work in flight
    // (a socket, a pending stdio read) keeps the loop alive on its own.
    this.#timer.unref();
  }

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
    this.#release();
    // Dependents hear of it through our signal, each in its own way (a child ends, a bound's dependent may not).
    this.#dependents = undefined;
    this.#controller.abort(reason);
    if (onExpire && isTimeout(reason)) onExpire();
  }
}

/** A budget a layer uses, and how to let go of it when its work is done. */
export interface HeldBudget {
  readonly budget: Deadline;
  /** Disposes the budget if this layer made it; leaves a parent's alone. */
  release(): void;
}

/**
 * The budget of a layer that allows itself at most `ms` under its caller's: the caller's own when that ends no
 * later (a child would add a controller and serve no purpose: on a tie the parent's reason is reported
 * anyway), else a child of it, or without a caller a budget of its own.
 */
export function budgetWithin(parent: Deadline | undefined, ms: number, label: string): HeldBudget {
  if (parent !== undefined && parent.remainingMs() <= ms) return { budget: parent, release: () => {} };
  const budget = parent ? parent.child(ms, label) : Deadline.start(ms, { label });
  return { budget, release: () => budget.dispose() };
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
