/**
 * The fake provider is a fixture other tests trust, so its own behaviour is pinned here over real sockets.
 * Timings are asserted as bounds only: this must pass on a loaded 2-core machine.
 */
import { Agent, type ClientRequest, type IncomingHttpHeaders, request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';

interface SseEvent {
  data: string;
  at: number;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** True only when the whole body arrived (content-length met or the final chunk seen). */
  complete: boolean;
  events: SseEvent[];
  /** ms from sending to the response headers. */
  headersAfter: number;
  error?: Error;
}

interface Call {
  req: ClientRequest;
  /** Body text received so far. */
  received(): string;
  /** Resolves once the exchange is over, whatever the outcome (errors are reported, not thrown). */
  done: Promise<Reply>;
}

interface CallOptions {
  path?: string;
  mode?: string;
  body?: unknown;
  raw?: string | Buffer;
  method?: string;
}

let fake: FakeProvider;
let agent: Agent;

// These are the lenient fixture's own modes and shapes; strict mode has its own file.
beforeEach(async () => {
  fake = await startFakeProvider({ strict: false });
  agent = new Agent({ keepAlive: true });
});

afterEach(async () => {
  agent.destroy();
  await fake.close();
});

const user = (content: unknown) => ({ model: 'test-model', messages: [{ role: 'user', content }] });

function call(options: CallOptions = {}): Call {
  const started = performance.now();
  const payload = options.raw ?? (options.body === undefined ? '' : JSON.stringify(options.body));
  const headers: Record<string, string | number> = { 'content-type': 'application/json' };
  if (options.mode !== undefined) headers['x-fake-mode'] = options.mode;
  const req = request(`${fake.url}${options.path ?? '/v1/chat/completions'}`, {
    method: options.method ?? 'POST',
    agent,
    headers,
  });
  let text = '';
  const done = new Promise<Reply>(resolve => {
    const reply: Reply = { status: 0, headers: {}, text: '', complete: false, events: [], headersAfter: -1 };
    let pending = '';
    const finish = (error?: Error) => {
      reply.text = text;
      if (error !== undefined) reply.error = error;
      resolve(reply);
    };
    req.on('error', finish);
    req.on('response', res => {
      reply.status = res.statusCode ?? 0;
      reply.headers = res.headers;
      reply.headersAfter = performance.now() - started;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        pending += chunk;
        let cut = pending.indexOf('\n\n');
        while (cut !== -1) {
          for (const line of pending.slice(0, cut).split('\n')) {
            if (line.startsWith('data: '))
              reply.events.push({ data: line.slice(6), at: performance.now() - started });
          }
          pending = pending.slice(cut + 2);
          cut = pending.indexOf('\n\n');
        }
      });
      res.on('error', () => {});
      res.on('close', () => {
        reply.complete = res.complete;
        finish();
      });
    });
  });
  req.end(payload);
  return { req, received: () => text, done };
}

const send = (options: CallOptions = {}) => call(options).done;

/** expect.poll with room for a loaded machine; the default 1 s is tight when the CPU is shared. */
const poll = <T>(read: () => T) => expect.poll(read, { timeout: 5_000 });

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

// biome-ignore lint/suspicious/noExplicitAny: assertions probe wire JSON freely; a wrong path fails the assertion.
type Json = Record<string, any>;

function jsonOf(reply: Reply): Json {
  return JSON.parse(reply.text) as Json;
}

/** The parsed `data:` events, without the [DONE] marker. */
function chunksOf(reply: Reply): Json[] {
  return reply.events.filter(e => e.data !== '[DONE]').map(e => JSON.parse(e.data) as Json);
}

function contentOf(chunks: Json[], field = 'content'): string {
  return chunks.map(c => c.choices?.[0]?.delta?.[field] ?? '').join('');
}

const endsWithDone = (reply: Reply) => reply.events.at(-1)?.data === '[DONE]';

const searchTool = { type: 'builtin_function', function: { name: '$web_search' } };

