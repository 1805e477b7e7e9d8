/**
 * One attempt of an OpenAI-compatible chat completion, streamed or not, with stall detection.
 *
 * Streaming is the default because it makes liveness visible: a first-token timer runs from the moment the
 * attempt starts and an idle timer between content-bearing chunks. Keep-alive comments, empty deltas and
 * role-only chunks do not count, so a server that drips bytes but never content is still caught.
 */
import type { IncomingMessage } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ExaiError, isExaiError } from '../errors.js';
import { linkedController } from '../http/abort.js';
import type { HttpPool } from '../http/pool.js';
import { postJson, readText } from '../http/request.js';
import { abortReason, formatSeconds } from '../resilience/deadline.js';
import { parseRetryAfter } from '../resilience/retry.js';
import { finishReasonError, mapProviderError } from './error-mapping.js';
import type { ProviderName, ToolCall, Usage, WebSearchResult } from './types.js';

export interface AttemptInput {
  provider: ProviderName;
  model: string;
  url: URL;
  apiKey: string;
  payload: Record<string, unknown>;
  stream: boolean;
  pool: HttpPool;
  connectTimeoutMs: number;
  /** Largest request body; a larger one fails as `local` before anything is sent. */
  maxRequestBytes?: number;
  firstTokenMs: number;
  idleMs: number;
  signal: AbortSignal;
  extraHeaders?: Record<string, string>;
  /** The caller forwards content as it arrives: once any has gone out, a failure may not be retried. */
  forwards?: boolean;
  /** The output budget the payload carries, for the message when reasoning used all of it. */
  maxOutputTokens?: number;
  onDelta?: (channel: 'content' | 'reasoning', text: string) => void;
}

export interface AttemptResult {
  content: string;
  reasoning: string;
  toolCalls: ToolCall[];
  finishReason: string;
  usage: Usage;
  webSearch?: WebSearchResult[];
  requestId?: string;
  model: string;
  /** Content chunks handed to onDelta. */
  forwardedChunks: number;
}

const LABEL: Record<ProviderName, string> = { glm: 'GLM', kimi: 'Kimi' };

