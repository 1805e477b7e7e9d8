/**
 * The OpenAI-compatible wire as the fake provider speaks it: one Exchange per request with helpers for JSON
 * answers, SSE chunks and the GLM / Kimi / OpenAI error bodies, plus the message helpers the modes share.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Provider } from './models.js';
import type { ModeSpec } from './spec.js';

export type Flavor = 'openai' | 'glm' | 'kimi';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  completion_tokens_details?: { reasoning_tokens: number };
  /** GLM: cached prompt tokens. */
  prompt_tokens_details?: { cached_tokens: number };
  /** Kimi: cached prompt tokens, at the top level of usage. */
  cached_tokens?: number;
}

/**
 * How a strict request is answered: in the provider's own shapes (usage fields, request ids, where stream
 * usage goes). Absent in lenient mode, which keeps the fake's original, provider-neutral shapes.
 */
export interface ResponseProfile {
  provider: Provider;
  /** Prompt tokens the simulated prefix cache reports as cached for this request. */
  cachedTokens: number;
  /** Kimi streams usage only when the request asks with stream_options.include_usage. */
  includeUsage: boolean;
}

export interface ErrorFields {
  errcode?: string | undefined;
  type?: string | undefined;
  message?: string | undefined;
}

type Json = Record<string, unknown>;

export function asRecord(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

export function messagesOf(body: unknown): Json[] {
  const messages = asRecord(body)?.messages;
  if (!Array.isArray(messages)) return [];
  return messages.flatMap(m => {
    const record = asRecord(m);
    return record === undefined ? [] : [record];
  });
}

/** String content as is; array content as its text parts joined. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map(part => {
      const p = asRecord(part);
      return p?.type === 'text' && typeof p.text === 'string' ? p.text : '';
    })
    .join('');
}

export function lastUserText(body: unknown): string {
  const users = messagesOf(body).filter(m => m.role === 'user');
  return textOf(users[users.length - 1]?.content);
}

export function tokens(chars: number): number {
  return Math.ceil(chars / 4);
}

export function usageFor(body: unknown, answer: string, reasoning = ''): Usage {
  const promptChars = messagesOf(body).reduce((sum, m) => sum + textOf(m.content).length, 0);
  const prompt = tokens(promptChars);
  const reasoningTokens = tokens(reasoning.length);
  const completion = tokens(answer.length) + reasoningTokens;
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  if (reasoning !== '') usage.completion_tokens_details = { reasoning_tokens: reasoningTokens };
  return usage;
}

/** Exactly n pieces; when text has fewer than n characters the trailing pieces are empty strings. */
export function splitText(text: string, n: number): string[] {
  const count = Math.max(1, Math.floor(n));
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) {
    pieces.push(
      text.slice(Math.floor((i * text.length) / count), Math.floor(((i + 1) * text.length) / count)),
    );
  }
  return pieces;
}

const DEFAULT_GLM_CODES: Record<number, string> = { 400: '1210', 401: '1001', 404: '1211', 429: '1302' };
const DEFAULT_KIMI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_authentication_error',
  403: 'permission_denied_error',
  404: 'resource_not_found_error',
  429: 'rate_limit_reached_error',
};
const DEFAULT_OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
};

export function errorBody(flavor: Flavor, status: number, fields: ErrorFields, requestId: string): Json {
  const message = fields.message ?? `fake ${flavor} error (HTTP ${status})`;
  switch (flavor) {
    case 'glm':
      return {
        error: { code: fields.errcode ?? DEFAULT_GLM_CODES[status] ?? '1234', message },
        request_id: requestId,
      };
    case 'kimi':
      return { error: { type: fields.type ?? DEFAULT_KIMI_TYPES[status] ?? 'server_error', message } };
    case 'openai':
      return {
        error: {
          message,
          type: fields.type ?? DEFAULT_OPENAI_TYPES[status] ?? 'server_error',
          code: fields.errcode ?? null,
        },
      };
  }
}

export function flavorOf(raw: string | undefined, fallback: Flavor): Flavor {
  return raw === 'glm' || raw === 'kimi' || raw === 'openai' ? raw : fallback;
}

