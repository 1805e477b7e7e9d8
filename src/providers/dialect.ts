/**
 * What differs between GLM and Kimi on the same OpenAI-compatible wire: payload extensions (thinking, web
 * search) and the Kimi builtin-tool loop. Everything else (transport, retries, stalls) is shared.
 */
import type { ModelSpec } from './models.js';
import type { ChatMessage, ProviderName } from './types.js';
import type { AttemptResult } from './wire.js';

export interface PayloadInput {
  messages: ChatMessage[];
  model: ModelSpec;
  temperature?: number;
  thinking: boolean;
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

/** Temperature within the model's constraint; a fixed-temperature model ignores the request. */
export function effectiveTemperature(model: ModelSpec, requested: number | undefined): number | undefined {
  const constraint = model.temperature;
  if ('fixed' in constraint) return constraint.fixed;
  if (requested === undefined) return undefined;
  return Math.min(constraint.max, Math.max(constraint.min, requested));
}

export function basePayload(input: PayloadInput): Record<string, unknown> {
  const temperature = effectiveTemperature(input.model, input.temperature);
  const maxTokens = Math.min(
    input.maxOutputTokens ?? input.model.maxOutputTokens,
    input.model.maxOutputTokens,
  );
  return {
    model: input.model.name,
    messages: input.messages,
    max_tokens: maxTokens,
    ...(temperature !== undefined && { temperature }),
  };
}
