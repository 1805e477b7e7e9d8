import { describe, expect, it } from 'vitest';
import {
  finishReasonError,
  GLM_CODING_PLAN_URL,
  mapProviderError,
  nextChinaMidnight,
  PROVIDER_TEXT_MAX_CHARS,
  parseResetTime,
  providerWords,
} from '../../src/providers/error-mapping.js';

const NOW = Date.parse('2026-09-15T10:00:00Z');
const glm = (code: string, status = 429, message = `glm says ${code}`) =>
  mapProviderError({
    provider: 'glm',
    model: 'glm-4.6',
    status,
    body: { error: { code, message } },
    now: NOW,
  });
const kimi = (type: string, status: number, message = `kimi says ${type}`) =>
  mapProviderError({
    provider: 'kimi',
    model: 'kimi-k2',
    status,
    body: { error: { type, message } },
    now: NOW,
  });

describe('mapProviderError over every GLM business code', () => {
  it.each([
    ['1000', 401, 'auth', false],
    ['1001', 401, 'auth', false],
    ['1002', 401, 'auth', false],
    ['1003', 401, 'auth', false],
    ['1004', 401, 'auth', false],
    ['1110', 429, 'auth', false],
    ['1111', 429, 'auth', false],
    ['1112', 429, 'auth', false],
    ['1113', 429, 'quota_exhausted', false],
    ['1120', 500, 'upstream_error', true],
    ['1121', 429, 'auth', false],
    ['1210', 400, 'bad_request', false],
    ['1211', 400, 'not_found', false],
    ['1212', 400, 'bad_request', false],
    ['1213', 400, 'bad_request', false],
    ['1214', 400, 'bad_request', false],
    ['1215', 400, 'bad_request', false],
    ['1220', 403, 'auth', false],
    ['1221', 404, 'not_found', false],
    ['1222', 404, 'not_found', false],
    ['1230', 500, 'upstream_error', true],
    ['1231', 400, 'bad_request', false],
    ['1234', 500, 'network', true],
    ['1261', 400, 'bad_request', false],
    ['1301', 400, 'content_filtered', false],
    ['1302', 429, 'rate_limited', true],
    ['1303', 429, 'rate_limited', true],
    ['1304', 429, 'quota_exhausted', false],
    ['1305', 429, 'overloaded', true],
    ['1308', 429, 'quota_exhausted', false],
    ['1309', 429, 'quota_exhausted', false],
    ['1310', 429, 'quota_exhausted', false],
    ['1311', 429, 'bad_request', false],
    ['1312', 429, 'overloaded', true],
    ['1313', 429, 'quota_exhausted', false],
    ['1316', 429, 'quota_exhausted', false],
    ['1317', 429, 'quota_exhausted', false],
  ] as const)('GLM %s (HTTP %i) is %s, retryable %s', (code, status, kind, retryable) => {
    const error = glm(code, status);
    expect(error).toMatchObject({ kind, retryable, code, status, provider: 'glm', model: 'glm-4.6' });
    expect(error.message).toContain(`[${code}]`);
    expect(error.message).toContain(`GLM said: "glm says ${code}"`);
  });

  it('an unknown GLM code falls back to the HTTP status', () => {
    expect(glm('9999', 503)).toMatchObject({ kind: 'overloaded', retryable: true });
    expect(glm('9999', 400)).toMatchObject({ kind: 'bad_request', retryable: false });
  });

  it('1211 says the model is unknown and where to update it', () => {
    expect(glm('1211', 400, 'Unknown Model, please check the model code.').message).toMatch(
      /unknown model.*listmodels.*EXAI_MODELS_FILE/,
    );
  });

  it('1113 names the Coding Plan endpoint as a likely cause', () => {
    const error = glm('1113', 429, 'Insufficient balance or no resource package. Please recharge.');
    expect(error.message).toContain(GLM_CODING_PLAN_URL);
    expect(error.message).toContain('GLM_API_URL');
  });

  it('1261 and a context-window 400 tell the caller to send less context', () => {
    expect(glm('1261', 400).message).toMatch(/send less context/);
  });

  it.each([
    [
      '1316',
      'Usage limit reached for the past 5 hours. Your limit will reset at 2026-09-15 21:28:10',
      '5-hour',
    ],
    [
      '1317',
      'Usage limit reached for the past 7 days. Your limit will reset at 2026-09-20 08:00:00',
      'weekly',
    ],
    ['1308', 'Usage limit reached for 5 hour. Your limit will reset at 2026-09-15 21:28:10', 'plan limit'],
    ['1310', 'Weekly/Monthly Limit Exhausted. Your limit will reset at 2026-10-02 11:25:23', 'plan limit'],
  ])('GLM %s carries the reset time from its message as retryAt', (code, message, what) => {
    const error = glm(code, 429, message);
    const stamp = /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})/.exec(message) as RegExpExecArray;
    expect(error.kind).toBe('quota_exhausted');
    expect(error.retryAt).toBe(Date.parse(`${stamp[1]}T${stamp[2]}+08:00`));
    expect(error.message).toContain(what);
    expect(error.message).toMatch(/it resets at/);
    expect(error.toJSON().retry_at).toBe(new Date(error.retryAt as number).toISOString());
  });

  it('a quota message without a reset time has no retryAt', () => {
    expect(glm('1316', 429, 'Usage limit reached for the past 5 hours.').retryAt).toBeUndefined();
  });

  it('an error inside a stream and a GLM request id in the body are kept', () => {
    const error = mapProviderError({
      provider: 'glm',
      model: 'glm-4.6',
      body: { error: { code: '1234', message: 'Network error' }, request_id: 'req-42' },
      inStream: true,
    });
    expect(error).toMatchObject({ kind: 'network', requestId: 'req-42' });
    expect(error.message).toMatch(/error in stream \[1234\]/);
  });
});

