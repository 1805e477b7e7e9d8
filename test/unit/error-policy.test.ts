import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type BreakerEffect,
  ERROR_KINDS,
  ERROR_POLICY,
  type ErrorKind,
  ExaiError,
  hintFor,
  type KindPolicy,
} from '../../src/errors.js';
import { mapProviderError } from '../../src/providers/error-mapping.js';
import { createBreaker } from '../../src/resilience/breaker.js';
import { decideRetry } from '../../src/resilience/retry.js';

type Row = [ErrorKind, KindPolicy['retry'], BreakerEffect, boolean, number];

/** The policy per kind, spelt out: a change to errors.ts's table must be a change to this one. */
const EXPECTED: Row[] = [
  // kind              retry    breaker            fallback  HTTP
  ['timeout', 'never', 'counts', true, 504],
  ['stalled', 'yes', 'counts', true, 504],
  ['cancelled', 'never', 'proves_nothing', false, 499],
  ['rate_limited', 'yes', 'counts', true, 429],
  ['overloaded', 'yes', 'counts', true, 503],
  ['quota_exhausted', 'no', 'opens', true, 503],
  ['auth', 'no', 'opens', true, 502],
  ['content_filtered', 'no', 'neutral', false, 422],
  ['truncated', 'no', 'neutral', false, 502],
  ['bad_request', 'no', 'neutral', false, 400],
  ['not_found', 'no', 'neutral', false, 404],
  ['upstream_error', 'yes', 'counts', true, 502],
  ['network', 'yes', 'counts', true, 502],
  ['circuit_open', 'never', 'neutral', true, 503],
  ['protocol', 'no', 'counts', false, 502],
  ['not_configured', 'no', 'neutral', true, 503],
  ['local', 'no', 'proves_nothing', false, 500],
  ['internal', 'no', 'neutral', false, 500],
];

const never = () => new AbortController().signal;

describe('the error policy table', () => {
  it('has exactly one row per declared kind', () => {
    expect(Object.keys(ERROR_POLICY).sort()).toEqual([...ERROR_KINDS].sort());
    expect(EXPECTED.map(([kind]) => kind).sort()).toEqual([...ERROR_KINDS].sort());
  });

  it.each(EXPECTED)(
    '%s: retry %s, breaker %s, fallback %s, HTTP %i',
    (kind, retry, breaker, fallback, http) => {
      expect(ERROR_POLICY[kind]).toMatchObject({ retry, breaker, fallback, httpStatus: http });
    },
  );

  it.each(EXPECTED)(
    '%s: a new error is retryable by default exactly when the table says yes',
    (kind, retry) => {
      expect(new ExaiError(kind, 'x').retryable).toBe(retry === 'yes');
    },
  );

  it.each(EXPECTED)(
    '%s: the retry policy retries it, when marked retryable, unless the table says never',
    (kind, retry) => {
      const decision = decideRetry({
        error: new ExaiError(kind, 'x', { retryable: true }),
        retriesSoFar: 0,
        remainingMs: 60_000,
        options: { maxRetries: 2, baseMs: 10, capMs: 10 },
        random: () => 0.5,
      });
      expect(decision.retry).toBe(retry !== 'never');
    },
  );

  it.each(EXPECTED)(
    '%s: the breaker (threshold 2) treats one and two failures as %s says',
    async (kind, _r, effect) => {
      const breaker = createBreaker({ name: 'GLM', threshold: 2, resetMs: 60_000 });
      try {
        const fail = () => Promise.reject(new ExaiError(kind, `${kind} happened`));
        await expect(breaker.execute(fail, never())).rejects.toMatchObject({ kind });
        expect(breaker.snapshot().state).toBe(effect === 'opens' ? 'open' : 'closed');
        if (effect !== 'opens') await expect(breaker.execute(fail, never())).rejects.toMatchObject({ kind });
        const counted = effect === 'opens' || effect === 'counts';
        expect(breaker.snapshot()).toMatchObject({
          state: counted ? 'open' : 'closed',
          counts: { failures: counted ? (effect === 'opens' ? 1 : 2) : 0 },
        });
      } finally {
        breaker.dispose();
      }
    },
  );

  it('every hint ends without a stop (tool results add one) and names something to do', () => {
    for (const kind of ERROR_KINDS) {
      const { hint } = ERROR_POLICY[kind];
      if (hint !== undefined) expect(hint).toMatch(/^[A-Z].*[^.]$/);
    }
  });

  it('a hint about provider settings is given only to an error of a model call', () => {
    expect(hintFor(new ExaiError('network', 'x', { provider: 'glm' }))).toMatch(/GLM_API_URL/);
    expect(hintFor(new ExaiError('network', 'Redis unreachable'))).toBeUndefined();
    expect(hintFor(new ExaiError('auth', 'x'))).toMatch(/GLM_API_KEY/);
    expect(hintFor(new ExaiError('bad_request', 'x', { provider: 'glm' }))).toBeUndefined();
  });
});

