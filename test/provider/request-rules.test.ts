/**
 * Per-model request rules through the gateway against the fake provider: effort levels, output budgets
 * within the context window, dropped temperature, web search only where the row allows it, images only to
 * vision models, and the GLM search engine per endpoint.
 */
import { describe, expect, it } from 'vitest';
import { glmSearchEngine } from '../../src/providers/glm.js';
import { createRegistry } from '../../src/providers/registry.js';
import { fakeProviderSuite, rejection, user } from '../helpers/gateway.js';

const suite = fakeProviderSuite();
const body = (i = 0) => suite.fake.requests[i]?.body as Record<string, unknown>;
const both = () =>
  suite.gateway({ GLM_API_URL: `${suite.fake.url}/v1`, KIMI_API_URL: `${suite.fake.url}/v1` });

describe('thinking and effort', () => {
  it.each([
    ['minimal', 'low'],
    ['low', 'low'],
    ['medium', 'high'],
    ['high', 'high'],
    ['max', 'max'],
  ] as const)(
    'thinking_mode %s is reasoning_effort %s on an effort model (glm-5.3)',
    async (level, effort) => {
      both();
      await suite.t.gateway.chat({
        model: 'glm-5.3',
        messages: user('x'),
        thinking: true,
        thinkingLevel: level,
      });
      expect(body().reasoning_effort).toBe(effort);
      expect(body()).not.toHaveProperty('thinking');
    },
  );

  it.each(['minimal', 'low', 'high'] as const)(
    'thinking_mode %s rounds up to the only level kimi-k3 is documented to take, max',
    async level => {
      both();
      await suite.t.gateway.chat({
        model: 'kimi-k3',
        messages: user('x'),
        thinking: true,
        thinkingLevel: level,
      });
      expect(body().reasoning_effort).toBe('max');
      expect(body()).not.toHaveProperty('thinking');
    },
  );

  it('an always-thinking model not asked to think gets its lowest effort and never thinking: disabled', async () => {
    both();
    const response = await suite.t.gateway.chat({ model: 'glm-5.3', messages: user('x') });
    expect(body().reasoning_effort).toBe('low');
    expect(body()).not.toHaveProperty('thinking');
    expect(response.adjustments).toMatchObject({ thinking: true, reasoningEffort: 'low' });
  });

  it('glm-5.2 rounds low up to its lowest level and turns thinking off when not asked', async () => {
    both();
    await suite.t.gateway.chat({
      model: 'glm-5.2',
      messages: user('x'),
      thinking: true,
      thinkingLevel: 'low',
    });
    expect(body(0)).toMatchObject({ thinking: { type: 'enabled' }, reasoning_effort: 'high' });
    await suite.t.gateway.chat({ model: 'glm-5.2', messages: user('x') });
    expect(body(1).thinking).toEqual({ type: 'disabled' });
    expect(body(1)).not.toHaveProperty('reasoning_effort');
  });

  it('thinking_mode minimal on a toggle model sends thinking disabled', async () => {
    both();
    await suite.t.gateway.chat({
      model: 'glm-4.7',
      messages: user('x'),
      thinking: true,
      thinkingLevel: 'minimal',
    });
    expect(body().thinking).toEqual({ type: 'disabled' });
  });
});

describe('sampling and output budget', () => {
  it('a Kimi model gets no temperature; the response says it was dropped', async () => {
    both();
    const response = await suite.t.gateway.chat({
      model: 'kimi-k2.6',
      messages: user('x'),
      temperature: 0.2,
    });
    expect(body()).not.toHaveProperty('temperature');
    expect(response.adjustments?.temperatureDropped).toBe(0.2);
  });

  it('thinking models default to a 32K budget, sent in the provider field', async () => {
    both();
    await suite.t.gateway.chat({ model: 'kimi-k2.6', messages: user('x'), thinking: true });
    await suite.t.gateway.chat({ model: 'glm-4.7', messages: user('x'), thinking: true });
    expect(body(0).max_completion_tokens).toBe(32_768);
    expect(body(0)).not.toHaveProperty('max_tokens');
    expect(body(1).max_tokens).toBe(32_768);
  });

  it('the budget never exceeds the context window minus the estimated prompt', async () => {
    both();
    // 700,000 characters ≈ 200,000 tokens at 3.5 characters per token, in kimi-k2.6's 262,144-token window.
    const prompt = 'a'.repeat(700_000);
    await suite.t.gateway.chat({ model: 'kimi-k2.6', messages: user(prompt), maxOutputTokens: 65_536 });
    expect(body().max_completion_tokens).toBe(262_144 - 200_000);
  });
});