describe('ok mode', () => {
  it('answers non-streaming with an echo of the last user message, usage and a request id', async () => {
    const reply = await send({
      body: {
        model: 'glm-4.6',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'hello world' },
        ],
      },
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['x-request-id']).toMatch(/^fake-/);
    const body = jsonOf(reply);
    expect(body.object).toBe('chat.completion');
    expect(body.model).toBe('glm-4.6');
    expect(body.choices[0]).toMatchObject({
      index: 0,
      message: { role: 'assistant', content: 'echo: hello world' },
      finish_reason: 'stop',
    });
    // 8 + 5 + 2 + 11 = 26 prompt chars -> 7 tokens; 'echo: hello world' is 17 chars -> 5 tokens.
    expect(body.usage).toEqual({ prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 });
  });

  it('echoes the text parts of array content', async () => {
    const reply = await send({
      body: user([
        { type: 'text', text: 'look ' },
        { type: 'image_url', image_url: { url: 'data:x' } },
        { type: 'text', text: 'here' },
      ]),
    });
    expect(jsonOf(reply).choices[0].message.content).toBe('echo: look here');
  });

  it('streams the answer in 3 chunks by default, role first, usage last, then [DONE]', async () => {
    const reply = await send({ body: { ...user('stream me please'), stream: true } });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(endsWithDone(reply)).toBe(true);
    const chunks = chunksOf(reply);
    expect(chunks).toHaveLength(4);
    expect(chunks[0]).toMatchObject({ object: 'chat.completion.chunk', model: 'test-model' });
    expect(chunks[0]!.choices[0].delta.role).toBe('assistant');
    expect(contentOf(chunks)).toBe('echo: stream me please');
    const last = chunks[3]!;
    expect(last.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(last.usage).toEqual({ prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 });
    expect(chunks.slice(0, 3).every(c => c.choices[0].finish_reason === null)).toBe(true);
  });

  it('honours chunks, content (URL-decoded, commas allowed) and latency', async () => {
    const reply = await send({
      mode: 'ok,chunks=5,content=hello%2C%20world,latency=150',
      body: { ...user('ignored'), stream: true },
    });
    const chunks = chunksOf(reply);
    expect(chunks).toHaveLength(6);
    expect(contentOf(chunks)).toBe('hello, world');
    expect(reply.headersAfter).toBeGreaterThanOrEqual(140);
  });

  it('keeps connections alive: sequential requests share one socket, which stays open and idle', async () => {
    await send({ body: user('a') });
    await send({ body: user('b') });
    expect(fake.stats()).toMatchObject({ connectionsTotal: 1, openSockets: 1, activeRequests: 0 });
  });
});

describe('mode selection', () => {
  it('prefers the header over the path and the path over the model', async () => {
    const byHeader = await send({
      mode: 'status,code=418',
      path: '/mode/status,code=419/v1/chat/completions',
      body: { model: 'fake-status,code=420' },
    });
    const byPath = await send({
      path: '/mode/status,code=419/v1/chat/completions',
      body: { model: 'fake-status,code=420' },
    });
    const byModel = await send({ body: { model: 'fake-status,code=420' } });
    expect([byHeader.status, byPath.status, byModel.status]).toEqual([418, 419, 420]);
    expect(fake.stats().requestsByMode).toEqual({ status: 3 });
  });

  it('accepts any base path ending in chat/completions and records each request', async () => {
    await send({ path: '/api/paas/v4/chat/completions', body: user('glm') });
    await send({ path: '/mode/delay,ms=1/api/coding/paas/v4/chat/completions', body: user('path mode') });
    expect(fake.requests.map(r => [r.mode, r.path])).toEqual([
      ['ok', '/api/paas/v4/chat/completions'],
      ['delay', '/mode/delay,ms=1/api/coding/paas/v4/chat/completions'],
    ]);
    expect(fake.requests[0]!.body).toEqual(user('glm'));
    expect(fake.requests[0]!.headers['content-type']).toBe('application/json');
    expect(fake.requests[0]!.at).toBeGreaterThan(0);
  });

  it('answers 404 JSON for other paths and 400 for an unknown mode or a non-JSON body', async () => {
    const notFound = await send({ path: '/v1/models', body: {} });
    expect(notFound.status).toBe(404);
    expect(jsonOf(notFound).error.message).toContain('/v1/models');
    const unknown = await send({ mode: 'bogus', body: user('x') });
    expect(unknown.status).toBe(400);
    expect(jsonOf(unknown).error.message).toContain("'bogus'");
    const notJson = await send({ raw: 'not json' });
    expect(notJson.status).toBe(400);
    expect(fake.requests.at(-1)!.body).toBe('not json');
  });
});