export async function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  const link = linkedController(input.signal);
  const acc = new Accumulator(input.model);
  const stall = (what: string, ms: number) => () =>
    link.abort(
      new ExaiError(
        'stalled',
        `${LABEL[input.provider]} ${input.model}: ${what} for ${formatSeconds(ms)}; attempt abandoned`,
        {
          provider: input.provider,
          model: input.model,
        },
      ),
    );
  let watchdog: NodeJS.Timeout | undefined = input.stream
    ? setTimeout(stall('no content arrived', input.firstTokenMs), input.firstTokenMs)
    : undefined;
  const onContent = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(stall('no new content', input.idleMs), input.idleMs);
  };

  try {
    const res = await postJson(
      input.url,
      {
        ...input.payload,
        stream: input.stream,
        ...(input.stream && { stream_options: { include_usage: true } }),
      },
      {
        pool: input.pool,
        signal: link.signal,
        connectTimeoutMs: input.connectTimeoutMs,
        ...(input.maxRequestBytes !== undefined && { maxBodyBytes: input.maxRequestBytes }),
        headers: {
          authorization: `Bearer ${input.apiKey}`,
          accept: input.stream ? 'text/event-stream' : 'application/json',
          ...input.extraHeaders,
        },
      },
    );
    // Kimi names every response in msh-request-id; GLM puts its ids in the body (read as it arrives).
    const requestId = header(res.headers['msh-request-id']) ?? header(res.headers['x-request-id']);
    if (requestId) acc.headerRequestId = requestId;

    if (res.status < 200 || res.status >= 300) {
      const text = await readText(res.body, 256 * 1024);
      const retryAfterMs = parseRetryAfter(res.headers);
      throw mapProviderError({
        provider: input.provider,
        model: input.model,
        status: res.status,
        body: parseJson(text) ?? text,
        secrets: [input.apiKey],
        ...(requestId !== undefined && { requestId }),
        ...(retryAfterMs !== undefined && { retryAfterMs }),
      });
    }

    const contentType = header(res.headers['content-type']) ?? '';
    if (input.stream && contentType.includes('text/event-stream')) {
      await readStream(res.body, input, acc, (channel, text) => {
        onContent();
        if (!text) return;
        input.onDelta?.(channel, text);
        if (channel === 'content') acc.forwardedChunks++;
      });
    } else {
      const text = await readText(res.body);
      const json = parseJson(text);
      if (json === undefined) throw protocolError(input, `response is not valid JSON: ${text.slice(0, 120)}`);
      if (hasError(json))
        throw mapProviderError({
          provider: input.provider,
          model: input.model,
          status: res.status,
          body: json,
          secrets: [input.apiKey],
          ...(requestId !== undefined && { requestId }),
        });
      acc.absorbCompletion(json);
    }
    const result = acc.result();
    const abnormal = finishReasonError({
      provider: input.provider,
      model: input.model,
      finishReason: result.finishReason,
      content: result.content,
      reasoning: result.reasoning,
      toolCalls: result.toolCalls.length,
      ...(input.maxOutputTokens !== undefined && { maxOutputTokens: input.maxOutputTokens }),
      ...(result.requestId !== undefined && { requestId: result.requestId }),
    });
    if (abnormal) throw abnormal;
    if (!input.stream || !contentType.includes('text/event-stream')) {
      if (result.content) input.onDelta?.('content', result.content);
    }
    return result;
  } catch (error) {
    // The caller's abort reason may be anything (an MCP SDK reason, a DOMException): as a plain error it
    // would read as a network failure and count against the breaker, so a few user cancels opened it.
    throw describe(link.signal.aborted ? abortedWith(link.signal) : error, input, acc);
  } finally {
    clearTimeout(watchdog);
    link.dispose();
  }
}

/**
 * After `[DONE]` the call is answered at once, but the body keeps flowing to its end in the background so the
 * socket goes back to the keep-alive pool. (Leaving a `for await` loop early destroys the stream, and with it
 * the socket: every call then paid a fresh TCP connect and close, about a third of the client's CPU time.)
 * A server that sends `[DONE]` and never ends the response loses the socket after DRAIN_GRACE_MS.
 */
const DRAIN_GRACE_MS = 1_000;

function readStream(
  body: IncomingMessage,
  input: AttemptInput,
  acc: Accumulator,
  onDelta: (channel: 'content' | 'reasoning', text: string) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      if (error === undefined) return resolve();
      body.destroy();
      reject(error);
    };
    const parser = createParser({
      onEvent(event: EventSourceMessage) {
        if (done) return;
        if (event.data === '[DONE]') {
          done = true;
          return;
        }
        const json = parseJson(event.data);
        if (json === undefined)
          throw protocolError(input, `malformed stream chunk: ${event.data.slice(0, 120)}`);
        if (hasError(json)) {
          const requestId = acc.requestId();
          throw mapProviderError({
            provider: input.provider,
            model: input.model,
            body: json,
            inStream: true,
            secrets: [input.apiKey],
            ...(requestId !== undefined && { requestId }),
          });
        }
        acc.absorbChunk(json, onDelta);
      },
    });
    body.setEncoding('utf8');
    body.on('data', (chunk: string) => {
      if (settled) return; // draining after [DONE]
      try {
        parser.feed(chunk);
      } catch (error) {
        settle(error);
        return;
      }
      if (!done) return;
      settle();
      if (!body.readableEnded) {
        const timer = setTimeout(() => body.destroy(), DRAIN_GRACE_MS).unref();
        body.once('close', () => clearTimeout(timer));
      }
    });
    body.once('end', () =>
      settle(
        done || acc.finishReason
          ? undefined
          : protocolError(input, 'stream ended before the completion finished'),
      ),
    );
    body.once('error', error => settle(error));
    // Destroyed without an error (an abort elsewhere): the caller maps it to the abort's reason.
    body.once('close', () => settle(new Error('the stream closed before it ended')));
  });
}

