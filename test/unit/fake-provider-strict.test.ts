/**
 * Strict mode of the fake provider, over real sockets: for every rule, a request that breaks it gets the
 * real provider's error and the compliant request passes. Plus the provider-shaped responses, the
 * simulated prefix cache, the per-request opt-out and the modes that replay provider failures.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cachedFraction,
  DEFAULT_STRICT,
  type FakeProvider,
  startFakeProvider,
} from '../fakes/fake-provider.js';
import { RULE_IDS, type RuleId } from '../fakes/rules.js';

// biome-ignore lint/suspicious/noExplicitAny: assertions probe wire JSON freely; a wrong path fails the assertion.
type Json = Record<string, any>;

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Json;
}

const GLM = '/api/paas/v4/chat/completions';
const GLM_CODING = '/api/coding/paas/v4/chat/completions';
const KIMI = '/v1/chat/completions';

let fake: FakeProvider;

beforeEach(async () => {
  fake = await startFakeProvider({ strict: true });
});

afterEach(() => fake.close());

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    // Streams are parsed by the caller.
  }
  return { status: res.status, headers: res.headers, text, json };
}

function chunks(reply: Reply): Json[] {
  return reply.text
    .split('\n\n')
    .filter(e => e.startsWith('data: ') && e !== 'data: [DONE]')
    .map(e => JSON.parse(e.slice(6)) as Json);
}

const user = (text = 'hi') => [{ role: 'user', content: text }];
const ask = (model: string, extra: Json = {}) => ({ model, messages: user(), ...extra });

const call = { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } };
const toolLoop = (assistant: Json, toolCallId = 'call_1') => [
  ...user('look it up'),
  { role: 'assistant', content: '', tool_calls: [call], ...assistant },
  { role: 'tool', tool_call_id: toolCallId, content: '42' },
];
const searchTool = { type: 'builtin_function', function: { name: '$web_search' } };
const image = (url: string) => [
  {
    role: 'user',
    content: [
      { type: 'text', text: 'what is this' },
      { type: 'image_url', image_url: { url } },
    ],
  },
];

interface RuleCase {
  rule: RuleId;
  path: string;
  bad: Json;
  good: Json[];
  status: number;
  /** The exact error body, for rules whose real text is known; else the envelope is checked. */
  body?: Json;
}

const GLM_UNKNOWN = { error: { code: '1211', message: 'Unknown Model, please check the model code.' } };