describe('errors are values', () => {
  it('annotating returns a copy and leaves the original as it was', () => {
    const cause = new Error('socket hang up');
    const original = new ExaiError('network', 'GLM glm-4.6: connection failed', { status: 502, cause });
    const copy = original.withDetails({ provider: 'glm', attempts: 3, forwarded: true });
    expect(copy).not.toBe(original);
    expect(copy).toMatchObject({
      kind: 'network',
      provider: 'glm',
      attempts: 3,
      forwarded: true,
      status: 502,
    });
    expect(copy.cause).toBe(cause);
    expect(copy.retryable).toBe(true);
    expect(original).toMatchObject({ provider: undefined, attempts: undefined, forwarded: false });
  });

  it('a copy with a new message says it in its stack too', () => {
    const copy = new ExaiError('overloaded', 'GLM said busy').withDetails({
      message: 'GLM said busy (gave up)',
    });
    expect(copy.message).toBe('GLM said busy (gave up)');
    expect(copy.stack).toMatch(/^ExaiError: GLM said busy \(gave up\)/);
  });

  it('its fields cannot be assigned', () => {
    expectTypeOf<ExaiError['provider']>().toEqualTypeOf<string | undefined>();
    const error = new ExaiError('timeout', 'x');
    // @ts-expect-error readonly: annotate with withDetails instead
    const assign = () => (error.attempts = 2);
    expect(typeof assign).toBe('function');
  });
});

const NOW = Date.parse('2026-09-15T10:00:00Z');

/**
 * Every GLM business code and Kimi error type the providers document, through mapProviderError, to what the
 * server then does with it: whether it retries, what the breaker makes of it, whether it falls back, and the
 * status an HTTP client would get. Codes: https://docs.z.ai/api-reference/api-code; types:
 * https://platform.kimi.ai/docs/api/errors.
 */
type ProviderRow = [string, number, ErrorKind, boolean, BreakerEffect, boolean];

