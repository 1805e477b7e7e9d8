import { afterEach, describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/providers/models.js';
import {
  fakeProviderSuite,
  rejection,
  TEST_KEY,
  type TestGateway,
  testGateway,
  user,
} from '../helpers/gateway.js';
import { chunk, type Script, type ScriptedUpstream, startScriptedUpstream } from './scripted-upstream.js';

const suite = fakeProviderSuite();

let upstream: ScriptedUpstream | undefined;
let scripted: TestGateway | undefined;
afterEach(async () => {
  scripted?.close();
  scripted = undefined;
  await upstream?.close();
  upstream = undefined;
});

/** A gateway whose GLM (or Kimi) is the scripted upstream. */
async function scriptedGateway(
  provider: 'glm' | 'kimi',
  scripts: Script[],
  env: Record<string, string> = {},
): Promise<TestGateway> {
  upstream = await startScriptedUpstream(scripts);
  scripted = testGateway({ [provider === 'glm' ? 'GLM_API_URL' : 'KIMI_API_URL']: upstream.url, ...env });
  return scripted;
}

/** Any catalogue model of a provider, so these tests do not hang on one model id. */
const modelOf = (t: TestGateway, provider: 'glm' | 'kimi', where: (m: ModelSpec) => boolean = () => true) => {
  const model = t.gateway.registry.list().find(m => m.provider === provider && where(m));
  if (!model) throw new Error(`no ${provider} model in the catalogue`);
  return model.name;
};

const budgetOf = (body: Record<string, unknown> | undefined) =>
  (body?.max_tokens ?? body?.max_completion_tokens) as number;

const answer = (text: string, usage = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }) => ({
  events: [chunk({ role: 'assistant', content: text }), chunk({}, { finish: 'stop', usage })],
});

describe('abnormal finish reasons are errors, not answers', () => {
  it('GLM finish_reason sensitive is content_filtered and not retried', async () => {
    const t = await scriptedGateway('glm', [
      { events: [chunk({ content: 'Part of' }), chunk({}, { finish: 'sensitive' })] },
    ]);
    const error = await rejection(t.gateway.chat({ model: modelOf(t, 'glm'), messages: user('hi') }));
    expect(error).toMatchObject({ kind: 'content_filtered', retryable: false, code: 'sensitive' });
    expect(error.message).toMatch(/safety filter/);
    expect(upstream?.bodies).toHaveLength(1);
  });

  it('GLM finish_reason network_error is retried while nothing reached the caller', async () => {
    const t = await scriptedGateway('glm', [
      { events: [chunk({ content: 'Half an' }), chunk({}, { finish: 'network_error' })] },
      answer('a whole answer'),
    ]);
    const response = await t.gateway.chat({ model: modelOf(t, 'glm'), messages: user('hi') });
    expect(response.content).toBe('a whole answer');
    expect(response.attempts).toBe(2);
    expect(upstream?.bodies).toHaveLength(2);
  });

  it('GLM finish_reason network_error after content was forwarded is not retried', async () => {
    const t = await scriptedGateway('glm', [
      { events: [chunk({ content: 'Half an' }), chunk({}, { finish: 'network_error' })] },
      answer('a whole answer'),
    ]);
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const part of t.gateway.stream({ model: modelOf(t, 'glm'), messages: user('hi') }))
          if (part.type === 'content') seen.push(part.text);
      })(),
    );
    expect(seen).toEqual(['Half an']);
    expect(error).toMatchObject({ kind: 'upstream_error', forwarded: true });
    expect(upstream?.bodies).toHaveLength(1);
  });

  it('GLM finish_reason model_context_window_exceeded is a bad request that says to send less context', async () => {
    const t = await scriptedGateway('glm', [
      { events: [chunk({}, { finish: 'model_context_window_exceeded' })] },
    ]);
    const error = await rejection(t.gateway.chat({ model: modelOf(t, 'glm'), messages: user('hi') }));
    expect(error).toMatchObject({ kind: 'bad_request', retryable: false });
    expect(error.message).toMatch(/send less context/);
    expect(upstream?.bodies).toHaveLength(1);
  });

  it('length with no answer after reasoning is retried once with double the budget', async () => {
    const t = await scriptedGateway('glm', [
      {
        events: [
          chunk({ reasoning_content: 'Let me think about this at length' }),
          chunk({}, { finish: 'length' }),
        ],
      },
      answer('the answer'),
    ]);
    const response = await t.gateway.chat({
      model: modelOf(t, 'glm', m => m.maxOutputTokens >= 2_000),
      messages: user('hi'),
      maxOutputTokens: 1_000,
    });
    expect(response.content).toBe('the answer');
    expect(response.attempts).toBe(2);
    expect(upstream?.bodies.map(budgetOf)).toEqual([1_000, 2_000]);
    expect(t.logs.some(l => l.event === 'attempt_end' && l.outcome === 'truncated')).toBe(true);
  });

  it('length with no answer at the model ceiling is truncated, with a hint to raise the output budget', async () => {
    const t = await scriptedGateway('glm', [
      { events: [chunk({ reasoning_content: 'thinking' }), chunk({}, { finish: 'length' })] },
    ]);
    const model = t.gateway.registry.resolve(modelOf(t, 'glm'));
    const error = await rejection(
      t.gateway.chat({ model: model.name, messages: user('hi'), maxOutputTokens: model.maxOutputTokens }),
    );
    expect(error).toMatchObject({ kind: 'truncated', retryable: false });
    expect(error.message).toMatch(/went to reasoning.*raise the output budget/);
    expect(upstream?.bodies).toHaveLength(1);
  });

  it('a truncated answer that already reached the caller is returned as it is', async () => {
    const t = await scriptedGateway('glm', [
      { events: [chunk({ content: 'a cut ans' }), chunk({}, { finish: 'length' })] },
    ]);
    const response = await t.gateway.chat({ model: modelOf(t, 'glm'), messages: user('hi') });
    expect(response).toMatchObject({ content: 'a cut ans', finishReason: 'length' });
  });
});