const CASES: RuleCase[] = [
  {
    rule: 'route.base-path',
    path: '/somewhere/chat/completions',
    bad: ask('test-model'),
    good: [ask('glm-5.1'), ask('kimi-k2.6')],
    status: 404,
  },
  {
    rule: 'glm.model.unknown',
    path: GLM,
    bad: ask('glm-9'),
    good: [ask('glm-5.1'), ask('glm-4.5-x'), ask('glm-5v-turbo')],
    status: 400,
    body: GLM_UNKNOWN,
  },
  {
    rule: 'glm.temperature.range',
    path: GLM,
    bad: ask('glm-4.7', { temperature: 1.01 }),
    good: [ask('glm-4.7', { temperature: 1 }), ask('glm-4.7', { temperature: 0 })],
    status: 400,
    body: { error: { code: '1210', message: 'The temperature parameter is illegal.：限制数值范围[0,1]' } },
  },
  {
    rule: 'glm.thinking.type',
    path: GLM,
    bad: ask('glm-4.6', { thinking: { type: 'auto' } }),
    good: [
      ask('glm-4.6', { thinking: { type: 'enabled' } }),
      ask('glm-4.6', { thinking: { type: 'disabled' } }),
    ],
    status: 400,
  },
  {
    rule: 'glm.thinking.always-on',
    path: GLM_CODING,
    bad: ask('glm-5.3', { thinking: { type: 'disabled' } }),
    good: [
      ask('glm-5.3', { thinking: { type: 'enabled' } }),
      ask('glm-5.2', { thinking: { type: 'disabled' } }),
    ],
    status: 400,
  },
  {
    rule: 'glm.reasoning-effort',
    path: GLM,
    bad: ask('glm-5.2', { reasoning_effort: 'low' }),
    good: [ask('glm-5.3', { reasoning_effort: 'low' }), ask('glm-5.2', { reasoning_effort: 'max' })],
    status: 400,
  },
  {
    rule: 'glm.output.field',
    path: GLM,
    bad: ask('glm-5.1', { max_completion_tokens: 1000 }),
    good: [ask('glm-5.1', { max_tokens: 1000 })],
    status: 400,
  },
  {
    rule: 'glm.output.ceiling',
    path: GLM,
    bad: ask('glm-4.5-air', { max_tokens: 98_305 }),
    good: [ask('glm-4.5-air', { max_tokens: 98_304 }), ask('glm-5.3', { max_tokens: 131_072 })],
    status: 400,
  },
  {
    rule: 'glm.stop.single',
    path: GLM,
    bad: ask('glm-5', { stop: ['END', 'STOP'] }),
    good: [ask('glm-5', { stop: ['END'] }), ask('glm-5', { stop: 'END' })],
    status: 400,
  },
  {
    rule: 'glm.tool-choice.auto',
    path: GLM,
    bad: ask('glm-5', { tool_choice: 'required' }),
    good: [ask('glm-5', { tool_choice: 'auto' })],
    status: 400,
  },
  {
    rule: 'glm.response-format',
    path: GLM,
    bad: ask('glm-5', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }),
    good: [ask('glm-5', { response_format: { type: 'json_object' } })],
    status: 400,
  },
  {
    rule: 'glm.request-id',
    path: GLM,
    bad: ask('glm-5', { request_id: 'abc' }),
    good: [ask('glm-5', { request_id: 'abcdef' })],
    status: 400,
  },
  {
    rule: 'glm.web-search.shape',
    path: GLM,
    bad: ask('glm-5.1', { tools: [{ type: 'web_search', web_search: { enable: true } }] }),
    good: [
      ask('glm-5.1', {
        tools: [
          { type: 'web_search', web_search: { enable: true, search_engine: 'search_pro_jina', count: 5 } },
        ],
      }),
    ],
    status: 400,
  },
  {
    rule: 'glm.vision',
    path: GLM,
    bad: { model: 'glm-4.6', messages: image('https://example.com/a.png') },
    good: [{ model: 'glm-4.6v', messages: image('https://example.com/a.png') }],
    status: 400,
  },
  {
    rule: 'glm.image.data-url',
    path: GLM,
    bad: { model: 'glm-5v-turbo', messages: image('data:image/png;base64,iVBORw0KGgo=') },
    good: [{ model: 'glm-5v-turbo', messages: image('iVBORw0KGgo=') }],
    status: 400,
    body: { error: { code: '1210', message: '图片输入格式/解析错误' } },
  },
  {
    rule: 'glm.tool-loop.pairing',
    path: GLM,
    bad: { model: 'glm-4.7', thinking: { type: 'disabled' }, messages: toolLoop({}).slice(0, 2) },
    good: [{ model: 'glm-4.7', thinking: { type: 'disabled' }, messages: toolLoop({}) }],
    status: 400,
  },
  {
    rule: 'glm.tool-loop.reasoning',
    path: GLM,
    bad: { model: 'glm-4.7', messages: toolLoop({}) },
    good: [{ model: 'glm-4.7', messages: toolLoop({ reasoning_content: 'checked the docs' }) }],
    status: 400,
  },
  {
    rule: 'kimi.model.unknown',
    path: KIMI,
    bad: ask('kimi-k2.5'),
    good: [ask('kimi-k2.6'), ask('kimi-k3'), ask('kimi-k2.7-code-highspeed')],
    status: 404,
    body: {
      error: {
        message: 'Not found the model kimi-k2.5 or Permission denied',
        type: 'resource_not_found_error',
      },
    },
  },
  {
    rule: 'kimi.temperature.fixed',
    path: KIMI,
    bad: ask('kimi-k2.6', { temperature: 0.6 }),
    good: [
      ask('kimi-k2.6', { temperature: 1 }),
      ask('kimi-k2.6', { temperature: 0.6, thinking: { type: 'disabled' } }),
      ask('kimi-k3', { temperature: 1 }),
    ],
    status: 400,
    body: {
      error: {
        message: 'invalid temperature: only 1 is allowed for this model',
        type: 'invalid_request_error',
      },
    },
  },
  {
    rule: 'kimi.sampling.fixed',
    path: KIMI,
    bad: ask('kimi-k2.6', { top_p: 0.9 }),
    good: [ask('kimi-k2.6', { top_p: 0.95, n: 1, presence_penalty: 0, frequency_penalty: 0 })],
    status: 400,
  },
  {
    rule: 'kimi.thinking.type',
    path: KIMI,
    bad: ask('kimi-k2.6', { thinking: { type: 'enabled', keep: 'some' } }),
    good: [ask('kimi-k2.6', { thinking: { type: 'enabled', keep: 'all' } })],
    status: 400,
  },
  {
    rule: 'kimi.thinking.always-on',
    path: KIMI,
    bad: ask('kimi-k2.7-code', { thinking: { type: 'disabled' } }),
    good: [ask('kimi-k2.7-code', { thinking: { type: 'enabled', keep: 'all' } }), ask('kimi-k2.7-code')],
    status: 400,
    body: {
      error: {
        message: 'invalid thinking: only type=enabled is allowed for this model',
        type: 'invalid_request_error',
      },
    },
  },
  {
    rule: 'kimi.thinking.no-param',
    path: KIMI,
    bad: ask('kimi-k3', { thinking: { type: 'enabled' } }),
    good: [ask('kimi-k3')],
    status: 400,
  },
  {
    rule: 'kimi.reasoning-effort',
    path: KIMI,
    bad: ask('kimi-k2.6', { reasoning_effort: 'high' }),
    good: [ask('kimi-k3', { reasoning_effort: 'max' })],
    status: 400,
  },
  {
    rule: 'kimi.output.field',
    path: KIMI,
    bad: ask('kimi-k2.6', { max_tokens: 1000 }),
    good: [ask('kimi-k2.6', { max_completion_tokens: 1000 })],
    status: 400,
  },
  {
    rule: 'kimi.output.ceiling',
    path: KIMI,
    bad: ask('kimi-k2.6', { max_completion_tokens: 0 }),
    good: [ask('kimi-k3', { max_completion_tokens: 1_000_000 })],
    status: 400,
  },
  {
    rule: 'kimi.context.budget',
    path: KIMI,
    // 4,000 characters are 1,000 prompt tokens: 1,000 + 261,500 > 262,144.
    bad: { model: 'kimi-k2.6', messages: user('x'.repeat(4_000)), max_completion_tokens: 261_500 },
    good: [{ model: 'kimi-k2.6', messages: user('x'.repeat(4_000)), max_completion_tokens: 261_144 }],
    status: 400,
    body: {
      error: {
        message: 'Invalid request: Your request exceeded model token limit: 262144 (requested: 262500)',
        type: 'invalid_request_error',
      },
    },
  },
  {
    rule: 'kimi.tool-choice.thinking',
    path: KIMI,
    bad: ask('kimi-k2.6', { tool_choice: 'required' }),
    good: [
      ask('kimi-k2.6', { tool_choice: 'required', thinking: { type: 'disabled' } }),
      ask('kimi-k2.6', { tool_choice: 'auto' }),
    ],
    status: 400,
  },
  {
    rule: 'kimi.web-search.thinking',
    path: KIMI,
    bad: ask('kimi-k2.6', { tools: [searchTool] }),
    good: [ask('kimi-k2.6', { tools: [searchTool], thinking: { type: 'disabled' } })],
    status: 400,
  },
  {
    rule: 'kimi.tool-loop.pairing',
    path: KIMI,
    bad: { model: 'kimi-k2.6', messages: toolLoop({ reasoning_content: ' ' }, 'call_9') },
    good: [{ model: 'kimi-k2.6', messages: toolLoop({ reasoning_content: ' ' }) }],
    status: 400,
  },
  {
    rule: 'kimi.tool-loop.reasoning',
    path: KIMI,
    bad: { model: 'kimi-k2.6', messages: toolLoop({ reasoning_content: '' }) },
    good: [
      { model: 'kimi-k2.6', messages: toolLoop({ reasoning_content: ' ' }) },
      { model: 'kimi-k2.6', thinking: { type: 'disabled' }, messages: toolLoop({}) },
    ],
    status: 400,
    body: {
      error: {
        message:
          'thinking is enabled but reasoning_content is missing in assistant tool call message at index 1',
        type: 'invalid_request_error',
      },
    },
  },
  {
    rule: 'kimi.message.assistant-empty',
    path: KIMI,
    bad: { model: 'kimi-k2.6', messages: [...user(), { role: 'assistant', content: '' }, ...user('again')] },
    good: [
      { model: 'kimi-k2.6', messages: [...user(), { role: 'assistant', content: 'ok' }, ...user('again')] },
    ],
    status: 400,
    body: {
      error: {
        message: "Invalid request: the message at position 1 with role 'assistant' must not be empty",
        type: 'invalid_request_error',
      },
    },
  },
  {
    rule: 'kimi.message.empty-text-part',
    path: KIMI,
    bad: { model: 'kimi-k2.6', messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] },
    good: [{ model: 'kimi-k2.6', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }],
    status: 400,
    body: { error: { message: 'text content is empty', type: 'invalid_request_error' } },
  },
  {
    rule: 'kimi.response-format',
    path: KIMI,
    bad: ask('kimi-k2.6', { response_format: { type: 'xml' } }),
    good: [
      ask('kimi-k2.6', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }),
    ],
    status: 400,
  },
];