describe('delay and slow modes', () => {
  it('delay holds the headers back for ms', async () => {
    const reply = await send({ mode: 'delay,ms=250', body: user('x') });
    expect(reply.status).toBe(200);
    expect(reply.headersAfter).toBeGreaterThanOrEqual(240);
  });

  it('slow streams n content chunks spaced by every ms', async () => {
    const reply = await send({
      mode: 'slow,chunks=4,every=80',
      body: { ...user('0123456789'), stream: true },
    });
    const content = reply.events.filter(e => e.data !== '[DONE]').slice(0, 4);
    expect(content).toHaveLength(4);
    expect(contentOf(chunksOf(reply))).toBe('echo: 0123456789');
    expect(content[0]!.at).toBeGreaterThanOrEqual(75);
    expect(content[3]!.at - content[0]!.at).toBeGreaterThanOrEqual(3 * 75);
    expect(endsWithDone(reply)).toBe(true);
  });

  it('slow without streaming waits chunks * every before answering', async () => {
    const reply = await send({ mode: 'slow,chunks=3,every=80', body: user('x') });
    expect(reply.headersAfter).toBeGreaterThanOrEqual(230);
    expect(jsonOf(reply).choices[0].message.content).toBe('echo: x');
  });
});

describe('hang and noread modes', () => {
  it('hang never sends headers; destroying the request frees the request and the socket', async () => {
    const hung = call({ mode: 'hang', body: { ...user('x'), stream: true } });
    let gotResponse = false;
    hung.req.on('response', () => {
      gotResponse = true;
    });
    await poll(() => fake.requests.length).toBe(1);
    expect(fake.stats()).toMatchObject({ activeRequests: 1, openSockets: 1 });
    await sleep(200);
    expect(gotResponse).toBe(false);
    hung.req.destroy();
    await fake.waitForActive(0, 2_000);
    await fake.waitForOpenSockets(0, 2_000);
    expect((await hung.done).error).toBeDefined();
  });

  it('noread decides on headers alone and never reads the body, so a large upload stalls', async () => {
    const stalled = call({
      path: '/mode/noread/v1/chat/completions',
      raw: Buffer.alloc(32 * 1024 * 1024, 32),
    });
    await poll(() => fake.stats().requestsByMode.noread).toBe(1);
    await sleep(300);
    expect(stalled.req.writableFinished).toBe(false);
    expect(stalled.received()).toBe('');
    expect(fake.requests[0]).toMatchObject({ mode: 'noread', body: undefined });
    expect(fake.stats().activeRequests).toBe(1);
    stalled.req.destroy();
  });

  it('noread cannot be chosen through the model, which needs the body', async () => {
    const reply = await send({ body: { model: 'fake-noread' } });
    expect(reply.status).toBe(400);
  });
});

describe('drip mode', () => {
  it('streams keep-alive comments and never content until the client leaves', async () => {
    const dripping = call({ mode: 'drip,every=30', body: { ...user('x'), stream: true } });
    await poll(() => dripping.received().split(': keep-alive\n\n').length - 1).toBeGreaterThanOrEqual(3);
    expect(dripping.received()).not.toContain('data:');
    expect(fake.stats().activeRequests).toBe(1);
    dripping.req.destroy();
    await fake.waitForActive(0, 2_000);
    await fake.waitForOpenSockets(0, 2_000);
  });

  it('kind=whitespace sends bare newlines and kind=empty sends empty-delta chunks', async () => {
    const blank = call({ mode: 'drip,every=30,kind=whitespace', body: { stream: true } });
    const empty = call({ mode: 'drip,every=30,kind=empty', body: { stream: true } });
    await poll(() => blank.received().length).toBeGreaterThanOrEqual(3);
    await poll(() => empty.received().split('data: ').length - 1).toBeGreaterThanOrEqual(2);
    expect(blank.received()).toMatch(/^\n+$/);
    const events = empty.received().split('\n\n').filter(Boolean);
    for (const event of events) {
      const chunk = JSON.parse(event.replace(/^data: /, '')) as Json;
      expect(chunk.choices[0]).toMatchObject({ delta: {}, finish_reason: null });
    }
    blank.req.destroy();
    empty.req.destroy();
    await fake.waitForActive(0, 2_000);
  });

  it('without streaming sends 200 and then a body of spaces that never completes', async () => {
    const dripping = call({ mode: 'drip,every=30', body: user('x') });
    await poll(() => dripping.received().length).toBeGreaterThanOrEqual(3);
    expect(dripping.received().trim()).toBe('');
    dripping.req.destroy();
    const reply = await dripping.done;
    expect(reply.status).toBe(200);
    expect(reply.complete).toBe(false);
  });
});

