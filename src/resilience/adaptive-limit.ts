/**
 * The concurrency a provider key actually allows, learned from its answers (AIMD, as TCP congestion control).
 *
 * Why: the configured maximum (GLM_MAX_CONCURRENCY, default 32) is far above what many keys allow. A Kimi
 * Tier0 key takes 1 request in flight (https://platform.moonshot.ai/docs/pricing/limits), GLM Coding Plan
 * keys 1-3 in practice (https://github.com/anomalyco/opencode/issues/8618). Every call above that is answered
 * with a concurrency 429 we caused ourselves, and is retried into the same wall. So:
 *
 * - **Decrease** on a concurrency refusal: the limit drops to at most half (once per epoch, so one burst of
 *   refusals halves it once, not once per refused call), and never above what the refusal proves: the
 *   provider refused the n-th call in flight, so it allows at most n-1; a refusal that names the limit
 *   (Kimi: "max organization concurrency: 1") caps it there. Never below 1.
 * - **Increase** by one after `limit` successes that used the whole limit (a limit nobody reaches says nothing
 *   about whether a higher one would work), and not within `probeIntervalMs` of the last refusal: each
 *   probe above the true limit costs one 429, so probing is rare rather than constant.
 *
 * Pure logic with an injected clock; the bulkhead feeds it and obeys `limit`.
 */

export interface AdaptiveLimitOptions {
  /** The configured maximum, and the starting limit: a key with room is not slowed down while we learn. */
  max: number;
  /** No increase within this long of the last concurrency refusal. */
  probeIntervalMs: number;
  /** Multiplicative decrease factor in (0, 1). */
  decreaseFactor?: number;
  now?: () => number;
}

export interface LimitSnapshot {
  limit: number;
  max: number;
  /** How often a concurrency refusal lowered the limit. */
  decreases: number;
  /** When the provider last refused a call for concurrency. */
  lastLimitedAt?: string;
}

export interface AdaptiveLimit {
  /** Calls allowed in flight now: an integer in [1, max]. */
  readonly limit: number;
  readonly max: number;
  /** Changes on every decrease; a call records it when it starts. */
  readonly epoch: number;
  /** A call succeeded; `inFlight` counts the calls in flight when it started, itself included. */
  onSuccess(sample: { inFlight: number }): void;
  /**
   * The provider refused a call for concurrency. `inFlight` counts the calls in flight at the refusal, itself
   * included; `epoch` is the one the call started in; `reported` is the limit the provider named, if any.
   */
  onLimited(sample: { inFlight: number; epoch: number; reported?: number | undefined }): void;
  /** Called after every change of `limit`. */
  onChange(listener: (limit: number) => void): () => void;
  snapshot(): LimitSnapshot;
}

export function createAdaptiveLimit(options: AdaptiveLimitOptions): AdaptiveLimit {
  const { max, probeIntervalMs, decreaseFactor = 0.5, now = Date.now } = options;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`adaptive limit max must be >= 1, got ${max}`);
  if (!(decreaseFactor > 0 && decreaseFactor < 1))
    throw new RangeError(`decrease factor must be in (0, 1), got ${decreaseFactor}`);

  let limit = max;
  let epoch = 0;
  let decreases = 0;
  let lastLimitedAt: number | undefined;
  /** Saturated successes since the limit last changed. */
  let credit = 0;
  const listeners = new Set<(limit: number) => void>();

  const set = (next: number): void => {
    const clamped = Math.max(1, Math.min(max, Math.floor(next)));
    if (clamped === limit) return;
    limit = clamped;
    credit = 0;
    for (const listener of listeners) listener(limit);
  };

  return {
    get limit() {
      return limit;
    },
    max,
    get epoch() {
      return epoch;
    },

    onSuccess({ inFlight }) {
      if (limit >= max || inFlight < limit) return;
      if (lastLimitedAt !== undefined && now() - lastLimitedAt < probeIntervalMs) return;
      credit++;
      if (credit >= limit) set(limit + 1);
    },

    onLimited({ inFlight, epoch: startedIn, reported }) {
      let next = Math.min(limit, inFlight - 1);
      if (reported !== undefined && reported >= 1) next = Math.min(next, reported);
      // Refusals of calls sent before the last decrease are the same burst: they may lower the limit to what
      // they prove, but do not halve it again.
      if (startedIn === epoch) next = Math.min(next, limit * decreaseFactor);
      const before = limit;
      set(next);
      if (limit < before || startedIn === epoch) epoch++;
      if (limit < before) decreases++;
      // Any refusal, even at the floor, says the key is full: postpone the next probe.
      lastLimitedAt = now();
    },

    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    snapshot() {
      return {
        limit,
        max,
        decreases,
        ...(lastLimitedAt !== undefined && { lastLimitedAt: new Date(lastLimitedAt).toISOString() }),
      };
    },
  };
}