/** Builds the response from a full completion or from stream chunks. */
class Accumulator {
  content = '';
  reasoning = '';
  finishReason = '';
  usage: Usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  webSearch: WebSearchResult[] | undefined;
  headerRequestId: string | undefined;
  bodyRequestId: string | undefined;
  forwardedChunks = 0;
  private readonly toolCalls: ToolCall[] = [];

  constructor(private model: string) {}

  absorbCompletion(json: Record<string, unknown>): void {
    const choice = firstChoice(json);
    const message = (choice?.message ?? {}) as Record<string, unknown>;
    this.content = typeof message.content === 'string' ? message.content : '';
    this.reasoning = typeof message.reasoning_content === 'string' ? message.reasoning_content : '';
    if (Array.isArray(message.tool_calls)) this.toolCalls.push(...(message.tool_calls as ToolCall[]));
    this.finishReason = typeof choice?.finish_reason === 'string' ? choice.finish_reason : 'stop';
    this.absorbMeta(json, choice);
  }

  absorbChunk(
    json: Record<string, unknown>,
    onDelta: (channel: 'content' | 'reasoning', text: string) => void,
  ): void {
    const choice = firstChoice(json);
    const delta = (choice?.delta ?? {}) as Record<string, unknown>;
    if (typeof delta.reasoning_content === 'string' && delta.reasoning_content) {
      this.reasoning += delta.reasoning_content;
      onDelta('reasoning', delta.reasoning_content);
    }
    if (typeof delta.content === 'string' && delta.content) {
      this.content += delta.content;
      onDelta('content', delta.content);
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const part of delta.tool_calls as Array<Record<string, unknown>>) this.mergeToolCall(part);
      onDelta('reasoning', '');
    }
    if (typeof choice?.finish_reason === 'string') this.finishReason = choice.finish_reason;
    this.absorbMeta(json, choice);
  }

  /** A header id first (Kimi's msh-request-id), then GLM's body `request_id`, then the completion `id`. */
  requestId(): string | undefined {
    return this.headerRequestId ?? this.bodyRequestId;
  }

  result(): AttemptResult {
    const requestId = this.requestId();
    const usage =
      this.webSearch && this.webSearch.length > 0 ? { ...this.usage, webSearches: 1 } : this.usage;
    return {
      content: this.content,
      reasoning: this.reasoning,
      toolCalls: this.toolCalls.filter(Boolean),
      finishReason: this.finishReason || 'stop',
      usage,
      model: this.model,
      forwardedChunks: this.forwardedChunks,
      ...(this.webSearch !== undefined && { webSearch: this.webSearch }),
      ...(requestId !== undefined && { requestId }),
    };
  }

  /** OpenAI streams tool calls as fragments keyed by index; arguments arrive in pieces. */
  private mergeToolCall(part: Record<string, unknown>): void {
    const index = typeof part.index === 'number' ? part.index : this.toolCalls.length;
    const fn = (part.function ?? {}) as Record<string, unknown>;
    const existing = this.toolCalls[index];
    if (!existing) {
      this.toolCalls[index] = {
        id: String(part.id ?? `call_${index}`),
        type: part.type === 'builtin_function' ? 'builtin_function' : 'function',
        function: { name: String(fn.name ?? ''), arguments: String(fn.arguments ?? '') },
      };
      return;
    }
    if (typeof fn.name === 'string' && !existing.function.name) existing.function.name = fn.name;
    if (typeof fn.arguments === 'string') existing.function.arguments += fn.arguments;
  }

  private absorbMeta(json: Record<string, unknown>, choice: Record<string, unknown> | undefined): void {
    if (typeof json.model === 'string') this.model = json.model;
    if (this.bodyRequestId === undefined) {
      const id = typeof json.request_id === 'string' ? json.request_id : json.id;
      if (typeof id === 'string' && id) this.bodyRequestId = id;
    }
    // Kimi has been seen to put usage on the choice rather than at the top level.
    const usage = (json.usage ?? choice?.usage) as Record<string, unknown> | undefined;
    if (usage && typeof usage === 'object') this.usage = toUsage(usage);
    if (Array.isArray(json.web_search))
      this.webSearch = (json.web_search as Array<Record<string, unknown>>).map(toSearchResult);
  }
}

