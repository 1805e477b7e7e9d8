/**
 * The built-in model catalogue, as data. Model ids change often, so users add or override entries with
 * EXAI_MODELS_FILE (see registry.ts) instead of waiting for a release.
 */
import { z } from 'zod';

export const modelSpecSchema = z.object({
  name: z.string().min(1),
  provider: z.enum(['glm', 'kimi']),
  aliases: z.array(z.string().min(1)).default([]),
  contextWindow: z.number().int().positive(),
  maxOutputTokens: z.number().int().positive(),
  /** How thinking is switched on: a request parameter (GLM), another model (Kimi), always on, or not at all. */
  thinking: z.enum(['param', 'switch', 'always', 'none']),
  /** For thinking 'switch': the model that thinks; default KIMI_THINKING_MODEL. */
  thinkingModel: z.string().min(1).optional(),
  vision: z.boolean().default(false),
  webSearch: z.boolean().default(false),
  temperature: z
    .union([z.object({ min: z.number(), max: z.number() }), z.object({ fixed: z.number() })])
    .default({ min: 0, max: 1 }),
  /** The model on the other provider to fall back to when this one's provider is unavailable. */
  equivalent: z.string().min(1).optional(),
  description: z.string().default(''),
});

export type ModelSpec = z.output<typeof modelSpecSchema>;
export type ModelSpecInput = z.input<typeof modelSpecSchema>;

export const BUILTIN_MODELS: ModelSpecInput[] = [
  { name: 'glm-4.6', provider: 'glm', contextWindow: 200_000, maxOutputTokens: 8192, thinking: 'param', vision: true, webSearch: true, equivalent: 'kimi-k2-0905-preview', description: 'GLM flagship: strong reasoning and code, hybrid thinking.' },
  { name: 'glm-4.5', provider: 'glm', contextWindow: 128_000, maxOutputTokens: 8192, thinking: 'param', vision: true, webSearch: true, equivalent: 'kimi-k2-0905-preview', description: 'GLM quality model.' },
  { name: 'glm-4.5-air', provider: 'glm', aliases: ['glm-4.5-x'], contextWindow: 128_000, maxOutputTokens: 8192, thinking: 'param', vision: true, webSearch: true, equivalent: 'kimi-k2-turbo-preview', description: 'Lighter GLM 4.5.' },
  { name: 'glm-4.5-flash', provider: 'glm', aliases: ['flash'], contextWindow: 128_000, maxOutputTokens: 8192, thinking: 'none', vision: true, webSearch: true, equivalent: 'kimi-k2-turbo-preview', description: 'Fast, low-cost GLM model (free tier).' },
  { name: 'glm-4.5v', provider: 'glm', contextWindow: 65_536, maxOutputTokens: 8192, thinking: 'none', vision: true, webSearch: true, description: 'GLM vision model.' },
  { name: 'kimi-k2-0905-preview', provider: 'kimi', aliases: ['kimi-k2-0905', 'kimi-k2'], contextWindow: 262_144, maxOutputTokens: 8192, thinking: 'switch', vision: true, webSearch: true, equivalent: 'glm-4.6', temperature: { min: 0, max: 1 }, description: 'Kimi K2 (Sept 2025), 256K context.' },
  { name: 'kimi-k2-0711-preview', provider: 'kimi', aliases: ['kimi-k2-0711'], contextWindow: 131_072, maxOutputTokens: 8192, thinking: 'switch', webSearch: true, equivalent: 'glm-4.5', description: 'Kimi K2 (July 2025).' },
  { name: 'kimi-k2-turbo-preview', provider: 'kimi', aliases: ['kimi-k2-turbo'], contextWindow: 262_144, maxOutputTokens: 8192, thinking: 'switch', thinkingModel: 'kimi-k2-thinking-turbo', vision: true, webSearch: true, equivalent: 'glm-4.5-flash', description: 'Fast Kimi K2.' },
  { name: 'kimi-k2-thinking', provider: 'kimi', contextWindow: 262_144, maxOutputTokens: 16_384, thinking: 'always', webSearch: true, equivalent: 'glm-4.6', description: 'Kimi K2 with reasoning (Nov 2025).' },
  { name: 'kimi-k2-thinking-turbo', provider: 'kimi', contextWindow: 262_144, maxOutputTokens: 16_384, thinking: 'always', webSearch: true, equivalent: 'glm-4.6', description: 'Fast Kimi K2 with reasoning.' },
  { name: 'kimi-thinking-preview', provider: 'kimi', contextWindow: 131_072, maxOutputTokens: 8192, thinking: 'always', vision: true, webSearch: true, equivalent: 'glm-4.6', description: 'Earlier Kimi reasoning model.' },
  { name: 'kimi-latest', provider: 'kimi', contextWindow: 131_072, maxOutputTokens: 8192, thinking: 'switch', vision: true, webSearch: true, equivalent: 'glm-4.5', description: 'Kimi latest (tracks the consumer app model).' },
  { name: 'moonshot-v1-8k', provider: 'kimi', contextWindow: 8_192, maxOutputTokens: 2048, thinking: 'none', webSearch: true, description: 'Moonshot v1, 8K.' },
  { name: 'moonshot-v1-32k', provider: 'kimi', contextWindow: 32_768, maxOutputTokens: 4096, thinking: 'none', webSearch: true, description: 'Moonshot v1, 32K.' },
  { name: 'moonshot-v1-128k', provider: 'kimi', contextWindow: 131_072, maxOutputTokens: 8192, thinking: 'none', webSearch: true, description: 'Moonshot v1, 128K.' },
];
