/**
 * The behaviours of the fake provider, one handler per mode name. README.md in this folder is the contract;
 * keep the two in step. `noread` is not here: it must act before the body is read (see fake-provider.ts).
 */
import { randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { numParam } from './spec.js';
import { asRecord, type Exchange, flavorOf, lastUserText, messagesOf, splitText, textOf } from './wire.js';

/** State that outlives one request: flaky counters (cleared by reset()) and Kimi tool-call arguments. */
export interface ModeState {
  failures: Map<string, number>;
  kimiCalls: Map<string, string>;
  nextCallId(): string;
  /** Every mode by name (these and provider-modes.ts), for `then=`. */
  modes: Record<string, ModeHandler>;
}

export type ModeHandler = (x: Exchange, state: ModeState) => Promise<void> | void;

export interface AnswerOptions {
  content: string;
  latency: number;
  chunks: number;
  every: number;
  /** Sleep `every` before the first chunk too (slow), not only between chunks (ok). */
  gapFirst?: boolean;
  reasoning?: string[];
  /** Extra top-level fields for the first and last stream chunk and the non-stream completion. */
  extra?: Record<string, unknown>;
}

export function answerText(x: Exchange, prefix = 'echo: '): string {
  return x.params.content ?? `${prefix}${lastUserText(x.body)}`;
}

export function okOptions(x: Exchange, content = answerText(x)): AnswerOptions {
  return {
    content,
    latency: numParam(x.params, 'latency', 0),
    chunks: numParam(x.params, 'chunks', 3),
    every: numParam(x.params, 'every', 0),
  };
}

export async function answer(x: Exchange, o: AnswerOptions): Promise<void> {
  const reasoning = o.reasoning ?? [];
  const usage = x.usage(o.content, reasoning.join(''));
  const extra = o.extra ?? {};
  await x.sleep(o.latency);
  if (!x.stream) {
    if (o.gapFirst) await x.sleep(o.every * Math.max(1, Math.floor(o.chunks)));
    const message: Record<string, unknown> = { role: 'assistant', content: o.content };
    if (reasoning.length > 0) message.reasoning_content = reasoning.join('');
    x.json(200, x.completion(message, 'stop', usage, extra));
    return;
  }
  x.startSse();
  const deltas = [
    ...reasoning.map(text => ({ reasoning_content: text })),
    ...splitText(o.content, reasoning.length > 0 ? 1 : o.chunks).map(text => ({ content: text })),
  ];
  for (const [i, delta] of deltas.entries()) {
    if (i > 0 || o.gapFirst) await x.sleep(o.every);
    x.sse(x.chunk(i === 0 ? { role: 'assistant', ...delta } : delta, null, i === 0 ? extra : {}));
  }
  x.sse(x.finalChunk('stop', usage, extra));
  x.done();
}

const ok: ModeHandler = x => answer(x, okOptions(x));

const delay: ModeHandler = x => answer(x, { ...okOptions(x), latency: numParam(x.params, 'ms', 0) });

const slow: ModeHandler = x =>
  answer(x, {
    ...okOptions(x),
    chunks: numParam(x.params, 'chunks', 10),
    every: numParam(x.params, 'every', 200),
    gapFirst: true,
  });

const reasoning: ModeHandler = x => {
  const n = Math.max(1, Math.floor(numParam(x.params, 'chunks', 3)));
  return answer(x, { ...okOptions(x), reasoning: Array.from({ length: n }, () => 'thinking...') });
};

// Never answers; the request stays active until the client gives up or the fake closes.
const hang: ModeHandler = () => {};

const DRIPS: Record<string, (x: Exchange) => string> = {
  comment: () => ': keep-alive\n\n',
  whitespace: () => '\n',
  empty: x => `data: ${JSON.stringify(x.chunk({}))}\n\n`,
};

const drip: ModeHandler = async x => {
  const every = Math.max(1, numParam(x.params, 'every', 100));
  const beat = DRIPS[x.params.kind ?? 'comment'] ?? DRIPS.comment!;
  if (x.stream) x.startSse();
  else x.head(200, { 'content-type': 'application/json' });
  for (;;) {
    await x.sleep(every);
    x.write(x.stream ? beat(x) : ' ');
  }
};

/** Writes `text`, then destroys the socket once the bytes are handed to the kernel, so the client sees them. */
function writeThenDestroy(x: Exchange, text: string): void {
  if (x.gone) return;
  x.res.write(text, () => x.res.socket?.destroy());
}

const reset: ModeHandler = async x => {
  const after = Math.floor(numParam(x.params, 'after', 1));
  const content = answerText(x);
  if (!x.stream) {
    const body = JSON.stringify(x.completion({ role: 'assistant', content }, 'stop', x.usage(content)));
    x.head(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    writeThenDestroy(x, body.slice(0, Math.floor(body.length / 2)));
    return;
  }
  x.startSse();
  // One piece more than is sent, so the answer is visibly cut short.
  const pieces = splitText(content, after + 1).slice(0, after);
  const every = numParam(x.params, 'every', 0);
  if (pieces.length === 0) return writeThenDestroy(x, '');
  for (const [i, piece] of pieces.entries()) {
    if (i > 0) await x.sleep(every);
    const line = `data: ${JSON.stringify(x.chunk(i === 0 ? { role: 'assistant', content: piece } : { content: piece }))}\n\n`;
    if (i < pieces.length - 1) x.write(line);
    else writeThenDestroy(x, line);
  }
};

function statusCode(raw: number): number {
  return Number.isInteger(raw) && raw >= 200 && raw <= 599 ? raw : 500;
}

function sendStatus(x: Exchange, fallbackCode: number, headers: OutgoingHttpHeaders = {}): void {
  const p = x.params;
  const all: OutgoingHttpHeaders = { ...headers };
  if (p.retryafter !== undefined) all['retry-after'] = p.retryafter;
  if (p.retryafterms !== undefined) all['retry-after-ms'] = p.retryafterms;
  const fields = { errcode: p.errcode, type: p.type, message: p.message };
  x.error(statusCode(numParam(p, 'code', fallbackCode)), flavorOf(p.flavor, 'openai'), fields, all);
}

const status: ModeHandler = x => sendStatus(x, 500);

const NOT_AS_THEN = new Set(['flaky', 'ratelimit', 'noread']);

/** The first `fail` requests per (mode, key) fail; later ones are answered by the `then` mode. */
function failFirst(code: number, headers: (x: Exchange) => OutgoingHttpHeaders): ModeHandler {
  return (x, state) => {
    const key = `${x.spec.name}:${x.params.key ?? 'default'}`;
    const seen = state.failures.get(key) ?? 0;
    state.failures.set(key, seen + 1);
    if (seen < numParam(x.params, 'fail', 1)) return sendStatus(x, code, headers(x));
    const then = (x.params.then ?? 'ok').toLowerCase();
    const next = NOT_AS_THEN.has(then) ? undefined : state.modes[then];
    if (next === undefined) return unknownMode(x, `then=${then}`);
    return next(x, state);
  };
}

const flaky = failFirst(503, () => ({}));

const ratelimit = failFirst(429, x => {
  if (x.params.ms !== undefined) return { 'retry-after-ms': x.params.ms };
  return { 'retry-after': x.params.secs ?? '1' };
});

const malformed: ModeHandler = x => {
  if (!x.stream) return x.rawJson(200, '{"choices": [');
  x.startSse();
  x.sse(x.chunk({ role: 'assistant', content: 'partial' }));
  x.write('data: {not json}\n\n');
  x.done();
};

const streamerror: ModeHandler = x => {
  const flavor = flavorOf(x.params.flavor, 'glm');
  const errcode = x.params.errcode ?? (flavor === 'glm' ? '1234' : undefined);
  const message = x.params.message ?? 'Network error, please try again later';
  const body = {
    error:
      flavor === 'glm'
        ? { code: errcode, message }
        : flavor === 'kimi'
          ? { type: x.params.type ?? 'server_error', message }
          : { message, type: x.params.type ?? 'server_error', code: errcode ?? null },
  };
  if (!x.stream) return x.json(200, body);
  x.startSse();
  x.sse(x.chunk({ role: 'assistant', content: 'partial' }));
  x.sse(body);
  x.end();
};

function searchResults(query: string): Record<string, string>[] {
  return [1, 2].map(n => ({
    title: `Fake result ${n} for ${query}`,
    content: `Snippet ${n} about ${query}.`,
    link: `https://example.com/fake-search/${n}`,
    media: 'Example',
    icon: 'https://example.com/favicon.ico',
    refer: `ref_${n}`,
    publish_date: `2025-01-0${n}`,
  }));
}

const glmsearch: ModeHandler = x => {
  const tools = asRecord(x.body)?.tools;
  const hasSearch = Array.isArray(tools) && tools.some(t => asRecord(t)?.type === 'web_search');
  if (!hasSearch) return x.error(400, 'glm', { errcode: '1214', message: 'web_search tool missing' });
  return answer(x, { ...okOptions(x), extra: { web_search: searchResults(lastUserText(x.body)) } });
};

function hasKimiSearchTool(body: unknown): boolean {
  const tools = asRecord(body)?.tools;
  return (
    Array.isArray(tools) &&
    tools.some(t => {
      const tool = asRecord(t);
      return tool?.type === 'builtin_function' && asRecord(tool.function)?.name === '$web_search';
    })
  );
}

/** Checks every tool message against the calls this fake handed out; returns a complaint or the round count. */
function checkToolRounds(body: unknown, calls: Map<string, string>): string | number {
  const messages = messagesOf(body);
  let rounds = 0;
  for (const [i, m] of messages.entries()) {
    if (m.role !== 'tool') continue;
    const id = m.tool_call_id;
    if (typeof id !== 'string') return `tool message #${i} has no tool_call_id`;
    const expected = calls.get(id);
    if (expected === undefined)
      return `tool message #${i} answers tool_call_id '${id}', which was never handed out`;
    const announced = messages
      .slice(0, i)
      .some(
        a =>
          a.role === 'assistant' &&
          Array.isArray(a.tool_calls) &&
          a.tool_calls.some(c => asRecord(c)?.id === id),
      );
    if (!announced)
      return `no assistant message before tool message #${i} carries tool_calls with id '${id}'`;
    const content = typeof m.content === 'string' ? m.content : textOf(m.content);
    if (content !== expected) {
      return `tool message #${i} content ${JSON.stringify(content)} is not the arguments handed out for '${id}' (${expected})`;
    }
    rounds++;
  }
  return rounds;
}

const kimisearch: ModeHandler = (x, state) => {
  const invalid = (message: string) => x.error(400, 'kimi', { type: 'invalid_request_error', message });
  if (!hasKimiSearchTool(x.body))
    return invalid('kimisearch: tools has no builtin_function named $web_search');
  const rounds = checkToolRounds(x.body, state.kimiCalls);
  if (typeof rounds === 'string') return invalid(`kimisearch: ${rounds}`);
  if (rounds >= numParam(x.params, 'rounds', 1)) return answer(x, okOptions(x, answerText(x, 'searched: ')));

  const id = state.nextCallId();
  const args = JSON.stringify({
    search_result: { search_id: randomBytes(8).toString('hex') },
    usage: { total_tokens: 42 },
  });
  state.kimiCalls.set(id, args);
  const call = { id, type: 'builtin_function', function: { name: '$web_search', arguments: args } };
  const usage = x.usage(args);
  if (!x.stream) {
    return x.json(
      200,
      x.completion({ role: 'assistant', content: '', tool_calls: [call] }, 'tool_calls', usage),
    );
  }
  const half = Math.floor(args.length / 2);
  x.startSse();
  x.sse(
    x.chunk({
      role: 'assistant',
      tool_calls: [{ index: 0, ...call, function: { ...call.function, arguments: args.slice(0, half) } }],
    }),
  );
  x.sse(x.chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(half) } }] }));
  x.sse(x.finalChunk('tool_calls', usage));
  x.done();
};

export function unknownMode(x: Exchange, what = x.spec.name): void {
  x.error(400, 'openai', { type: 'invalid_request_error', message: `fake provider: unknown mode '${what}'` });
}

export const MODES: Record<string, ModeHandler> = {
  ok,
  delay,
  hang,
  drip,
  reset,
  status,
  flaky,
  ratelimit,
  malformed,
  streamerror,
  reasoning,
  glmsearch,
  kimisearch,
  slow,
};