describe('web search', () => {
  it('Kimi with thinking asked: no $web_search declared, and the response says why', async () => {
    both();
    const response = await suite.t.gateway.chat({
      model: 'kimi-k2.6',
      messages: user('news'),
      thinking: true,
      webSearch: true,
    });
    expect(body()).not.toHaveProperty('tools');
    expect(body().thinking).toEqual({ type: 'enabled' });
    expect(response.adjustments?.webSearchSkipped).toMatch(/only with thinking off/);
  });

  it('a Kimi model that always thinks does not search, and says so', async () => {
    both();
    const response = await suite.t.gateway.chat({
      model: 'kimi-k3',
      messages: user('news'),
      webSearch: true,
    });
    expect(body()).not.toHaveProperty('tools');
    expect(response.adjustments?.webSearchSkipped).toMatch(/kimi-k3 cannot search the web/);
  });

  it('GLM on the China platform searches with search_pro, elsewhere with search_pro_jina', async () => {
    suite.gateway({ GLM_API_URL: `${suite.fake.url}/mode/glmsearch/v1` });
    await suite.t.gateway.chat({ model: 'glm-4.7', messages: user('news'), webSearch: true });
    expect(body().tools).toEqual([
      {
        type: 'web_search',
        web_search: { enable: true, search_engine: 'search_pro_jina', search_result: true },
      },
    ]);
    expect(glmSearchEngine('https://open.bigmodel.cn/api/paas/v4', undefined)).toBe('search_pro');
    expect(glmSearchEngine('https://open.bigmodel.cn/api/paas/v4', 'search_pro_quark')).toBe(
      'search_pro_quark',
    );
  });
});

describe('images', () => {
  it('an image for a text-only model fails before any request, naming the vision models', async () => {
    both();
    const error = await rejection(
      suite.t.gateway.chat({
        model: 'glm-4.7',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
            ],
          },
        ],
      }),
    );
    expect(error.kind).toBe('bad_request');
    expect(error.message).toMatch(
      /glm-4\.7 does not accept images\. Use a vision model \(glm-5v-turbo, glm-4\.6v/,
    );
    expect(suite.fake.requests).toHaveLength(0);
  });
});

describe('inline images', () => {
  const withImage = (model: string) =>
    suite.t.gateway.chat({
      model,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
      ],
    });
  const sentUrl = (i: number) =>
    (body(i).messages as Array<{ content: Array<{ image_url?: { url: string } }> }>)[0]?.content[1]?.image_url
      ?.url;

  it('GLM gets bare base64 as its SDK sends it; Kimi keeps the data: URL', async () => {
    both();
    await withImage('glm-4.6v');
    expect(sentUrl(0)).toBe('iVBORw0KGgo=');
    await withImage('kimi-k2.6');
    expect(sentUrl(1)).toBe('data:image/png;base64,iVBORw0KGgo=');
  });
});

describe('retired and disallowed models', () => {
  it('a retired id fails before any request, naming its successor', async () => {
    both();
    const error = await rejection(suite.t.gateway.chat({ model: 'moonshot-v1-8k', messages: user('x') }));
    expect(error.message).toBe('moonshot-v1-8k was retired by Moonshot on 2026-08-31; use kimi-k2.6.');
    expect(suite.fake.requests).toHaveLength(0);
  });

  it('a retired id can be added back, and a current one retired, with EXAI_MODELS_FILE', async () => {
    const registry = createRegistry({
      models: [
        {
          name: 'kimi-latest',
          provider: 'kimi',
          contextWindow: 131072,
          maxOutputTokens: 8192,
          thinking: 'none',
        },
      ],
      retired: [{ name: 'glm-4.5-x', successor: 'glm-4.7' }],
    });
    expect(registry.resolve('kimi-latest').name).toBe('kimi-latest');
    expect(() => registry.resolve('glm-4.5-x')).toThrow(/glm-4\.5-x was retired by Z\.ai; use glm-4\.7/);
  });

  it('a bad allowed list is a clear startup error', async () => {
    expect(() => createRegistry([], { allowed: { glm: ['glm-9'] } })).toThrow(
      /GLM_ALLOWED_MODELS names "glm-9", which is not a GLM model\. GLM models: glm-5\.3/,
    );
    expect(() => createRegistry([], { allowed: { kimi: ['kimi-latest'] } })).toThrow(
      /names kimi-latest, which was retired; use kimi-k2\.6/,
    );
  });
});
