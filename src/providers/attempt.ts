/**
 * One attempt of an OpenAI-compatible chat completion, streamed or not, with stall detection.
 *
 * Streaming is the default because it makes liveness visible: a first-token window runs from the moment the
 * attempt starts and an idle window between content-bearing chunks (stall-watchdog.ts). Keep-alive comments,
 * empty deltas and role-only chunks do not count, so a server that drips bytes but never content is caught.
 */
import type { ClientRequest } from 'node:http';
import { ExaiError, isExaiError } from '../errors.js';
import { formatSeconds } from '../format.js';
import { header, parseRetryAfter } from '../http/headers.js';
import type { HttpPool } from '../http/pool.js';
import { postJson, readText } from '../http/request.js';
import { abortReason } from '../resilience/deadline.js';
import { finishReasonError, mapProviderError } from './error-mapping.js';
import { Watchdog } from './stall-watchdog.js';
import type { ProviderName } from './types.js';
import { Accumulator, type AttemptResult, hasError, LABEL, parseJson, protocolError } from './wire/decode.js';
import { readStream } from './wire/sse.js';

export type { AttemptResult } from './wire/decode.js';

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

export async function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  const { signal } = input;
  const acc = new Accumulator(input.model);
  // A stall ends this attempt only (the call may retry), so it destroys the request it watches rather than
  // aborting anything the caller shares; the error it leaves is the one the attempt reports.
  let request: ClientRequest | undefined;
  let stalled: ExaiError | undefined;
  const watchdog = input.stream
    ? new Watchdog(input.firstTokenMs, input.idleMs, (what, ms) => {
        stalled = new ExaiError(
          'stalled',
          `${LABEL[input.provider]} ${input.model}: ${what} for ${formatSeconds(ms)}; attempt abandoned`,
          { provider: input.provider, model: input.model },
        );
        request?.destroy(stalled);
      })
    : undefined;

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
        signal,
        onRequest: sent => {
          request = sent;
        },
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
    const requestId = header(res.headers, 'msh-request-id') ?? header(res.headers, 'x-request-id');
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

    const contentType = header(res.headers, 'content-type') ?? '';
    if (input.stream && contentType.includes('text/event-stream')) {
      await readStream(res.body, input, acc, (channel, text) => {
        watchdog?.content();
        if (!text) return;
        input.onDelta?.(channel, text);
        if (channel === 'content') acc.forwardedChunks++;
      });
    } else {
      const text = await readText(res.body);
      const json = parseJson(text);
      if (json === undefined)
        throw protocolError(input.provider, input.model, `response is not valid JSON: ${text.slice(0, 120)}`);
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
    throw describe(stalled ?? (signal.aborted ? abortedWith(signal) : error), input, acc);
  } finally {
    watchdog?.stop();
  }
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
  const forwarded = err.forwarded || (input.forwards === true && acc.forwardedChunks > 0);
  if (err.provider !== undefined && err.model !== undefined && forwarded === err.forwarded) return err;
  return err.withDetails({
    provider: err.provider ?? input.provider,
    model: err.model ?? input.model,
    forwarded,
  });
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
