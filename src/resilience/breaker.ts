import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type IBackoff,
  type IBreaker,
  type IDisposable,
  type IHalfOpenAfterBackoffContext,
  isBrokenCircuitError,
} from 'cockatiel';
import { ERROR_POLICY, type ErrorKind, ExaiError, isExaiError } from '../errors.js';
import { abortReason } from './deadline.js';

/**
 * One circuit breaker per provider, on cockatiel 3.2.1's CircuitBreakerPolicy + ConsecutiveBreaker.
 *
 * Deviations from plain cockatiel, and why:
 * Which kinds count, open at once, or prove nothing is the `breaker` column of ERROR_POLICY (errors.ts).
 *
 * - Auth and quota failures open the breaker at once: every further call would fail the same way. A small
 *   IBreaker wraps ConsecutiveBreaker and reads the policy's `lastFailure`, which cockatiel sets just before it
 *   calls `failure()`, so the decision sees the exact error without shared flags between concurrent calls.
 * - While half-open we fail fast instead of letting cockatiel park callers behind the probe: that wait is not
 *   abortable, and the re-execute after it drops the caller's AbortSignal (fixed only in cockatiel 4, Node 22+).
 * - Errors of the caller's making (cancelled, bad_request, not_found, content_filtered, circuit_open,
 *   not_configured, local, non-ExaiErrors) pass through unchanged and neither count nor reset the consecutive
 *   count: they say nothing about the provider's health. Nor do errors the owner marks with `ignore` (a
 *   concurrency 429 says we sent too many at once, which the adaptive limit fixes, not that the provider is
 *   down; counted, one burst of them opened the breaker for every caller). A probe that ends that way proved
 *   the provider answers and closes the breaker (cockatiel's rule), except a cancelled or local probe, which
 *   never got an answer and reopens it.
 * - The half-open transition is lazy (cockatiel): after `resetMs` the breaker reports 'open' until the next call,
 *   which becomes the probe.
 * - A quota failure that says when the quota resets (`retryAt`: GLM's 5-hour and weekly Coding Plan limits,
 *   Kimi's daily token limit) holds the breaker open until then rather than `resetMs`: a probe before the
 *   reset can only fail the same way, and each one costs a request against a limit already reached.
 */
export type BreakerStateName = 'closed' | 'open' | 'half_open';

export interface BreakerSnapshot {
  state: BreakerStateName;
  consecutiveFailures: number;
  openedAt?: string;
  retryAt?: string;
  /** The last failure that counted against the provider. */
  lastError?: { kind: string; message: string; at: string };
  /** The last 20 transitions, oldest first. */
  transitions: Array<{ from: BreakerStateName; to: BreakerStateName; at: string }>;
  /** failures = counted failures only; rejected = calls failed fast while open or half-open. */
  counts: { successes: number; failures: number; rejected: number };
}

export interface ProviderBreaker {
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T>;
  /** How many times the circuit has opened: taken when a call is admitted, for ensureNotOpen. */
  generation(): number;
  /**
   * Throws the fail-fast error when the circuit opened since `generation` and is not closed again: a call
   * that waited in the concurrency queue checks before it sends, so an open breaker stops queued calls too.
   * (A half-open probe was admitted after the opening, so it passes.)
   */
  ensureNotOpen(generation: number): void;
  snapshot(): BreakerSnapshot;
  onTransition(listener: (from: BreakerStateName, to: BreakerStateName) => void): () => void;
  dispose(): void;
}

const effectOf = (kind: ErrorKind) => ERROR_POLICY[kind].breaker;
/** Kinds that say something about the provider's health: they count towards (or open) the breaker. */
const counts = (kind: ErrorKind): boolean => effectOf(kind) === 'counts' || effectOf(kind) === 'opens';
const MAX_TRANSITIONS = 20;

type CountedTest = (error: unknown) => error is ExaiError;