/** One request/response pair; every write is a no-op once the client has gone or the fake is closing. */
export class Exchange {
  readonly id: string;
  readonly created = Math.floor(Date.now() / 1000);
  readonly model: string;
  readonly stream: boolean;
  /** Set by the server for strict requests; see ResponseProfile. */
  profile: ResponseProfile | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly body: unknown,
    readonly spec: ModeSpec,
    readonly signal: AbortSignal,
    readonly requestId: string,
  ) {
    this.id = `chatcmpl-${requestId}`;
    const model = asRecord(body)?.model;
    this.model = typeof model === 'string' ? model : 'fake-model';
    this.stream = asRecord(body)?.stream === true;
    this.profile = undefined;
  }

  /** The usage of an answer, in the provider's fields when the request is strict. */
  usage(answer: string, reasoning = ''): Usage {
    const base = usageFor(this.body, answer, reasoning);
    const p = this.profile;
    if (p === undefined) return base;
    const cached = Math.min(p.cachedTokens, base.prompt_tokens);
    if (p.provider === 'glm') {
      return {
        ...base,
        prompt_tokens_details: { cached_tokens: cached },
        completion_tokens_details: { reasoning_tokens: tokens(reasoning.length) },
      };
    }
    // Kimi counts reasoning in completion_tokens without a breakdown, and reports the cache hit at the top.
    const { completion_tokens_details: _, ...rest } = base;
    return { ...rest, cached_tokens: cached };
  }

  /**
   * The chunk that ends a stream. Lenient and GLM: top-level usage. Kimi: usage inside choices[0] (as the
   * kimi-cli reader expects, https://github.com/MoonshotAI/kimi-cli kosong kimi.py), and only when asked.
   */
  finalChunk(finishReason: string, usage: Usage, extra: Json = {}): Json {
    const p = this.profile;
    if (p?.provider !== 'kimi') return this.chunk({}, finishReason, { usage, ...extra });
    const chunk = this.chunk({}, finishReason, extra);
    if (p.includeUsage) {
      const [choice] = chunk.choices as Json[];
      if (choice !== undefined) choice.usage = usage;
    }
    return chunk;
  }

  get params(): Record<string, string> {
    return this.spec.params;
  }

  get gone(): boolean {
    return this.signal.aborted || this.res.destroyed;
  }

  /** Rejects with an AbortError when the client disconnects or the fake closes; the timer is cleared then. */
  async sleep(ms: number): Promise<void> {
    if (ms > 0) await delay(ms, undefined, { signal: this.signal });
    else this.signal.throwIfAborted();
  }

  head(status: number, headers: OutgoingHttpHeaders): void {
    if (this.gone || this.res.headersSent) return;
    const ids: OutgoingHttpHeaders = { 'x-request-id': this.requestId };
    // Kimi names every response by this header (https://platform.kimi.ai/docs/api/errors).
    if (this.profile?.provider === 'kimi') ids['msh-request-id'] = this.requestId;
    this.res.writeHead(status, { ...ids, ...headers });
    this.res.flushHeaders();
  }

  json(status: number, payload: unknown, headers: OutgoingHttpHeaders = {}): void {
    this.rawJson(status, JSON.stringify(payload), headers);
  }

  rawJson(status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
    if (this.gone) return;
    this.head(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    this.res.end(text);
  }

  error(status: number, flavor: Flavor, fields: ErrorFields, headers: OutgoingHttpHeaders = {}): void {
    this.json(status, errorBody(flavor, status, fields, this.requestId), headers);
  }

  startSse(): void {
    this.head(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  }

  write(text: string): void {
    if (!this.gone) this.res.write(text);
  }

  sse(data: unknown): void {
    this.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  done(): void {
    this.write('data: [DONE]\n\n');
    this.end();
  }

  end(): void {
    if (!this.gone) this.res.end();
  }

  chunk(delta: Json, finishReason: string | null = null, extra: Json = {}): Json {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
      ...extra,
    };
  }

  completion(message: Json, finishReason: string, usage: Usage, extra: Json = {}): Json {
    return {
      id: this.id,
      object: 'chat.completion',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, message, finish_reason: finishReason }],
      usage,
      // GLM bodies carry the id twice, as `id` and `request_id` (z-ai-sdk-python types/chat/chat_completion.py).
      ...(this.profile?.provider === 'glm' ? { request_id: this.id } : {}),
      ...extra,
    };
  }
}

/**
 * An abortable sleep on the global setTimeout (not node:timers/promises), so a test that installs fake
 * timers moves the fake's delays along with its own clock.
 */
function delay(ms: number, _value: undefined, options: { signal: AbortSignal }): Promise<void> {
  const { signal } = options;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
