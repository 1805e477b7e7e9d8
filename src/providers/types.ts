/**
 * The shapes of a model call: what the layers above (tools, workflows, the CLI) ask the gateway for and get back.
 * Nothing here knows about HTTP, retries or MCP.
 */
import type { ErrorKind } from '../errors.js';

export type ProviderName = 'glm' | 'kimi';

/** The tools' thinking_mode: how hard the model should think (mapped per model by the dialects). */
export type ThinkingLevel = 'minimal' | 'low' | 'medium' | 'high' | 'max';

export interface TextPart {
  type: 'text';
  text: string;
}
export interface ImagePart {
  type: 'image_url';
  image_url: { url: string };
}
export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  type: 'function' | 'builtin_function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | ContentPart[];
  reasoning_content?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  name?: string;
}

/** Token counts of a whole call: every round of a tool loop and the attempt that answered, summed. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  reasoningTokens?: number;
  /** Input tokens served from the provider's prefix cache (billed at a fraction of the input price). */
  cachedTokens?: number;
  /** Web searches the provider ran for this call (each is billed on top of tokens). */
  webSearches?: number;
}

export interface WebSearchResult {
  title?: string;
  link?: string;
  content?: string;
  media?: string;
  publishDate?: string;
}

/** Progress of one call, for progress notifications and the terminal spinner. */
export type CallEvent =
  | { type: 'attempt_start'; provider: ProviderName; model: string; attempt: number }
  | { type: 'delta'; channel: 'content' | 'reasoning'; text: string }
  | {
      type: 'retry';
      provider: ProviderName;
      model: string;
      attempt: number;
      delayMs: number;
      reason: ErrorKind;
    }
  | {
      type: 'fallback';
      from: { provider: ProviderName; model: string };
      to: { provider: ProviderName; model: string };
      reason: ErrorKind;
    }
  | { type: 'web_search'; iteration: number };

export interface ChatRequest {
  messages: ChatMessage[];
  /** A registry name or alias; resolved before the call. */
  model: string;
  temperature?: number;
  thinking?: boolean;
  /** How hard to think when `thinking` is on (effort-level models); default high. */
  thinkingLevel?: ThinkingLevel;
  webSearch?: boolean;
  maxOutputTokens?: number;
  /** Live events. If 'delta' events are consumed the caller has seen content, so the call is not retried after them. */
  onEvent?: (event: CallEvent) => void;
  /** When true, content deltas count as forwarded to the caller (retry is forbidden after the first one). */
  forwardsDeltas?: boolean;
}

export interface FallbackInfo {
  provider: ProviderName;
  model: string;
  reason: ErrorKind;
  message: string;
}

/**
 * What the request rules of the answering model changed about the request, for the answer's metadata: a
 * caller should learn that its temperature was not sent or that no search ran, not guess.
 */
export interface RequestAdjustments {
  /** The requested temperature, not sent: the model fixes its sampling. */
  temperatureDropped?: number;
  /** Why the requested web search was not run. */
  webSearchSkipped?: string;
  /** The `reasoning_effort` sent. */
  reasoningEffort?: string;
  /** Whether the model thought (asked for, or a model that always does). */
  thinking: boolean;
  /** The output budget sent. */
  outputTokens: number;
}

export interface ChatResponse {
  content: string;
  reasoningContent: string;
  usage: Usage;
  finishReason: string;
  /** Canonical model name that answered. */
  model: string;
  provider: ProviderName;
  attempts: number;
  elapsedMs: number;
  fallbackFrom?: FallbackInfo;
  webSearch?: WebSearchResult[];
  /** The provider's id of the request that produced the answer (quote it to the provider's support). */
  requestId?: string;
  /** The provider's ids of every request this call made that got an answer, in order (tool-loop rounds). */
  requestIds?: string[];
  adjustments?: RequestAdjustments;
  /** What this call cost in USD, from the catalogue's prices; absent when the model has no price. */
  costUsd?: number;
}

export type StreamChunk =
  | { type: 'content'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'done'; response: ChatResponse };