const countedUnless =
  (ignore: ((error: ExaiError) => boolean) | undefined): CountedTest =>
  (error: unknown): error is ExaiError =>
    isExaiError(error) && counts(error.kind) && !ignore?.(error);

class OpenAtOnceOnFatal implements IBreaker {
  readonly consecutive: ConsecutiveBreaker;
  lastError: () => unknown = () => undefined;
  constructor(
    threshold: number,
    private readonly isCounted: CountedTest,
  ) {
    this.consecutive = new ConsecutiveBreaker(threshold);
  }
  get state(): unknown {
    return this.consecutive.state;
  }
  set state(value: unknown) {
    this.consecutive.state = value as number;
  }
  success(): void {
    this.consecutive.success();
  }
  failure(): boolean {
    const error = this.lastError();
    // Only an abandoned probe gets here uncounted; cockatiel reopens on any half-open failure regardless.
    if (!this.isCounted(error)) return true;
    return this.consecutive.failure() || effectOf(error.kind) === 'opens';
  }
}

export function createBreaker(options: {
  name: string;
  threshold: number;
  resetMs: number;
  /** Clock for messages and snapshots. cockatiel times the half-open on Date.now, so keep the two in step. */
  now?: () => number;
  /** Failures of a counted kind that still say nothing about the provider's health. */
  ignore?: (error: ExaiError) => boolean;
}): ProviderBreaker {
  const { name, resetMs, now = Date.now } = options;
  const isCounted = countedUnless(options.ignore);
  const breaker = new OpenAtOnceOnFatal(options.threshold, isCounted);
  const abandonedProbes = new WeakSet<object>();
  // How long this opening lasts: resetMs, or until the reset time the failure that opened it named.
  // A named reset time is kept as given, so messages and snapshots repeat the provider's own instant.
  let openUntil: number | undefined;
  const openFor = (context: IHalfOpenAfterBackoffContext): number => {
    const error = 'error' in context.result ? context.result.error : undefined;
    openUntil = undefined;
    if (isExaiError(error) && error.kind === 'quota_exhausted' && error.retryAt !== undefined) {
      const at = now();
      if (error.retryAt - at > resetMs) {
        openUntil = error.retryAt;
        return error.retryAt - at;
      }
    }
    return resetMs;
  };
  let openDurationMs = resetMs;
  const reopensAt = (): number => openUntil ?? (openedAt ?? now()) + openDurationMs;
  const halfOpenAfter = {
    next(context: IHalfOpenAfterBackoffContext): IBackoff<IHalfOpenAfterBackoffContext> {
      const duration = openFor(context);
      openDurationMs = duration;
      return { duration, next: halfOpenAfter.next };
    },
  };
  const policy = circuitBreaker(
    handleWhen(error => isCounted(error) || abandonedProbes.has(error)),
    { halfOpenAfter, breaker },
  );
  breaker.lastError = () => {
    const last = policy.lastFailure;
    return last && 'error' in last ? last.error : undefined;
  };

  const iso = (ms: number): string => new Date(ms).toISOString();
  const tally = { successes: 0, failures: 0, rejected: 0 };
  const transitions: BreakerSnapshot['transitions'] = [];
  const listeners = new Set<(from: BreakerStateName, to: BreakerStateName) => void>();
  let current: BreakerStateName = 'closed';
  let openedAt: number | undefined;
  let opens = 0;
  // Taken when it opens: a slow call that started earlier may still succeed and reset the live count.
  let failuresWhenOpened = 0;
  let lastError: { kind: ErrorKind; message: string; at: number } | undefined;
  // cockatiel emits onHalfOpen synchronously just before it invokes the probe, so the next fn to start is it.
  let probeStarting = false;

  const subscriptions: IDisposable[] = [
    policy.onHalfOpen(() => {
      probeStarting = true;
    }),
    policy.onBreak(() => {
      opens++;
      openedAt = now();
      failuresWhenOpened = breaker.consecutive.state;
    }),
    // A probe that closes the breaker without a success (e.g. bad_request) skips breaker.success(); without
    // this the count would stay at the threshold and one later failure would reopen at once.
    policy.onReset(() => breaker.consecutive.success()),
    policy.onStateChange(state => {
      const to = stateName(state);
      const from = current;
      current = to;
      if (from === to) return;
      transitions.push({ from, to, at: iso(now()) });
      if (transitions.length > MAX_TRANSITIONS) transitions.shift();
      for (const listener of listeners) {
        try {
          listener(from, to);
        } catch {
          // A status or metrics listener's bug must not fail the provider call that happened to trigger it.
        }
      }
    }),
  ];

  const openError = (): ExaiError => {
    tally.rejected++;
    const last = lastError ? `last: ${lastError.kind}: ${lastError.message}` : 'no error recorded';
    const why =
      lastError && effectOf(lastError.kind) === 'opens'
        ? `${lastError.kind} failures open it at once; ${last}`
        : `${failuresWhenOpened} consecutive failures; ${last}`;
    if (policy.state === CircuitState.HalfOpen) {
      // No retryAt: the probe decides, and it may run for as long as its own deadline allows.
      return new ExaiError(
        'circuit_open',
        `${name} circuit breaker is half-open: one probe call is testing the provider (${why}); failing fast`,
        { retryable: false, provider: name },
      );
    }
    const retryAt = reopensAt();
    return new ExaiError(
      'circuit_open',
      `${name} circuit breaker is open until ${untilText(retryAt, now())} (${why}); failing fast`,
      { retryable: false, provider: name, retryAt },
    );
  };

  return {
    async execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
      if (signal.aborted) throw abortReason(signal);
      if (policy.state === CircuitState.HalfOpen) throw openError();
      try {
        return await policy.execute(async () => {
          const isProbe = probeStarting;
          probeStarting = false;
          try {
            const value = await fn(signal);
            tally.successes++;
            return value;
          } catch (error) {
            if (isCounted(error)) {
              tally.failures++;
              lastError = { kind: error.kind, message: error.message, at: now() };
            } else if (isProbe && isExaiError(error) && effectOf(error.kind) === 'proves_nothing') {
              abandonedProbes.add(error);
            }
            throw error;
          }
        }, signal);
      } catch (error) {
        if (isBrokenCircuitError(error)) throw openError();
        throw error;
      }
    },

    generation: () => opens,

    ensureNotOpen(generation: number): void {
      if (opens > generation && policy.state !== CircuitState.Closed) throw openError();
    },

    snapshot(): BreakerSnapshot {
      const snap: BreakerSnapshot = {
        state: stateName(policy.state),
        consecutiveFailures: breaker.consecutive.state,
        transitions: transitions.map(t => ({ ...t })),
        counts: { ...tally },
      };
      if (snap.state !== 'closed' && openedAt !== undefined) {
        snap.openedAt = iso(openedAt);
        snap.retryAt = iso(reopensAt());
      }
      if (lastError) snap.lastError = { ...lastError, at: iso(lastError.at) };
      return snap;
    },

    onTransition(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    dispose(): void {
      for (const subscription of subscriptions) subscription.dispose();
      listeners.clear();
    },
  };
}

function stateName(state: CircuitState): BreakerStateName {
  if (state === CircuitState.Closed) return 'closed';
  if (state === CircuitState.HalfOpen) return 'half_open';
  return 'open';
}

/** Local wall-clock time of day (HH:MM:SS): what a person compares against their own clock. */
export function clockTime(epochMs: number): string {
  return new Date(epochMs).toTimeString().slice(0, 8);
}

/** clockTime, with the date in front when the moment is a day or more away (a weekly quota reset). */
export function untilText(epochMs: number, now: number = Date.now()): string {
  if (epochMs - now < 86_400_000) return clockTime(epochMs);
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clockTime(epochMs)}`;
}