describe('mapProviderError over every Kimi error type', () => {
  it.each([
    ['content_filter', 400, 'content_filtered', false],
    ['invalid_request_error', 400, 'bad_request', false],
    ['invalid_authentication_error', 401, 'auth', false],
    ['incorrect_api_key_error', 401, 'auth', false],
    ['permission_denied_error', 403, 'auth', false],
    ['resource_not_found_error', 404, 'not_found', false],
    ['engine_overloaded_error', 429, 'overloaded', true],
    ['rate_limit_reached_error', 429, 'rate_limited', true],
    ['exceeded_current_quota_error', 429, 'quota_exhausted', false],
    ['server_error', 500, 'upstream_error', true],
    ['unexpected_output', 500, 'upstream_error', true],
    ['server_unavailable', 503, 'overloaded', true],
    ['client_closed_request', 499, 'protocol', false],
  ] as const)('Kimi %s (HTTP %i) is %s, retryable %s', (type, status, kind, retryable) => {
    const error = kimi(type, status);
    expect(error).toMatchObject({ kind, retryable, code: type, provider: 'kimi' });
    expect(error.message).toContain(`Kimi said: "kimi says ${type}"`);
  });

  it('403 about the balance is an exhausted quota, not a key problem', () => {
    expect(kimi('permission_denied_error', 403, 'insufficient balance').kind).toBe('quota_exhausted');
  });

  it('a daily token limit (TPD) is not retried and holds until midnight China time', () => {
    const error = kimi(
      'rate_limit_reached_error',
      429,
      'Your account org-x<ak-abcdef123456> request reached organization TPD rate limit, current: 1526210, limit: 1500000',
    );
    expect(error).toMatchObject({ kind: 'quota_exhausted', retryable: false });
    expect(error.retryAt).toBe(Date.parse('2026-09-15T16:00:00Z'));
    expect(error.message).toMatch(/daily token limit \(TPD\)/);
    expect(error.message).not.toContain('ak-abcdef123456');
  });

  it.each([
    [
      'concurrency',
      'Your account org-x<ak-y1234567> request reached organization max concurrency: 1, please try again after 1 seconds',
      /KIMI_MAX_CONCURRENCY \(a Tier0 account allows 1\)/,
      1_000,
    ],
    [
      'RPM',
      'Your account org-x<ak-y1234567> request reached organization max RPM: 3, please try again after 20 seconds',
      /per-minute/,
      20_000,
    ],
    [
      'TPM',
      'request reached project TPM rate limit, current: 1410, limit: 100, please try again after 1 seconds',
      /per-minute/,
      1_000,
    ],
  ])('a %s limit is retried after the wait its message asks for', (_name, message, hint, wait) => {
    const error = kimi('rate_limit_reached_error', 429, message);
    expect(error).toMatchObject({ kind: 'rate_limited', retryable: true, retryAfterMs: wait });
    expect(error.message).toMatch(hint);
  });

  it('a Retry-After header wins over the wait written in the message', () => {
    const error = mapProviderError({
      provider: 'kimi',
      model: 'kimi-k2',
      status: 429,
      retryAfterMs: 5_000,
      body: { error: { type: 'rate_limit_reached_error', message: 'please try again after 1 seconds' } },
    });
    expect(error.retryAfterMs).toBe(5_000);
  });

  it.each([
    ['invalid temperature: only 1 is allowed for this model', /fixed.*EXAI_MODELS_FILE/],
    ['invalid temperature: only 0.6 is allowed for this model', /fixed.*EXAI_MODELS_FILE/],
    [
      'thinking is enabled but reasoning_content is missing in assistant tool call message at index 2',
      /reasoning_content on every assistant tool-call turn/,
    ],
    ['Invalid request: Your request exceeded model token limit: 262144', /send less context/],
  ])('a 400 saying "%s" gets a hint', (message, hint) => {
    expect(kimi('invalid_request_error', 400, message).message).toMatch(hint);
  });

  it('a 404 on a model suggests it was retired and where to look', () => {
    expect(kimi('resource_not_found_error', 404, 'Not found the model kimi-latest').message).toMatch(
      /retired.*listmodels/,
    );
    const plain = mapProviderError({ provider: 'glm', model: 'glm-9', status: 404, body: 'Not Found' });
    expect(plain).toMatchObject({ kind: 'not_found' });
    expect(plain.message).toMatch(/retired.*listmodels/);
  });
});