function toUsage(raw: Record<string, unknown>): Usage {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const input = num(raw.prompt_tokens);
  const output = num(raw.completion_tokens);
  const details = (raw.completion_tokens_details ?? {}) as Record<string, unknown>;
  const prompt = (raw.prompt_tokens_details ?? {}) as Record<string, unknown>;
  return {
    inputTokens: input,
    outputTokens: output,
    totalTokens: num(raw.total_tokens) || input + output,
    ...(typeof details.reasoning_tokens === 'number' && { reasoningTokens: details.reasoning_tokens }),
    // GLM (OpenAI style) nests cached input tokens; Kimi puts them at the top level of usage.
    ...(typeof prompt.cached_tokens === 'number'
      ? { cachedTokens: prompt.cached_tokens }
      : typeof raw.cached_tokens === 'number' && { cachedTokens: raw.cached_tokens }),
  };
}

function toSearchResult(raw: Record<string, unknown>): WebSearchResult {
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const out: WebSearchResult = {};
  for (const [key, value] of [
    ['title', s(raw.title)],
    ['link', s(raw.link)],
    ['content', s(raw.content)],
    ['media', s(raw.media)],
    ['publishDate', s(raw.publish_date)],
  ] as const) {
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function firstChoice(json: Record<string, unknown>): Record<string, unknown> | undefined {
  const choices = json.choices;
  return Array.isArray(choices) && typeof choices[0] === 'object'
    ? (choices[0] as Record<string, unknown>)
    : undefined;
}

function hasError(json: Record<string, unknown>): boolean {
  return typeof json.error === 'object' && json.error !== null && !Array.isArray(json.choices);
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function protocolError(input: AttemptInput, message: string): ExaiError {
  return new ExaiError('protocol', `${LABEL[input.provider]} ${input.model}: ${message}`, {
    provider: input.provider,
    model: input.model,
    retryable: true,
  });
}

/** Our own reasons (stalled, timeout, cancelled) as they are; anything else is the caller cancelling. */
function abortedWith(signal: AbortSignal): ExaiError {
  return isExaiError(signal.reason) ? signal.reason : abortReason(signal);
}

/** Every failure leaves as an ExaiError that says whether content already reached the caller. */
function describe(error: unknown, input: AttemptInput, acc: Accumulator): ExaiError {
  const err = isExaiError(error)
    ? localNamed(error, input)
    : new ExaiError(
        'network',
        `${LABEL[input.provider]} ${input.model}: connection failed: ${(error as Error)?.message ?? String(error)}`,
        { cause: error },
      );
  err.provider ??= input.provider;
  err.model ??= input.model;
  if (input.forwards && acc.forwardedChunks > 0) err.forwarded = true;
  return err;
}

/**
 * The HTTP layer refuses a body it will not send without knowing whose call it was; the agent reads the error,
 * so it names the provider and model as every other failure does, not the host of the URL.
 */
function localNamed(error: ExaiError, input: AttemptInput): ExaiError {
  if (error.kind !== 'local' || error.provider !== undefined) return error;
  return new ExaiError('local', `${LABEL[input.provider]} ${input.model}: ${error.message}`, {
    retryable: false,
    provider: input.provider,
    model: input.model,
    cause: error.cause,
  });
}
