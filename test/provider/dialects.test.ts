import { describe, expect, it } from 'vitest';
import { fakeProviderSuite, rejection, user } from '../helpers/gateway.js';

const suite = fakeProviderSuite();

const body = (i = 0) => suite.fake.requests[i]?.body as Record<string, unknown>;

describe('GLM', () => {
  it.each([true, false])('answers and reports usage, model and provider (stream=%s)', async stream => {
    suite.gateway({ GLM_API_URL: `${suite.fake.url}/api/paas/v4` }, { stream });
    const response = await suite.t.gateway.chat({ model: 'glm-4.6', messages: user('ping') });
    expect(response).toMatchObject({ content: 'echo: ping', provider: 'glm', model: 'glm-4.6', attempts: 1 });
    expect(response.usage.totalTokens).toBeGreaterThan(0);
    expect(suite.fake.requests[0]?.path).toBe('/api/paas/v4/chat/completions');
  });

  it('sends the thinking parameter and captures reasoning_content', async () => {
    suite.gateway({ GLM_API_URL: `${suite.fake.url}/mode/reasoning,chunks=3/v1` });
    const response = await suite.t.gateway.chat({ model: 'glm-4.6', messages: user('why'), thinking: true });
    expect(body().thinking).toEqual({ type: 'enabled' });
    expect(response.reasoningContent).toContain('thinking');
    expect(response.content).toBe('echo: why');
  });

  it('sends the web_search tool with tool_choice auto and keeps the results', async () => {
    suite.gateway({ GLM_API_URL: `${suite.fake.url}/mode/glmsearch/v1` });
    const response = await suite.t.gateway.chat({
      model: 'glm-4.6',
      messages: user('news'),
      webSearch: true,
    });
    expect(body().tool_choice).toBe('auto');
    expect(response.webSearch?.length).toBe(2);
    expect(response.webSearch?.[0]?.link).toMatch(/^http/);
  });

  it('clamps temperature to the model constraint and caps max tokens', async () => {
    suite.gateway({ GLM_API_URL: `${suite.fake.url}/v1` });
    await suite.t.gateway.chat({
      model: 'glm-4.6',
      messages: user('x'),
      temperature: 7,
      maxOutputTokens: 1_000_000,
    });
    // GLM's SDK keeps temperature inside (0, 1), and glm-4.6's output ceiling is 131,072 tokens.
    expect(body().temperature).toBe(0.99);
    expect(body().max_tokens).toBe(131_072);
  });
});

describe('Kimi', () => {
  it.each([true, false])(
    'runs the $web_search tool-call round trip, echoing arguments (stream=%s)',
    async stream => {
      suite.gateway({ KIMI_API_URL: `${suite.fake.url}/mode/kimisearch,rounds=2/v1` }, { stream });
      const rounds: number[] = [];
      const response = await suite.t.gateway.chat({
        model: 'kimi-k2',
        messages: user('what happened today'),
        webSearch: true,
        onEvent: e => {
          if (e.type === 'web_search') rounds.push(e.iteration);
        },
      });
      expect(response.content).toBe('searched: what happened today');
      expect(rounds).toEqual([1, 2]);
      expect(suite.fake.requests).toHaveLength(3);
    },
  );

  it('stops a web search loop that never ends at KIMI_WEBSEARCH_MAX_ITERATIONS', async () => {
    suite.gateway({
      KIMI_API_URL: `${suite.fake.url}/mode/kimisearch,rounds=10/v1`,
      KIMI_WEBSEARCH_MAX_ITERATIONS: '2',
    });
    const error = await rejection(
      suite.t.gateway.chat({ model: 'kimi-k2', messages: user('x'), webSearch: true }),
    );
    expect(error.kind).toBe('protocol');
    expect(error.message).toMatch(/after 2 rounds/);
  });

  it('thinking is a request parameter of the same model, not another model', async () => {
    suite.gateway({ KIMI_API_URL: `${suite.fake.url}/v1` });
    const response = await suite.t.gateway.chat({ model: 'kimi-k2', messages: user('x'), thinking: true });
    expect(body().model).toBe('kimi-k2.6');
    expect(body().thinking).toEqual({ type: 'enabled' });
    expect(response.model).toBe('kimi-k2.6');
  });
});

describe('model registry', () => {
  it('an unknown model is a clear error listing the available ones', async () => {
    suite.gateway({});
    const error = await rejection(suite.t.gateway.chat({ model: 'gpt-5', messages: user('x') }));
    expect(error.kind).toBe('bad_request');
    expect(error.message).toMatch(/Unknown model "gpt-5"\. Available models: glm-5\.3;/);
  });

  it('resolves aliases case-insensitively and auto to a configured provider', () => {
    suite.gateway({ GLM_API_KEY: '' });
    expect(suite.t.gateway.resolveModel('KIMI-K2').name).toBe('kimi-k2.6');
    expect(suite.t.gateway.resolveModel('auto').provider).toBe('kimi');
  });

  it('a missing key is a not_configured error naming the variables', async () => {
    suite.gateway({ GLM_API_KEY: '', KIMI_API_KEY: '' });
    const error = await rejection(suite.t.gateway.chat({ model: 'glm-4.6', messages: user('x') }));
    expect(error.kind).toBe('not_configured');
    expect(error.message).toMatch(/GLM_API_KEY or ZHIPUAI_API_KEY/);
  });
});