describe('strict rules', () => {
  it('has a case here and a row in the README for every rule', () => {
    expect(CASES.map(c => c.rule).sort()).toEqual([...RULE_IDS].sort());
    const readme = readFileSync(new URL('../fakes/README.md', import.meta.url), 'utf8');
    expect(RULE_IDS.filter(id => !readme.includes(`\`${id}\``))).toEqual([]);
  });

  it.each(CASES)('$rule: the breaking request gets the real error, the compliant ones pass', async c => {
    const bad = await post(c.path, c.bad);
    expect(bad.status).toBe(c.status);
    if (c.body !== undefined) expect(bad.json).toEqual(c.body);
    else if (c.rule.startsWith('glm.'))
      expect(bad.json.error).toEqual({ code: expect.any(String), message: expect.any(String) });
    else expect(bad.json.error).toEqual({ type: expect.any(String), message: expect.any(String) });
    expect(fake.rejections.at(-1)).toMatchObject({ rule: c.rule, status: c.status });
    expect(fake.requests.at(-1)!.rejection?.rule).toBe(c.rule);

    for (const good of c.good) {
      const reply = await post(c.path, good);
      expect(reply.status, `${JSON.stringify(good)} -> ${reply.text}`).toBe(200);
    }
    expect(fake.rejections).toHaveLength(1);
  });

  it('a Kimi id on a GLM path fails as an unknown model; a GLM id on a /v1 path is judged as GLM', async () => {
    expect((await post(GLM, ask('kimi-k2.6'))).json).toEqual(GLM_UNKNOWN);
    const kimi = await post(KIMI, ask('glm-5.1', { temperature: 2 }));
    expect(kimi.status).toBe(400);
    expect(fake.rejections.map(r => r.rule)).toEqual(['glm.model.unknown', 'glm.temperature.range']);
  });

  it('every retired Kimi id answers 404', async () => {
    for (const model of ['kimi-k2-0905-preview', 'kimi-k2-thinking', 'kimi-latest', 'moonshot-v1-8k']) {
      expect((await post(KIMI, ask(model))).status, model).toBe(404);
    }
  });

  it('asks for 0.6 when thinking is disabled on kimi-k2.6', async () => {
    const reply = await post(KIMI, ask('kimi-k2.6', { temperature: 1, thinking: { type: 'disabled' } }));
    expect(reply.json.error.message).toBe('invalid temperature: only 0.6 is allowed for this model');
  });

  it('rejects $web_search on always-thinking Kimi models whatever the request says', async () => {
    expect((await post(KIMI, ask('kimi-k3', { tools: [searchTool] }))).json.error.type).toBe(
      'invalid_request_error',
    );
    expect(fake.rejections.map(r => r.rule)).toEqual(['kimi.web-search.thinking']);
  });

  it('checks fault modes too, and x-fake-strict: off lets a deliberately odd body through', async () => {
    const bad = ask('kimi-k2.5', { temperature: 0.2 });
    expect((await post(KIMI, bad, { 'x-fake-mode': 'status,code=503' })).status).toBe(404);
    expect((await post(KIMI, bad, { 'x-fake-mode': 'status,code=503', 'x-fake-strict': 'off' })).status).toBe(
      503,
    );
    expect(fake.requests.map(r => r.strict)).toEqual([true, false]);
  });

  it('x-fake-strict: on makes a lenient fake strict for one request', async () => {
    const lenient = await startFakeProvider({ strict: false });
    try {
      const send = (headers: Record<string, string>) =>
        fetch(`${lenient.url}${KIMI}`, { method: 'POST', headers, body: JSON.stringify(ask('kimi-k2.5')) });
      expect((await send({})).status).toBe(200);
      expect((await send({ 'x-fake-strict': 'on' })).status).toBe(404);
      expect(lenient.rejections.map(r => r.rule)).toEqual(['kimi.model.unknown']);
    } finally {
      await lenient.close();
    }
  });

  it('a fake started without `strict` follows DEFAULT_STRICT (FAKE_PROVIDER_STRICT)', async () => {
    const byDefault = await startFakeProvider();
    try {
      const res = await fetch(`${byDefault.url}${KIMI}`, {
        method: 'POST',
        body: JSON.stringify(ask('kimi-k2.5')),
      });
      expect(res.status).toBe(DEFAULT_STRICT ? 404 : 200);
    } finally {
      await byDefault.close();
    }
  });

  it('fake-<spec> model ids still pick a mode, with only the message rules applied', async () => {
    expect((await post(KIMI, { model: 'fake-status,code=418', messages: user() })).status).toBe(418);
    const orphan = {
      model: 'fake-ok',
      messages: [...user(), { role: 'tool', tool_call_id: 'x', content: '1' }],
    };
    expect((await post(KIMI, orphan)).status).toBe(400);
    expect(fake.rejections.at(-1)!.rule).toBe('kimi.tool-loop.pairing');
  });
});