describe('usage, cached tokens, searches and request ids', () => {
  it('GLM: cached tokens from prompt_tokens_details, the body request id, one search per answer with results', async () => {
    const t = await scriptedGateway('glm', [
      {
        events: [
          chunk({ role: 'assistant', content: 'found it' }, { request_id: 'glm-req-1' }),
          {
            ...chunk(
              {},
              {
                finish: 'stop',
                usage: {
                  prompt_tokens: 1_000,
                  completion_tokens: 50,
                  total_tokens: 1_050,
                  prompt_tokens_details: { cached_tokens: 800 },
                },
              },
            ),
            web_search: [{ title: 'a', link: 'https://example.com' }],
          },
        ],
      },
    ]);
    const response = await t.gateway.chat({
      model: modelOf(t, 'glm', m => m.webSearch),
      messages: user('news'),
      webSearch: true,
    });
    expect(response.usage).toMatchObject({ inputTokens: 1_000, cachedTokens: 800, webSearches: 1 });
    expect(response.requestId).toBe('glm-req-1');
    expect(response.requestIds).toEqual(['glm-req-1']);
  });

  it('Kimi: usage summed over every web-search round, cached tokens at the top level, each msh-request-id kept', async () => {
    const searchCall = {
      index: 0,
      id: 'call_1',
      type: 'builtin_function',
      function: { name: '$web_search', arguments: '{"search_result":{"search_id":"s1"}}' },
    };
    const t = await scriptedGateway('kimi', [
      {
        headers: { 'msh-request-id': 'kimi-round-1' },
        events: [
          chunk({ role: 'assistant', tool_calls: [searchCall] }),
          chunk(
            {},
            {
              finish: 'tool_calls',
              usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110, cached_tokens: 60 },
            },
          ),
        ],
      },
      {
        headers: { 'msh-request-id': 'kimi-round-2' },
        events: [
          chunk({ role: 'assistant', content: 'searched' }),
          chunk(
            {},
            {
              finish: 'stop',
              usage: { prompt_tokens: 300, completion_tokens: 20, total_tokens: 320, cached_tokens: 100 },
            },
          ),
        ],
      },
    ]);
    const response = await t.gateway.chat({
      model: modelOf(t, 'kimi', m => m.webSearch && m.thinking !== 'always'),
      messages: user('news'),
      webSearch: true,
    });
    expect(response.content).toBe('searched');
    expect(response.usage).toEqual({
      inputTokens: 400,
      outputTokens: 30,
      totalTokens: 430,
      cachedTokens: 160,
      webSearches: 1,
    });
    expect(response.requestId).toBe('kimi-round-2');
    expect(response.requestIds).toEqual(['kimi-round-1', 'kimi-round-2']);
  });
});

