/**
 * The one error taxonomy of exai-mcp. Every failure that crosses a module boundary is an ExaiError with a
 * `kind` a caller can branch on and a `retryable` flag the retry policy reads. Messages are written for a
 * person and never contain secrets.
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
  // Failed on our side before anything reached the provider (the body could not be built, or is over our own
  // size cap): never retried, never counted against the provider's breaker, no fallback (the other provider
  // would get the same body).
  'local',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Kinds where another attempt may succeed, all else being equal. */
const RETRYABLE_KINDS: ReadonlySet<ErrorKind> = new Set([
  'stalled',
  'rate_limited',
  'overloaded',
  'upstream_error',
  'network',
]);

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
  provider: string | undefined;
  model: string | undefined;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  attempts: number | undefined;
  elapsedMs: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly retryAt: number | undefined;
  forwarded: boolean;

  constructor(kind: ErrorKind, message: string, details: ExaiErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ExaiError';
    this.kind = kind;
    this.retryable = details.retryable ?? RETRYABLE_KINDS.has(kind);
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