describe('strict response shapes', () => {
  it('Kimi: msh-request-id on answers and errors, cached_tokens at the top of usage', async () => {
    const ok = await post(KIMI, ask('kimi-k2.6'));
    expect(ok.headers.get('msh-request-id')).toMatch(/^fake-req-/);
    expect(ok.json.usage).toEqual({
      prompt_tokens: 1,
      completion_tokens: 2,
      total_tokens: 3,
      cached_tokens: 0,
    });
    const error = await post(KIMI, ask('kimi-k2.5'));
    expect(error.headers.get('msh-request-id')).toMatch(/^fake-req-/);
  });

  it('GLM: request_id equal to id, cached and reasoning tokens in the detail objects', async () => {
    const reply = await post(GLM, ask('glm-5.1'), { 'x-fake-mode': 'reasoning,chunks=2' });
    expect(reply.json.request_id).toBe(reply.json.id);
    expect(reply.json.usage).toMatchObject({
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 6 },
    });
    expect(reply.headers.get('msh-request-id')).toBeNull();
  });

  it('Kimi streams usage inside choices[0] of the last chunk, and only with include_usage', async () => {
    const withUsage = chunks(
      await post(KIMI, ask('kimi-k2.6', { stream: true, stream_options: { include_usage: true } })),
    );
    expect(withUsage.at(-1)!.choices[0]).toMatchObject({
      finish_reason: 'stop',
      usage: { cached_tokens: 0 },
    });
    expect(withUsage.at(-1)!.usage).toBeUndefined();
    const without = chunks(await post(KIMI, ask('kimi-k2.6', { stream: true })));
    expect(without.some(c => c.usage !== undefined || c.choices[0].usage !== undefined)).toBe(false);
  });

  it('GLM streams usage at the top level of the last chunk without being asked', async () => {
    const last = chunks(await post(GLM, ask('glm-5.1', { stream: true }))).at(-1)!;
    expect(last.usage.prompt_tokens_details).toEqual({ cached_tokens: 0 });
  });
});