/** A reset stamp as GLM writes it: China time, no offset. */
const chinaStamp = (at: number) => new Date(at + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
const mode = (spec: Record<string, string>) =>
  Object.entries(spec)
    .map(([key, value]) => (value === '' ? key : `${key}=${encodeURIComponent(value)}`))
    .join(',');

describe('provider errors over the wire', () => {
  it('GLM 1316 is quota_exhausted until the reset in its message, and the breaker fails fast until then', async () => {
    const resetAt = Math.floor((Date.now() + 2 * 3_600_000) / 1000) * 1000;
    const spec = mode({
      status: '',
      code: '429',
      flavor: 'glm',
      errcode: '1316',
      message: `Usage limit reached for the past 5 hours. Your limit will reset at ${chinaStamp(resetAt)}`,
    });
    suite.gateway({ GLM_API_URL: `${suite.fake.url}/mode/${spec}/v1` });
    const error = await rejection(suite.t.gateway.chat({ model: 'glm-4.6', messages: user('hi') }));
    expect(error).toMatchObject({
      kind: 'quota_exhausted',
      retryable: false,
      code: '1316',
      retryAt: resetAt,
    });
    expect(error.message).toMatch(/GLM said: "Usage limit reached for the past 5 hours/);
    const again = await rejection(suite.t.gateway.chat({ model: 'glm-4.6', messages: user('hi') }));
    expect(again).toMatchObject({ kind: 'circuit_open', retryAt: resetAt });
    expect(suite.fake.requests).toHaveLength(1);
    const breaker = suite.t.gateway.status().find(s => s.provider === 'glm')?.breaker;
    expect(breaker?.retryAt).toBe(new Date(resetAt).toISOString());
  });

  it('Kimi TPD is not retried; a concurrency limit is, after the wait its message asks for', async () => {
    const tpd = mode({
      status: '',
      code: '429',
      flavor: 'kimi',
      type: 'rate_limit_reached_error',
      message: 'request reached organization TPD rate limit, current: 1526210, limit: 1500000',
    });
    suite.gateway({ KIMI_API_URL: `${suite.fake.url}/mode/${tpd}/v1` });
    const error = await rejection(suite.t.gateway.chat({ model: 'kimi-k2', messages: user('hi') }));
    expect(error).toMatchObject({ kind: 'quota_exhausted', attempts: 1 });
    expect(error.retryAt).toBeGreaterThan(Date.now());
    expect(suite.fake.requests).toHaveLength(1);

    suite.fake.reset();
    const concurrency = mode({
      flaky: '',
      fail: '1',
      code: '429',
      flavor: 'kimi',
      type: 'rate_limit_reached_error',
      message: 'request reached organization max concurrency: 1, please try again after 0.2 seconds',
    });
    suite.gateway({ KIMI_API_URL: `${suite.fake.url}/mode/${concurrency}/v1` });
    const started = performance.now();
    const response = await suite.t.gateway.chat({ model: 'kimi-k2', messages: user('hi') });
    expect(response.attempts).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(180);
  });

  it('a key the provider echoes never reaches the error, the status or the logs', async () => {
    const t = await scriptedGateway('glm', [
      {
        status: 401,
        json: {
          error: {
            code: '1001',
            message: `Authorization token ${TEST_KEY} is invalid; also tried sk-other-1234567890`,
          },
        },
      },
    ]);
    const error = await rejection(t.gateway.chat({ model: modelOf(t, 'glm'), messages: user('hi') }));
    expect(error.kind).toBe('auth');
    expect(error.message).toMatch(/GLM said: "Authorization token \[redacted\] is invalid/);
    for (const text of [error.message, JSON.stringify(t.gateway.status()), t.logText()]) {
      expect(text).not.toContain(TEST_KEY);
      expect(text).not.toContain('sk-other-1234567890');
    }
  });
});