describe('reset mode', () => {
  it('streams `after` content chunks and then cuts the connection without [DONE]', async () => {
    const reply = await send({ mode: 'reset,after=2', body: { ...user('a longer question'), stream: true } });
    expect(reply.status).toBe(200);
    expect(reply.complete).toBe(false);
    expect(endsWithDone(reply)).toBe(false);
    const chunks = chunksOf(reply);
    expect(chunks).toHaveLength(2);
    expect('echo: a longer question'.startsWith(contentOf(chunks))).toBe(true);
    await fake.waitForOpenSockets(0, 2_000);
  });

  it('without streaming sends half a JSON body and then cuts the connection', async () => {
    const reply = await send({ mode: 'reset', body: user('x') });
    expect(reply.status).toBe(200);
    expect(reply.complete).toBe(false);
    expect(reply.text.length).toBeGreaterThan(10);
    expect(reply.text.length).toBeLessThan(Number(reply.headers['content-length']));
    expect(() => JSON.parse(reply.text)).toThrow();
  });
});

describe('status mode', () => {
  it('answers 500 with an OpenAI-style error by default', async () => {
    const reply = await send({ mode: 'status', body: { ...user('x'), stream: true } });
    expect(reply.status).toBe(500);
    expect(jsonOf(reply)).toEqual({
      error: { message: expect.any(String), type: 'server_error', code: null },
    });
  });

  it('shapes GLM, Kimi and OpenAI error bodies from the params', async () => {
    const glm = await send({ mode: 'status,code=429,flavor=glm,errcode=1302,message=busy', body: user('x') });
    expect(glm.status).toBe(429);
    expect(jsonOf(glm)).toEqual({
      error: { code: '1302', message: 'busy' },
      request_id: glm.headers['x-request-id'],
    });
    const kimi = await send({
      mode: 'status,code=429,flavor=kimi,type=engine_overloaded_error',
      body: user('x'),
    });
    expect(jsonOf(kimi).error).toEqual({ type: 'engine_overloaded_error', message: expect.any(String) });
    const openai = await send({
      mode: 'status,code=400,errcode=bad,type=invalid_request_error,message=no',
      body: {},
    });
    expect(jsonOf(openai).error).toEqual({ message: 'no', type: 'invalid_request_error', code: 'bad' });
  });

  it('sets retry-after and retry-after-ms when asked', async () => {
    const reply = await send({ mode: 'status,code=503,retryafter=7,retryafterms=1500', body: user('x') });
    expect(reply.headers['retry-after']).toBe('7');
    expect(reply.headers['retry-after-ms']).toBe('1500');
  });
});

