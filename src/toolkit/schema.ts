/**
 * Request fields shared by the model-backed tools, with the names, types and defaults of the Python EX-AI MCP
 * server (https://github.com/Zazzles2908/EX-AI-MCP-Server), so agents prompted against it keep working.
 */
import { z } from 'zod';

export const THINKING_MODES = ['minimal', 'low', 'medium', 'high', 'max'] as const;
export type ThinkingMode = (typeof THINKING_MODES)[number];

export const modelField = z
  .string()
  .min(1)
  .optional()
  .describe('Model name or alias (listmodels shows those allowed here), or "auto". Default: DEFAULT_MODEL.');

/** The model field of a server that limits its models (GLM_ALLOWED_MODELS / KIMI_ALLOWED_MODELS): names them. */
export function modelFieldFor(allowed: readonly string[] | undefined) {
  if (!allowed) return modelField;
  return modelField.describe(
    `Model name or alias, or "auto". This server allows only: ${allowed.join(', ')}.`,
  );
}

export const temperatureField = z.number().min(0).max(1).optional();

export const thinkingModeField = z
  .enum(THINKING_MODES)
  .optional()
  .describe('"minimal" turns thinking off where the model allows; low/medium/high/max set its effort.');

export const webSearchField = z
  .boolean()
  .default(false)
  .describe(
    'Provider web search. Costs extra: GLM bills each search; Kimi 0.03 CNY each plus the results as input. ' +
      'Kimi searches only with thinking off.',
  );

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
