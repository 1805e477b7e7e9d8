/**
 * The one error taxonomy of exai-mcp. Every failure that crosses a module boundary is an ExaiError with a
 * `kind` a caller can branch on and a `retryable` flag the retry policy reads. Messages are written for a
 * person and never contain secrets.
 *
 * Errors are values: every field is readonly, and adding what a layer knows (provider, attempts, elapsed
 * time) means `withDetails`, which returns a copy. One error object can reach several callers at once (a
 * deadline's reason is the abort reason of every child below it; a model job hands one failure to every
 * call that joined it), so an annotation written in place would show one call's attempts in another call's error.
 */
export const ERROR_KINDS = [
  'timeout',
  'stalled',
  'cancelled',
  'rate_limited',
  'overloaded',
  'quota_exhausted',
  'auth',
  'content_filtered',
  'truncated',
  'bad_request',
  'not_found',
  'upstream_error',
  'network',
  'circuit_open',
  'protocol',
  'not_configured',
  'local',
  'internal',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

/**
 * How a kind counts against a provider's circuit breaker:
 * - `opens`: opens it at once; every further call would fail the same way (bad key, no quota left).
 * - `counts`: one consecutive failure towards the threshold; the provider is struggling.
 * - `neutral`: neither counts nor resets the count; the provider answered, the request (or our own state) was
 *   at fault. A half-open probe that ends so proved the provider answers and closes the breaker.
 * - `proves_nothing`: like neutral, but a half-open probe that ends so never got an answer, so it reopens.
 */
export type BreakerEffect = 'opens' | 'counts' | 'neutral' | 'proves_nothing';

export interface KindPolicy {
  /**
   * `yes`: another attempt may succeed, all else being equal. `no`: not retried unless the error itself says
   * otherwise (an unreadable stream is worth one more try, an unreadable config is not). `never`: ends the call
   * whatever the error says, because the budget, the caller or the breaker decided.
   */
  readonly retry: 'yes' | 'no' | 'never';
  readonly breaker: BreakerEffect;
  /** The equivalent model on the other provider may answer: this provider is unavailable now, the request is fine. */
  readonly fallback: boolean;
  /** The status an HTTP client gets when a request fails this way outside a tool result. */
  readonly httpStatus: number;
  /** What the person or agent reading the error can do, when the message alone does not say it. */
  readonly hint?: string;
  /** The hint names provider settings, so it fits only errors of a model call (`provider` set). */
  readonly hintNeedsProvider?: true;
}

/**
 * The policy per kind, in one place: retry (resilience/retry.ts and the default `retryable`), breaker
 * (resilience/breaker.ts), fallback (providers/gateway.ts), client status (the HTTP edge) and hint (tool
 * results). The HTTP statuses follow the gateway convention: the upstream's failures are 502/503/504
 * (RFC 9110 §15.6, https://www.rfc-editor.org/rfc/rfc9110#section-15.6), the caller's own are 4xx, and a
 * caller that went away is 499 (nginx's "client closed request", https://nginx.org/en/docs/http/ngx_http_log_module.html).
 */
export const ERROR_POLICY: { readonly [K in ErrorKind]: KindPolicy } = {
  timeout: {
    retry: 'never',
    breaker: 'counts',
    fallback: true,
    httpStatus: 504,
    hint: 'The model did not answer within the deadline: retry, send less context, or raise GLM_TIMEOUT_SECS / KIMI_TIMEOUT_SECS',
  },
  stalled: {
    retry: 'yes',
    breaker: 'counts',
    fallback: true,
    httpStatus: 504,
    hint: 'The provider stopped sending mid-answer: retry',
  },
  cancelled: { retry: 'never', breaker: 'proves_nothing', fallback: false, httpStatus: 499 },
  rate_limited: {
    retry: 'yes',
    breaker: 'counts',
    fallback: true,
    httpStatus: 429,
    hint: 'The provider is busy: retry in a little while',
  },
  overloaded: {
    retry: 'yes',
    breaker: 'counts',
    fallback: true,
    httpStatus: 503,
    hint: 'The provider is busy: retry in a little while',
  },
  quota_exhausted: {
    retry: 'no',
    breaker: 'opens',
    fallback: true,
    httpStatus: 503,
    hint: 'The account has no quota left: top it up, or use a model of the other provider',
  },
  auth: {
    retry: 'no',
    breaker: 'opens',
    fallback: true,
    httpStatus: 502,
    hint: 'Check the API key (GLM_API_KEY / KIMI_API_KEY) and restart the server',
  },
  content_filtered: { retry: 'no', breaker: 'neutral', fallback: false, httpStatus: 422 },
  truncated: { retry: 'no', breaker: 'neutral', fallback: false, httpStatus: 502 },
  bad_request: { retry: 'no', breaker: 'neutral', fallback: false, httpStatus: 400 },
  not_found: { retry: 'no', breaker: 'neutral', fallback: false, httpStatus: 404 },
  upstream_error: { retry: 'yes', breaker: 'counts', fallback: true, httpStatus: 502 },
  network: {
    retry: 'yes',
    breaker: 'counts',
    fallback: true,
    httpStatus: 502,
    // The conversation store's (Redis) network errors name their own setting.
    hint: 'Check the network and the provider URL (GLM_API_URL / KIMI_API_URL)',
    hintNeedsProvider: true,
  },
  circuit_open: {
    retry: 'never',
    breaker: 'neutral',
    fallback: true,
    httpStatus: 503,
    hint: 'The provider failed repeatedly and is paused; use a model of the other provider meanwhile',
  },
  protocol: { retry: 'no', breaker: 'counts', fallback: false, httpStatus: 502 },
  not_configured: { retry: 'no', breaker: 'neutral', fallback: true, httpStatus: 503 },
  // Failed on our side before anything reached the provider (the body could not be built, or is over our own
  // size cap): the other provider would get the same body, and the provider proved nothing.
  local: { retry: 'no', breaker: 'proves_nothing', fallback: false, httpStatus: 500 },
  // A bug in exai-mcp: something other than an ExaiError was thrown. The server log has the details.
  internal: { retry: 'no', breaker: 'neutral', fallback: false, httpStatus: 500 },
};

/** The hint for this error, or undefined when its kind has none or it does not apply to this error. */
export function hintFor(error: ExaiError): string | undefined {
  const policy = ERROR_POLICY[error.kind];
  if (policy.hintNeedsProvider && error.provider === undefined) return undefined;
  return policy.hint;
}

export interface ExaiErrorDetails {
  retryable?: boolean;
  provider?: string;
  model?: string;
  status?: number;
  /** Provider business code (GLM `error.code`) or error type (Kimi `error.type`). */
  code?: string;
  requestId?: string;
  attempts?: number;
  elapsedMs?: number;
  /** Server-requested wait before the next attempt, from retry-after-ms / retry-after. */
  retryAfterMs?: number;
  /**
   * When trying again can help (epoch ms). For circuit_open: when the breaker lets a probe through again; for
   * quota_exhausted: when the provider said the quota resets, which holds the breaker open until then.
   */
  retryAt?: number;
  /** True once any content of this call reached the caller; such a call is never retried. */
  forwarded?: boolean;
  cause?: unknown;
}

export class ExaiError extends Error {
  /** Brand, so guards work across duplicated module copies where instanceof would not. */
  readonly isExaiError = true;
  readonly kind: ErrorKind;
  readonly retryable: boolean;
  readonly provider: string | undefined;
  readonly model: string | undefined;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  readonly attempts: number | undefined;
  readonly elapsedMs: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly retryAt: number | undefined;
  readonly forwarded: boolean;

  constructor(kind: ErrorKind, message: string, details: ExaiErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ExaiError';
    this.kind = kind;
    this.retryable = details.retryable ?? ERROR_POLICY[kind].retry === 'yes';
    this.provider = details.provider;
    this.model = details.model;
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId;
    this.attempts = details.attempts;
    this.elapsedMs = details.elapsedMs;
    this.retryAfterMs = details.retryAfterMs;
    this.retryAt = details.retryAt;
    this.forwarded = details.forwarded ?? false;
  }

  /** Every detail as given to the constructor, so a copy can start from them. */
  details(): ExaiErrorDetails {
    const details: ExaiErrorDetails = { retryable: this.retryable, forwarded: this.forwarded };
    if (this.provider !== undefined) details.provider = this.provider;
    if (this.model !== undefined) details.model = this.model;
    if (this.status !== undefined) details.status = this.status;
    if (this.code !== undefined) details.code = this.code;
    if (this.requestId !== undefined) details.requestId = this.requestId;
    if (this.attempts !== undefined) details.attempts = this.attempts;
    if (this.elapsedMs !== undefined) details.elapsedMs = this.elapsedMs;
    if (this.retryAfterMs !== undefined) details.retryAfterMs = this.retryAfterMs;
    if (this.retryAt !== undefined) details.retryAt = this.retryAt;
    if (this.cause !== undefined) details.cause = this.cause;
    return details;
  }

  /**
   * A copy with `changes` laid over this error's details (and message, when given). The copy keeps this
   * error's stack, which says where the failure happened rather than where it was annotated.
   */
  withDetails(changes: ExaiErrorDetails & { message?: string }): ExaiError {
    const { message = this.message, ...details } = changes;
    const copy = new ExaiError(this.kind, message, { ...this.details(), ...details });
    if (this.stack !== undefined) copy.stack = this.stack.replace(this.message, message);
    return copy;
  }

  /** Structured form for logs and tool output: everything a person or agent needs, nothing secret. */
  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      message: this.message,
      retryable: this.retryable,
      provider: this.provider,
      model: this.model,
      status: this.status,
      code: this.code,
      request_id: this.requestId,
      attempts: this.attempts,
      elapsed_ms: this.elapsedMs,
      retry_after_ms: this.retryAfterMs,
      retry_at: this.retryAt === undefined ? undefined : new Date(this.retryAt).toISOString(),
    };
  }
}

export function isExaiError(value: unknown): value is ExaiError {
  return (
    typeof value === 'object' && value !== null && (value as { isExaiError?: unknown }).isExaiError === true
  );
}

/** Turns anything thrown into an ExaiError, keeping an existing one as is. */
export function toExaiError(value: unknown, fallbackKind: ErrorKind = 'protocol'): ExaiError {
  if (isExaiError(value)) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new ExaiError(fallbackKind, message, { cause: value });
}