describe('flaky and ratelimit modes', () => {
  it('fails the first n requests per key, then answers ok; keys count separately', async () => {
    const mode = 'flaky,fail=2,key=a';
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send({ mode, body: user('x') })).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect((await send({ mode: 'flaky,key=b', body: user('x') })).status).toBe(503);
    expect((await send({ mode: 'flaky,key=b', body: user('x') })).status).toBe(200);
    expect(fake.stats().requestsByMode).toEqual({ flaky: 5 });
  });

  it('passes error params through and answers with the `then` mode afterwards', async () => {
    const mode = 'flaky,code=429,flavor=glm,errcode=1305,retryafterms=20,then=reasoning';
    const first = await send({ mode, body: { ...user('x'), stream: true } });
    expect(first.status).toBe(429);
    expect(first.headers['retry-after-ms']).toBe('20');
    expect(jsonOf(first).error.code).toBe('1305');
    const second = await send({ mode, body: { ...user('x'), stream: true } });
    expect(contentOf(chunksOf(second), 'reasoning_content')).toContain('thinking...');
  });

  it('reset() clears the flaky counters, recorded requests and per-mode counts', async () => {
    await send({ mode: 'flaky', body: user('x') });
    expect((await send({ mode: 'flaky', body: user('x') })).status).toBe(200);
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    expect(fake.stats().requestsByMode).toEqual({});
    expect((await send({ mode: 'flaky', body: user('x') })).status).toBe(503);
    expect(fake.stats().connectionsTotal).toBe(1);
  });

  it('ratelimit answers 429 with retry-after seconds or retry-after-ms, then ok', async () => {
    const secs = await send({ mode: 'ratelimit,secs=3', body: user('x') });
    expect(secs.status).toBe(429);
    expect(secs.headers['retry-after']).toBe('3');
    expect((await send({ mode: 'ratelimit,secs=3', body: user('x') })).status).toBe(200);
    const ms = await send({ mode: 'ratelimit,ms=250,fail=2,key=m', body: user('x') });
    expect(ms.headers['retry-after-ms']).toBe('250');
    expect(ms.headers['retry-after']).toBeUndefined();
    expect((await send({ mode: 'ratelimit,ms=250,fail=2,key=m', body: user('x') })).status).toBe(429);
    expect((await send({ mode: 'ratelimit,ms=250,fail=2,key=m', body: user('x') })).status).toBe(200);
  });
});

describe('malformed and streamerror modes', () => {
  it('malformed answers invalid JSON, or a stream with one bad data line', async () => {
    const plain = await send({ mode: 'malformed', body: user('x') });
    expect(plain.status).toBe(200);
    expect(plain.text).toBe('{"choices": [');
    const stream = await send({ mode: 'malformed', body: { ...user('x'), stream: true } });
    expect(stream.events.map(e => e.data).slice(1)).toEqual(['{not json}', '[DONE]']);
    expect(JSON.parse(stream.events[0]!.data).choices[0].delta.content).toBeTruthy();
  });

  it('streamerror sends a content chunk, then a GLM error event, and ends without [DONE]', async () => {
    const reply = await send({ mode: 'streamerror', body: { ...user('x'), stream: true } });
    expect(reply.complete).toBe(true);
    expect(endsWithDone(reply)).toBe(false);
    const events = reply.events.map(e => JSON.parse(e.data) as Json);
    expect(events).toHaveLength(2);
    expect(events[0]!.choices[0].delta.content).toBeTruthy();
    expect(events[1]).toEqual({ error: { code: '1234', message: 'Network error, please try again later' } });
  });

  it('streamerror in OpenAI flavor, and without streaming as a 200 error body', async () => {
    const openai = await send({
      mode: 'streamerror,flavor=openai,errcode=x',
      body: { ...user('x'), stream: true },
    });
    expect(JSON.parse(openai.events[1]!.data).error).toMatchObject({ code: 'x', type: 'server_error' });
    const plain = await send({ mode: 'streamerror,errcode=1305', body: user('x') });
    expect(plain.status).toBe(200);
    expect(jsonOf(plain).error.code).toBe('1305');
  });
});

describe('reasoning mode', () => {
  it('streams reasoning_content deltas before the content and counts reasoning tokens', async () => {
    const reply = await send({ mode: 'reasoning,chunks=4', body: { ...user('why'), stream: true } });
    const chunks = chunksOf(reply);
    const kinds = chunks.map(c =>
      c.choices[0].delta.reasoning_content ? 'r' : c.choices[0].delta.content ? 'c' : '-',
    );
    expect(kinds.join('')).toBe('rrrrc-');
    expect(contentOf(chunks, 'reasoning_content')).toBe('thinking...'.repeat(4));
    expect(contentOf(chunks)).toBe('echo: why');
    expect(chunks.at(-1)!.usage.completion_tokens_details).toEqual({ reasoning_tokens: 11 });
  });

  it('puts reasoning_content on the message without streaming', async () => {
    const body = jsonOf(await send({ mode: 'reasoning', body: user('why') }));
    expect(body.choices[0].message).toEqual({
      role: 'assistant',
      content: 'echo: why',
      reasoning_content: 'thinking...'.repeat(3),
    });
    expect(body.usage.completion_tokens_details.reasoning_tokens).toBe(9);
    expect(body.usage.completion_tokens).toBe(9 + 3);
  });
});

