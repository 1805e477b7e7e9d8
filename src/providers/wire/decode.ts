/**
 * Decoding an OpenAI-compatible chat completion: a whole JSON response or its stream chunks, folded into one
 * result (content, reasoning, tool calls, usage, web search results, request id).
 */
import { ExaiError } from '../../errors.js';
import type { ProviderName, ToolCall, Usage, WebSearchResult } from '../types.js';

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

export const LABEL: Record<ProviderName, string> = { glm: 'GLM', kimi: 'Kimi' };

/** Builds the response from a full completion or from stream chunks. */
export class Accumulator {
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

export function hasError(json: Record<string, unknown>): boolean {
  return typeof json.error === 'object' && json.error !== null && !Array.isArray(json.choices);
}

export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The response broke the protocol (bad JSON, a stream cut short): worth another attempt. */
export function protocolError(provider: ProviderName, model: string, message: string): ExaiError {
  return new ExaiError('protocol', `${LABEL[provider]} ${model}: ${message}`, {
    provider,
    model,
    retryable: true,
  });
}