describe('simulated prefix cache', () => {
  const system = { role: 'system', content: 'You are a careful reviewer. '.repeat(200) };
  const conversation = (question: string) => [system, { role: 'user', content: question }];

  it('reports the shared prefix with the most similar earlier request as cached, per model', async () => {
    const first = await post(KIMI, { model: 'kimi-k2.6', messages: conversation('first question') });
    expect(first.json.usage.cached_tokens).toBe(0);
    const second = await post(KIMI, { model: 'kimi-k2.6', messages: conversation('second question') });
    const { prompt_tokens: prompt, cached_tokens: cached } = second.json.usage;
    expect(cached).toBeGreaterThan(0.9 * prompt);
    expect(cached).toBeLessThanOrEqual(prompt);
    expect(cachedFraction(fake.requests.at(-1)!)).toBeCloseTo(cached / prompt);

    const otherModel = await post(KIMI, { model: 'kimi-k3', messages: conversation('second question') });
    expect(otherModel.json.usage.cached_tokens).toBe(0);
    const glm = await post(GLM, { model: 'glm-5.1', messages: conversation('a') });
    const glmAgain = await post(GLM, { model: 'glm-5.1', messages: conversation('b') });
    expect(glm.json.usage.prompt_tokens_details.cached_tokens).toBe(0);
    expect(glmAgain.json.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
  });

  it('Kimi caches nothing for a shared prefix of 256 tokens or less; GLM does', async () => {
    const short = (q: string) => [
      { role: 'system', content: 'x'.repeat(800) },
      { role: 'user', content: q },
    ];
    await post(KIMI, { model: 'kimi-k2.6', messages: short('a') });
    expect((await post(KIMI, { model: 'kimi-k2.6', messages: short('b') })).json.usage.cached_tokens).toBe(0);
    await post(GLM, { model: 'glm-5.1', messages: short('a') });
    const glm = await post(GLM, { model: 'glm-5.1', messages: short('b') });
    expect(glm.json.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(150);
  });

  it('a change early in the conversation ends the prefix there; reset() forgets everything', async () => {
    await post(GLM, { model: 'glm-5.1', messages: conversation('q') });
    const changed = [
      { role: 'system', content: `Changed. ${system.content}` },
      { role: 'user', content: 'q' },
    ];
    expect(
      (await post(GLM, { model: 'glm-5.1', messages: changed })).json.usage.prompt_tokens_details
        .cached_tokens,
    ).toBeLessThan(10);
    fake.reset();
    expect(
      (await post(GLM, { model: 'glm-5.1', messages: changed })).json.usage.prompt_tokens_details
        .cached_tokens,
    ).toBe(0);
    expect(fake.rejections).toHaveLength(0);
  });
});

describe('provider failure modes', () => {
  it('think streams reasoning for ms before the first content token', async () => {
    const started = performance.now();
    const res = await fetch(`${fake.url}${KIMI}`, {
      method: 'POST',
      headers: { 'x-fake-mode': 'think,ms=400,every=100' },
      body: JSON.stringify(ask('kimi-k2.6', { stream: true })),
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let firstReasoningAt = -1;
    let firstContentAt = -1;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const now = performance.now() - started;
      if (firstReasoningAt < 0 && text.includes('"reasoning_content"')) firstReasoningAt = now;
      if (firstContentAt < 0 && text.includes('"content"')) firstContentAt = now;
    }
    expect(firstReasoningAt).toBeGreaterThanOrEqual(0);
    expect(firstContentAt - firstReasoningAt).toBeGreaterThanOrEqual(350);
    const parsed = chunks({ status: 200, headers: res.headers, text, json: {} });
    const kinds = parsed.map(c =>
      c.choices[0].delta.reasoning_content ? 'r' : c.choices[0].delta.content ? 'c' : '-',
    );
    expect(kinds.join('')).toMatch(/^r{5}c+-$/);
  });

  it('think without streaming answers after ms with reasoning_content', async () => {
    const started = performance.now();
    const reply = await post(GLM, ask('glm-5.1'), { 'x-fake-mode': 'think,ms=200' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(reply.json.choices[0].message.reasoning_content).toContain('thinking...');
    expect(reply.json.choices[0].message.content).toBe('echo: hi');
  });

  it.each([
    ['sensitive', '', 'partial answer'],
    ['network_error', 'partial answer', 'partial answer'],
    ['model_context_window_exceeded', 'partial answer', 'partial answer'],
    ['length', '', ''],
  ])('finish,reason=%s ends a 200 with that finish reason', async (reason, content, streamed) => {
    const mode = { 'x-fake-mode': `finish,reason=${reason}` };
    const plain = await post(GLM, ask('glm-5.1'), mode);
    expect(plain.status).toBe(200);
    expect(plain.json.choices[0]).toMatchObject({ finish_reason: reason, message: { content } });
    const stream = chunks(await post(GLM, ask('glm-5.1', { stream: true }), mode));
    expect(stream.at(-1)!.choices[0].finish_reason).toBe(reason);
    expect(stream.map(c => c.choices[0].delta.content ?? '').join('')).toBe(streamed);
  });

  it('finish,reason=length spends the budget on reasoning: reasoning deltas, no content', async () => {
    const stream = chunks(
      await post(KIMI, ask('kimi-k2.6', { stream: true }), { 'x-fake-mode': 'finish,reason=length' }),
    );
    expect(stream.map(c => c.choices[0].delta.reasoning_content ?? '').join('')).toContain('thinking...');
  });

  it.each([
    ['1113', 429, 'Insufficient balance or no resource package. Please recharge.'],
    ['1211', 400, 'Unknown Model, please check the model code.'],
    ['1302', 429, 'Rate limit reached for requests'],
    [
      '1316',
      429,
      'Usage limit reached for the past 5 hours. Insufficient balance for extra usage. Resets at ',
    ],
    [
      '1317',
      429,
      'Usage limit reached for the past 7 days. Insufficient balance for extra usage. Resets at ',
    ],
  ])('glmerror,code=%s answers HTTP %i with the real body', async (code, status, message) => {
    const reply = await post(GLM, ask('glm-5.1'), { 'x-fake-mode': `glmerror,code=${code}` });
    expect(reply.status).toBe(status);
    expect(Object.keys(reply.json)).toEqual(['error']);
    expect(reply.json.error.code).toBe(code);
    expect(reply.json.error.message.startsWith(message)).toBe(true);
  });

  it.each([
    ['tpd', 429, 'rate_limit_reached_error', /TPD rate limit, current: \d+, limit: \d+$/],
    [
      'concurrency',
      429,
      'rate_limit_reached_error',
      /max organization concurrency: 1, please try again after 1 seconds$/,
    ],
    ['rpm', 429, 'rate_limit_reached_error', /organization max RPM: 3, please try again after 1 seconds$/],
    ['quota', 429, 'exceeded_current_quota_error', /is suspended due to insufficient balance/],
    ['temperature', 400, 'invalid_request_error', /^invalid temperature: only 1 is allowed for this model$/],
    ['reasoning', 400, 'invalid_request_error', /^thinking is enabled but reasoning_content is missing/],
  ])('kimierror,kind=%s answers HTTP %i %s with the real message', async (kind, status, type, message) => {
    const reply = await post(KIMI, ask('kimi-k2.6'), { 'x-fake-mode': `kimierror,kind=${kind}` });
    expect(reply.status).toBe(status);
    expect(reply.json).toEqual({ error: { type, message: expect.stringMatching(message) } });
    expect(reply.headers.get('msh-request-id')).toMatch(/^fake-req-/);
  });

  it('unknown codes and kinds are a 400 naming the mode', async () => {
    for (const mode of ['glmerror,code=9999', 'kimierror,kind=nope', 'finish,reason=odd']) {
      const reply = await post(KIMI, ask('kimi-k2.6'), { 'x-fake-mode': mode });
      expect(reply.status).toBe(400);
      expect(reply.json.error.message).toContain(mode.split(',')[0]);
    }
  });

  it('flaky can hand over to a provider mode with then=', async () => {
    const mode = 'flaky,then=think,ms=0';
    expect((await post(KIMI, ask('kimi-k2.6'), { 'x-fake-mode': mode })).status).toBe(503);
    const second = await post(KIMI, ask('kimi-k2.6'), { 'x-fake-mode': mode });
    expect(second.json.choices[0].message.reasoning_content).toContain('thinking...');
  });
});