describe('glmsearch mode', () => {
  const withSearch = { ...user('weather'), tools: [{ type: 'web_search', web_search: { enable: true } }] };

  it('rejects a request without the web_search tool with GLM error 1214', async () => {
    const reply = await send({ mode: 'glmsearch', body: user('weather') });
    expect(reply.status).toBe(400);
    expect(jsonOf(reply).error).toEqual({ code: '1214', message: 'web_search tool missing' });
  });

  it('answers with a top-level web_search array of two results', async () => {
    const body = jsonOf(await send({ mode: 'glmsearch', body: withSearch }));
    expect(body.choices[0].message.content).toBe('echo: weather');
    expect(body.web_search).toHaveLength(2);
    for (const key of ['title', 'content', 'link', 'media', 'icon', 'refer', 'publish_date']) {
      expect(body.web_search[0]).toHaveProperty(key);
    }
  });

  it('streams web_search on the first and the last chunk', async () => {
    const chunks = chunksOf(await send({ mode: 'glmsearch', body: { ...withSearch, stream: true } }));
    expect(chunks[0]!.web_search).toHaveLength(2);
    expect(chunks.at(-1)!.web_search).toHaveLength(2);
    expect(chunks.slice(1, -1).every(c => c.web_search === undefined)).toBe(true);
  });
});

describe('kimisearch mode', () => {
  const ask = { ...user('news today'), tools: [searchTool] };

  it('completes the $web_search round trip when the arguments are echoed unchanged', async () => {
    const first = jsonOf(await send({ mode: 'kimisearch', body: ask }));
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    const assistant = first.choices[0].message;
    const toolCall = assistant.tool_calls[0];
    expect(toolCall).toMatchObject({ type: 'builtin_function', function: { name: '$web_search' } });
    expect(toolCall.id).toMatch(/^call_\d+$/);
    expect(JSON.parse(toolCall.function.arguments)).toMatchObject({ usage: { total_tokens: 42 } });

    const messages = [
      ...ask.messages,
      assistant,
      { role: 'tool', tool_call_id: toolCall.id, name: '$web_search', content: toolCall.function.arguments },
    ];
    const second = await send({ mode: 'kimisearch', body: { ...ask, messages } });
    expect(second.status).toBe(200);
    expect(jsonOf(second).choices[0]).toMatchObject({
      message: { content: 'searched: news today' },
      finish_reason: 'stop',
    });
  });

  it('rejects a tool message whose content differs from the handed-out arguments', async () => {
    const assistant = jsonOf(await send({ mode: 'kimisearch', body: ask })).choices[0].message;
    const id = assistant.tool_calls[0].id as string;
    const messages = [...ask.messages, assistant, { role: 'tool', tool_call_id: id, content: '{}' }];
    const reply = await send({ mode: 'kimisearch', body: { ...ask, messages } });
    expect(reply.status).toBe(400);
    expect(jsonOf(reply).error).toMatchObject({ type: 'invalid_request_error' });
    expect(jsonOf(reply).error.message).toContain(id);
  });

  it('rejects requests without the builtin $web_search tool or without the assistant tool_calls', async () => {
    expect((await send({ mode: 'kimisearch', body: user('x') })).status).toBe(400);
    const assistant = jsonOf(await send({ mode: 'kimisearch', body: ask })).choices[0].message;
    const { id, function: fn } = assistant.tool_calls[0];
    const orphan = [...ask.messages, { role: 'tool', tool_call_id: id, content: fn.arguments }];
    const reply = await send({ mode: 'kimisearch', body: { ...ask, messages: orphan } });
    expect(reply.status).toBe(400);
    expect(jsonOf(reply).error.message).toContain('assistant');
  });

  it('streams the tool call in OpenAI deltas and asks for `rounds` searches', async () => {
    let messages: Json[] = [...ask.messages];
    for (let round = 0; round < 2; round++) {
      const chunks = chunksOf(
        await send({ mode: 'kimisearch,rounds=2', body: { ...ask, messages, stream: true } }),
      );
      const calls = chunks.flatMap(c => c.choices[0].delta.tool_calls ?? []);
      expect(calls.length).toBeGreaterThanOrEqual(2);
      expect(chunks.at(-1)!.choices[0].finish_reason).toBe('tool_calls');
      const id = calls[0].id as string;
      const args = calls.map(c => c.function.arguments as string).join('');
      expect(() => JSON.parse(args)).not.toThrow();
      const toolCall = { id, type: 'builtin_function', function: { name: '$web_search', arguments: args } };
      messages = [
        ...messages,
        { role: 'assistant', content: '', tool_calls: [toolCall] },
        { role: 'tool', tool_call_id: id, content: args },
      ];
    }
    const final = await send({ mode: 'kimisearch,rounds=2', body: { ...ask, messages, stream: true } });
    expect(contentOf(chunksOf(final))).toBe('searched: news today');
    expect(endsWithDone(final)).toBe(true);
  });
});