const GLM_CODES: ProviderRow[] = [
  // code   HTTP  kind                retryable  breaker           fallback
  ['1000', 401, 'auth', false, 'opens', true],
  ['1001', 401, 'auth', false, 'opens', true],
  ['1002', 401, 'auth', false, 'opens', true],
  ['1003', 401, 'auth', false, 'opens', true],
  ['1004', 401, 'auth', false, 'opens', true],
  ['1110', 429, 'auth', false, 'opens', true],
  ['1111', 429, 'auth', false, 'opens', true],
  ['1112', 429, 'auth', false, 'opens', true],
  ['1113', 429, 'quota_exhausted', false, 'opens', true],
  ['1121', 429, 'auth', false, 'opens', true],
  ['1210', 400, 'bad_request', false, 'neutral', false],
  ['1211', 400, 'not_found', false, 'neutral', false],
  ['1212', 400, 'bad_request', false, 'neutral', false],
  ['1213', 400, 'bad_request', false, 'neutral', false],
  ['1214', 400, 'bad_request', false, 'neutral', false],
  ['1215', 400, 'bad_request', false, 'neutral', false],
  ['1261', 400, 'bad_request', false, 'neutral', false],
  ['1301', 400, 'content_filtered', false, 'neutral', false],
  ['1302', 429, 'rate_limited', true, 'counts', true],
  ['1303', 429, 'rate_limited', true, 'counts', true],
  ['1304', 429, 'quota_exhausted', false, 'opens', true],
  ['1305', 429, 'overloaded', true, 'counts', true],
  ['1308', 429, 'quota_exhausted', false, 'opens', true],
  ['1309', 429, 'quota_exhausted', false, 'opens', true],
  ['1310', 429, 'quota_exhausted', false, 'opens', true],
  ['1311', 429, 'bad_request', false, 'neutral', false],
  ['1312', 429, 'overloaded', true, 'counts', true],
  ['1313', 429, 'quota_exhausted', false, 'opens', true],
  ['1316', 429, 'quota_exhausted', false, 'opens', true],
  ['1317', 429, 'quota_exhausted', false, 'opens', true],
];

const KIMI_TYPES: ProviderRow[] = [
  // type                            HTTP  kind               retryable  breaker     fallback
  ['content_filter', 400, 'content_filtered', false, 'neutral', false],
  ['invalid_request_error', 400, 'bad_request', false, 'neutral', false],
  ['invalid_authentication_error', 401, 'auth', false, 'opens', true],
  ['incorrect_api_key_error', 401, 'auth', false, 'opens', true],
  ['permission_denied_error', 403, 'auth', false, 'opens', true],
  ['resource_not_found_error', 404, 'not_found', false, 'neutral', false],
  ['engine_overloaded_error', 429, 'overloaded', true, 'counts', true],
  ['rate_limit_reached_error', 429, 'rate_limited', true, 'counts', true],
  ['exceeded_current_quota_error', 429, 'quota_exhausted', false, 'opens', true],
  ['client_closed_request', 499, 'protocol', false, 'counts', false],
  ['server_error', 500, 'upstream_error', true, 'counts', true],
  ['unexpected_output', 500, 'upstream_error', true, 'counts', true],
  ['server_unavailable', 503, 'overloaded', true, 'counts', true],
];

const PROVIDER_ROWS = [
  ...GLM_CODES.map(row => ['glm', ...row] as const),
  ...KIMI_TYPES.map(row => ['kimi', ...row] as const),
];

describe('mapProviderError through the policy table', () => {
  it.each(PROVIDER_ROWS)(
    '%s %s (HTTP %i) → %s, retryable %s, breaker %s, fallback %s',
    (provider, code, status, kind, retryable, breaker, fallback) => {
      // GLM sends a business code, Kimi an error type; both end up as the error's `code`.
      const body = { error: provider === 'glm' ? { code, message: 'm' } : { type: code, message: 'm' } };
      const error = mapProviderError({ provider, model: 'm', status, body, now: NOW });
      expect(error).toMatchObject({ kind, retryable, code, status, provider });
      expect(ERROR_POLICY[error.kind]).toMatchObject({ breaker, fallback });
    },
  );

  it('a Kimi daily token limit is an exhausted quota that opens the breaker, not a rate limit to retry', () => {
    const error = mapProviderError({
      provider: 'kimi',
      model: 'kimi-k2.6',
      status: 429,
      body: {
        error: { type: 'rate_limit_reached_error', message: 'request reached organization TPD rate limit' },
      },
      now: NOW,
    });
    expect(error).toMatchObject({ kind: 'quota_exhausted', retryable: false });
    expect(ERROR_POLICY[error.kind]).toMatchObject({ breaker: 'opens', fallback: true, httpStatus: 503 });
  });
});
