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
    'Model name or alias (see the listmodels tool), or "auto" to let the server choose. Default: DEFAULT_MODEL.',
  );

export const temperatureField = z.number().min(0).max(1).optional();

export const thinkingModeField = z
  .enum(THINKING_MODES)
  .optional()
  // GLM and Kimi only switch thinking on or off (GLM: the thinking parameter; Kimi: its thinking model).
  .describe('Any value but "minimal" turns thinking on.');

export const webSearchField = z
  .boolean()
  .default(true)
  .describe('Let the model search the web when it helps (provider-native web search).');

export const continuationField = z
  .string()
  .min(1)
  .optional()
  .describe('From an earlier answer: continues that thread.');

export const filesField = z.array(z.string()).optional().describe('Absolute paths of text files to include.');

export const imagesField = z
  .array(z.string())
  .optional()
  .describe('Absolute image paths or data: URLs (vision models only).');

/**
 * thinking_mode → the gateway's on/off switch: GLM and Kimi cannot honour a percentage budget. Takes any
 * string because settings (EXPERT_ANALYSIS_THINKING_MODE) arrive typed as string; they are validated there.
 */
export function thinkingFrom(mode: ThinkingMode | (string & {}) | undefined): boolean {
  return mode !== undefined && mode !== 'minimal';
}