describe('counters and waiting', () => {
  it('counts active requests and open sockets separately', async () => {
    const a = call({ mode: 'hang', body: user('a') });
    const b = call({ mode: 'hang', body: user('b') });
    await fake.waitForOpenSockets(2);
    await poll(() => fake.stats().activeRequests).toBe(2);
    expect(fake.stats().connectionsTotal).toBe(2);
    a.req.destroy();
    await fake.waitForActive(1, 2_000);
    b.req.destroy();
    await fake.waitForActive(0, 2_000);
    await fake.waitForOpenSockets(0, 2_000);
    expect(fake.stats()).toMatchObject({ activeRequests: 0, openSockets: 0, connectionsTotal: 2 });
  });

  it('waitForActive rejects after its timeout when requests stay active', async () => {
    const hung = call({ mode: 'hang', body: user('x') });
    await poll(() => fake.stats().activeRequests).toBe(1);
    await expect(fake.waitForActive(0, 100)).rejects.toThrow(/activeRequests/);
    hung.req.destroy();
  });
});

describe('close()', () => {
  const HANDLE_TYPES = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'];
  const handleCounts = () => {
    const info = process.getActiveResourcesInfo();
    return Object.fromEntries(HANDLE_TYPES.map(type => [type, info.filter(t => t === type).length]));
  };
  /** The handle types that grew since `before`, e.g. ['Timeout 3 > 2']; empty when nothing leaked. */
  const grown = (before: Record<string, number>) =>
    Object.entries(handleCounts()).flatMap(([type, n]) =>
      n > before[type]! ? [`${type} ${n} > ${before[type]}`] : [],
    );

  it('resolves promptly with hung, unread and dripping requests and leaves no handles behind', async () => {
    await fake.close();
    agent.destroy();
    await new Promise(resolve => setImmediate(resolve));
    const before = handleCounts();

    fake = await startFakeProvider({ strict: false });
    agent = new Agent({ keepAlive: true });
    const calls = [
      call({ mode: 'hang', body: { ...user('x'), stream: true } }),
      call({ mode: 'noread', raw: Buffer.alloc(4 * 1024 * 1024, 32) }),
      call({ mode: 'drip,every=20', body: { stream: true } }),
      call({ mode: 'slow,chunks=100,every=50', body: { stream: true } }),
      call({ mode: 'delay,ms=60000', body: user('x') }),
    ];
    await poll(() => fake.stats().activeRequests).toBe(5);
    await fake.waitForOpenSockets(5);

    const started = performance.now();
    await fake.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(fake.stats()).toMatchObject({ openSockets: 0, activeRequests: 0 });
    const replies = await Promise.all(calls.map(c => c.done));
    expect(replies.every(r => r.error !== undefined || !r.complete)).toBe(true);
    agent.destroy();
    await expect.poll(() => grown(before), { timeout: 5_000 }).toEqual([]);
  });

  it('can be called twice and refuses new connections afterwards', async () => {
    await Promise.all([fake.close(), fake.close()]);
    const reply = await send({ body: user('x') });
    expect(reply.error).toBeDefined();
  });
});
