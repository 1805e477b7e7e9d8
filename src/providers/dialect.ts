/**
 * What differs between GLM and Kimi on the same OpenAI-compatible wire: payload extensions (thinking, effort,
 * web search) and the Kimi builtin-tool loop. Everything else (transport, retries, stalls) is shared.
 *
 * How each parameter is sent is decided by `planRequest` from the model's catalogue row alone, never from
 * its name; the dialects only spell the plan in their provider's fields.
 */

import { estimateTokens } from '../tokens.js';
import type { AttemptResult } from './attempt.js';
import { EFFORT_LEVELS, type EffortLevel, type ModelSpec } from './models.js';
import type { ChatMessage, ProviderName, RequestAdjustments, ThinkingLevel } from './types.js';

export interface PayloadInput {
  messages: ChatMessage[];
  model: ModelSpec;
  temperature?: number;
  thinking: boolean;
  thinkingLevel?: ThinkingLevel;
  webSearch: boolean;
  maxOutputTokens?: number;
}

export interface Dialect {
  readonly name: ProviderName;
  readonly label: string;
  readonly keyVariables: readonly string[];
  buildPayload(input: PayloadInput): Record<string, unknown>;
  /**
   * After an answer that ends in builtin tool calls the provider runs itself (Kimi's $web_search), the
   * messages to send next; undefined when the answer is final.
   */
  continueToolLoop?(messages: ChatMessage[], result: AttemptResult): ChatMessage[] | undefined;
}

export interface RequestPlan {
  temperature?: number;
  /** The `thinking.type` to send; undefined: send no `thinking` field. */
  thinkingType?: 'enabled' | 'disabled';
  effort?: EffortLevel;
  outputField: 'max_tokens' | 'max_completion_tokens';
  outputTokens: number;
  /** Declare the provider's web search tool. */
  webSearch: boolean;
  adjustments: RequestAdjustments;
}

/** Output budget when the caller gives none: thinking models spend much of it reasoning. */
const DEFAULT_THINKING_OUTPUT = 32_768;
const DEFAULT_PLAIN_OUTPUT = 8_192;
/** Below this much room the prompt nearly fills the window anyway; send this and let the provider judge. */
const MIN_OUTPUT_ROOM = 1_024;

/**
 * The request rules of one model applied to one request.
 *
 * Thinking: a `toggle` model gets `thinking: {type: enabled}` when thinking was asked for and `disabled`
 * otherwise (toggle models think by default, so silence would mean thinking); thinking_mode `minimal` counts
 * as not asked. An `always` model gets no `thinking` field (some refuse `disabled`). Effort levels map
 * minimal/low → low, medium/high → high, max → max, then up to the nearest level the model has (or its
 * highest); an `always` model that was not asked to think gets its lowest level, the cheapest it allows.
 *
 * Output budget: the caller's, else the model's default; never above the model's ceiling nor above the
 * context window minus the estimated prompt (Kimi refuses prompt + budget > window).
 *
 * Web search: only on a model whose row allows it; when the row says search needs thinking off (Kimi's
 * `$web_search`) and the model will think, the search is skipped and the answer says so, rather than
 * giving up the thinking that was asked for.
 */
export function planRequest(input: PayloadInput): RequestPlan {
  const { model } = input;
  const asked = input.thinking && input.thinkingLevel !== 'minimal';
  const thinks = model.thinking === 'always' || (model.thinking === 'toggle' && asked);
  const adjustments: RequestAdjustments = { thinking: thinks, outputTokens: 0 };

  let temperature: number | undefined;
  const sampling = model.temperature;
  if (sampling === 'omit') {
    if (input.temperature !== undefined) adjustments.temperatureDropped = input.temperature;
  } else if ('fixed' in sampling) {
    temperature = sampling.fixed;
  } else if (input.temperature !== undefined) {
    temperature = Math.min(sampling.max, Math.max(sampling.min, input.temperature));
  }

  const thinkingType =
    model.thinking === 'toggle' ? (thinks ? ('enabled' as const) : ('disabled' as const)) : undefined;
  let effort: EffortLevel | undefined;
  if (model.effort.length > 0) {
    if (asked && thinks) effort = nearestEffort(input.thinkingLevel ?? 'high', model.effort);
    else if (model.thinking === 'always') effort = model.effort[0];
  }
  if (effort) adjustments.reasoningEffort = effort;

  const outputField =
    model.outputField ?? (model.provider === 'kimi' ? 'max_completion_tokens' : 'max_tokens');
  const wanted = input.maxOutputTokens ?? defaultOutputTokens(model);
  const room = model.contextWindow - estimateTokens(input.messages);
  const outputTokens = Math.max(
    1,
    Math.min(wanted, model.maxOutputTokens, Math.max(room, Math.min(wanted, MIN_OUTPUT_ROOM))),
  );
  adjustments.outputTokens = outputTokens;

  let webSearch = false;
  if (input.webSearch) {
    if (!model.webSearch) {
      adjustments.webSearchSkipped = `${model.name} cannot search the web${model.thinking === 'always' && model.provider === 'kimi' ? " (Kimi's $web_search needs thinking off, and this model always thinks)" : ''}`;
    } else if (model.webSearchNeedsThinkingOff && thinks) {
      adjustments.webSearchSkipped = `${model.name} searches the web only with thinking off; ask without thinking (thinking_mode minimal) to search`;
    } else {
      webSearch = true;
    }
  }

  return {
    ...(temperature !== undefined && { temperature }),
    ...(thinkingType !== undefined && { thinkingType }),
    ...(effort !== undefined && { effort }),
    outputField,
    outputTokens,
    webSearch,
    adjustments,
  };
}

/** The body fields every dialect shares, from the plan. */
export function basePayload(input: PayloadInput, plan: RequestPlan): Record<string, unknown> {
  return {
    model: input.model.name,
    messages: input.messages,
    [plan.outputField]: plan.outputTokens,
    ...(plan.temperature !== undefined && { temperature: plan.temperature }),
    ...(plan.thinkingType !== undefined && { thinking: { type: plan.thinkingType } }),
    ...(plan.effort !== undefined && { reasoning_effort: plan.effort }),
  };
}

function nearestEffort(level: ThinkingLevel, levels: readonly EffortLevel[]): EffortLevel {
  const wanted: EffortLevel =
    level === 'minimal' || level === 'low' ? 'low' : level === 'max' ? 'max' : 'high';
  const rank = (l: EffortLevel) => EFFORT_LEVELS.indexOf(l);
  const up = levels.filter(l => rank(l) >= rank(wanted)).sort((a, b) => rank(a) - rank(b))[0];
  return up ?? (levels[levels.length - 1] as EffortLevel);
}

/** The output budget a call gets when its caller names none: thinking models need room to reason and answer. */
export function defaultOutputTokens(model: ModelSpec): number {
  return Math.min(
    model.defaultOutputTokens ?? (model.thinking === 'none' ? DEFAULT_PLAIN_OUTPUT : DEFAULT_THINKING_OUTPUT),
    model.maxOutputTokens,
  );
}