describe("the provider's words in errors", () => {
  const KEY = 'sk-live-VERYSECRET-0123456789';

  it('removes the configured key, sk- tokens, GLM-shaped keys and bearer tokens', () => {
    const text = providerWords(
      `bad key ${KEY}; also sk-abcdef123456 and 0123456789abcdef0123456789abcdef.AbCdEfGhIj12 (Bearer xyz.123)`,
      [KEY],
    );
    expect(text).not.toContain('VERYSECRET');
    expect(text).not.toContain('sk-abcdef123456');
    expect(text).not.toContain('0123456789abcdef0123456789abcdef');
    expect(text).not.toContain('xyz.123');
    expect(text).toContain('[redacted]');
  });

  it('cuts long text and strips an HTML error page to its words', () => {
    const page = `<html><head><title>504 Gateway Time-out</title><style>body{}</style></head><body>${'x'.repeat(5_000)}</body></html>`;
    const text = providerWords(page);
    expect(text.startsWith('504 Gateway Time-out')).toBe(true);
    expect(text.length).toBeLessThanOrEqual(PROVIDER_TEXT_MAX_CHARS + 1);
    expect(text).not.toContain('<');
  });

  it('errors never repeat a key the provider echoed, and label the quote', () => {
    const error = mapProviderError({
      provider: 'glm',
      model: 'glm-4.6',
      status: 401,
      body: { error: { code: '1001', message: `Authorization Token ${KEY} is invalid` } },
      secrets: [KEY],
    });
    expect(error.message).not.toContain(KEY);
    expect(error.message).toMatch(/GLM said: "Authorization Token \[redacted\] is invalid"/);
  });
});

describe('reset times', () => {
  it.each([
    ['Your limit will reset at 2026-09-15 21:28:10', '2026-09-15T21:28:10+08:00'],
    ['Your limit will reset at 2026-09-15T21:28:10Z', '2026-09-15T21:28:10Z'],
    ['limit resets at 2026-09-16 01:00:00 +02:00', '2026-09-16T01:00:00+02:00'],
  ])('reads "%s"', (message, iso) => {
    expect(parseResetTime(message, NOW)).toBe(Date.parse(iso));
  });

  it.each([
    ['no time at all'],
    ['Your limit will reset at 2026-09-14 08:00:00'], // already past
    ['Your limit will reset at 2027-09-14 08:00:00'], // implausibly far
    ['Your limit will reset at 2026-13-45 99:00:00'],
  ])('ignores "%s"', message => {
    expect(parseResetTime(message, NOW)).toBeUndefined();
  });

  it('the China day turns at 16:00 UTC', () => {
    expect(nextChinaMidnight(Date.parse('2026-09-15T15:59:59Z'))).toBe(Date.parse('2026-09-15T16:00:00Z'));
    expect(nextChinaMidnight(Date.parse('2026-09-15T16:00:00Z'))).toBe(Date.parse('2026-09-16T16:00:00Z'));
  });
});

describe('finish reasons', () => {
  const finish = (finishReason: string, content = '', reasoning = '', toolCalls = 0) =>
    finishReasonError({
      provider: 'glm',
      model: 'glm-4.6',
      finishReason,
      content,
      reasoning,
      toolCalls,
      maxOutputTokens: 4096,
    });

  it.each([
    ['sensitive', 'content_filtered', false],
    ['network_error', 'upstream_error', true],
    ['model_context_window_exceeded', 'bad_request', false],
  ] as const)('%s is %s (retryable %s)', (reason, kind, retryable) => {
    expect(finish(reason, 'partial')).toMatchObject({ kind, retryable, code: reason });
  });

  it('the context overflow says to send less context', () => {
    expect(finish('model_context_window_exceeded')?.message).toMatch(/send less context/);
  });

  it('length with no answer after reasoning is truncated, with a hint to raise the budget', () => {
    const error = finish('length', '', 'thinking...');
    expect(error).toMatchObject({ kind: 'truncated', retryable: false });
    expect(error?.message).toMatch(/output budget of 4096 tokens went to reasoning.*raise the output budget/);
  });

  it.each([
    ['stop', 'done', '', 0],
    ['tool_calls', '', '', 1],
    ['length', 'a cut answer', 'thinking', 0],
    ['length', '', '', 1],
  ])('%s with content %j is a normal finish', (reason, content, reasoning, calls) => {
    expect(finish(reason, content, reasoning, calls)).toBeUndefined();
  });
});
