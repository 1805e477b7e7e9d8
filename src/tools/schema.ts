/**
 * Request fields shared by the model-backed tools, with the Python system's names, types and defaults
 * (reference §2.2), so agents prompted against it keep working.
 */
import { z } from 'zod';

export const THINKING_MODES = ['minimal', 'low', 'medium', 'high', 'max'] as const;
export type ThinkingMode = (typeof THINKING_MODES)[number];

export const modelField = z
  .string()
  .min(1)
  .optional()
  .describe(
    'Model name or alias (see the listmodels tool: it lists the models this server allows), or "auto" to let ' +
      'the server choose. Default: DEFAULT_MODEL.',
  );

/** The model field of a server that limits its models (GLM_ALLOWED_MODELS / KIMI_ALLOWED_MODELS): names them. */
export function modelFieldFor(allowed: readonly string[] | undefined) {
  if (!allowed) return modelField;
  return modelField.describe(
    `Model name or alias, or "auto" to let the server choose. This server allows only: ${allowed.join(', ')}. ` +
      'Default: DEFAULT_MODEL.',
  );
}

export const temperatureField = z
  .number()
  .min(0)
  .max(1)
  .optional()
  .describe('0 = deterministic, 1 = creative. Clamped to what the model accepts.');

export const thinkingModeField = z
  .enum(THINKING_MODES)
  .optional()
  .describe(
    'Reasoning depth. "minimal" (or leaving it out) turns thinking off where the model allows; anything else ' +
      'turns it on. Models with effort levels (glm-5.3, glm-5.2, kimi-k3) map low → low, medium/high → high, ' +
      'max → max; models that always think ignore "off".',
  );

export const webSearchField = z
  .boolean()
  .default(false)
  .describe(
    'Let the model search the web when it helps (provider-native web search). Costs money on top of tokens: ' +
      'GLM bills each search, Kimi charges 0.03 CNY per search and bills the results as input tokens. Kimi ' +
      'searches only with thinking off. Default false.',
  );

export const continuationField = z
  .string()
  .min(1)
  .optional()
  .describe(
    'Thread id from an earlier continuation_offer: continues that conversation with its history and files.',
  );

export const filesField = z
  .array(z.string())
  .optional()
  .describe('Absolute paths of text files to include (full paths, under the allowed folders).');

export const imagesField = z
  .array(z.string())
  .optional()
  .describe('Absolute paths of images, or data: URLs (base64). Sent only to vision-capable models.');

/**
 * thinking_mode → the gateway's on/off switch: GLM and Kimi cannot honour a percentage budget. Takes any
 * string because settings (EXPERT_ANALYSIS_THINKING_MODE) arrive typed as string; they are validated there.
 */
export function thinkingFrom(mode: ThinkingMode | (string & {}) | undefined): boolean {
  return mode !== undefined && mode !== 'minimal';
}
