/**
 * The built-in model catalogue, as data: each row says what a model can do, what it costs, and how every
 * request parameter is sent to it (sampling, thinking, output budget, web search). The dialects obey the row
 * and never test a model's name, so a model the vendors change is one edited row. Users add or override rows,
 * retired ids and per-provider defaults with EXAI_MODELS_FILE (see registry.ts) instead of waiting for a
 * release.
 *
 * Sources for the figures (checked 2026-12): https://docs.z.ai/guides/llm/glm-4.5,
 * https://docs.z.ai/guides/capabilities/thinking-mode, https://docs.z.ai/api-reference/llm/chat-completion,
 * https://platform.kimi.ai/docs/api/models-overview, https://platform.kimi.com/docs/models,
 * https://platform.kimi.com/docs/pricing/chat-k26, https://platform.kimi.com/docs/guide/use-web-search.md,
 * and the models.dev catalogue (https://github.com/anomalyco/models.dev) where the vendors publish no table.
 */
import { z } from 'zod';

/** Levels of `reasoning_effort`, lowest first. */
export const EFFORT_LEVELS = ['low', 'medium', 'high', 'max'] as const;
export type EffortLevel = (typeof EFFORT_LEVELS)[number];

const priceSchema = z.object({
  /** USD per 1M input tokens. */
  input: z.number().nonnegative(),
  /** USD per 1M input tokens served from the provider's prefix cache. */
  cachedInput: z.number().nonnegative().optional(),
  /** USD per 1M output tokens (reasoning included). */
  output: z.number().nonnegative(),
});

export const modelSpecSchema = z.object({
  name: z.string().min(1),
  provider: z.enum(['glm', 'kimi']),
  aliases: z.array(z.string().min(1)).default([]),
  contextWindow: z.number().int().positive(),
  /** The most output tokens one request may ask for. */
  maxOutputTokens: z.number().int().positive(),
  /** Output budget sent when the caller gives none; default 32K for thinking models (reasoning needs room), else 8K. */
  defaultOutputTokens: z.number().int().positive().optional(),
  /** Name of the output-budget field; default max_tokens for GLM, max_completion_tokens for Kimi. */
  outputField: z.enum(['max_tokens', 'max_completion_tokens']).optional(),
  /**
   * How thinking is controlled. `toggle`: `thinking: {type: enabled|disabled}`, on unless disabled, so
   * `disabled` is sent whenever thinking was not asked for. `always`: always thinks; no `thinking` field is
   * ever sent. `none`: cannot think. (`param`, the old name of `toggle`, is still accepted.)
   */
  thinking: z.preprocess(v => (v === 'param' ? 'toggle' : v), z.enum(['toggle', 'always', 'none'])),
  /**
   * `reasoning_effort` levels the model takes (sent top-level), lowest first; empty: no such parameter. On an
   * `always` model the lowest level is sent when thinking was not asked for.
   */
  effort: z.array(z.enum(EFFORT_LEVELS)).default([]),
  vision: z.boolean().default(false),
  webSearch: z.boolean().default(false),
  /** Web search refuses to run while the model thinks (Kimi's `$web_search`). */
  webSearchNeedsThinkingOff: z.boolean().default(false),
  /** What a web search costs on top of tokens, for people choosing whether to search. */
  webSearchCost: z.string().optional(),
  /** USD per web search, billed on top of tokens; counted into a call's cost when the provider reports searches. */
  webSearchPrice: z.number().nonnegative().optional(),
  /**
   * Sampling: a range the request's temperature is clamped to, one fixed value always sent, or `omit`:
   * never send temperature (nor top_p, n or penalties); a requested temperature is dropped and noted.
   */
  temperature: z
    .union([
      z.object({ min: z.number(), max: z.number() }),
      z.object({ fixed: z.number() }),
      z.literal('omit'),
    ])
    .default({ min: 0, max: 1 }),
  /** Accepts function tools. */
  tools: z.boolean().default(true),
  price: priceSchema.optional(),
  /** The model on the other provider to fall back to; default: that provider's `general` default. */
  equivalent: z.string().min(1).optional(),
  description: z.string().default(''),
});

export type ModelSpec = z.output<typeof modelSpecSchema>;
export type ModelSpecInput = z.input<typeof modelSpecSchema>;

export const retiredModelSchema = z.object({
  name: z.string().min(1),
  /** The current model that takes over its requests and stored threads. */
  successor: z.string().min(1),
  /** When, for the error message ("was retired by Moonshot on 2026-08-31"). */
  note: z.string().optional(),
});
export type RetiredModel = z.output<typeof retiredModelSchema>;

/** What a default model is for; every default of the server is one of these, per provider. */
export const MODEL_ROLES = ['general', 'chat', 'expert', 'thinking', 'probe'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

/**
 * The default per role and provider. Why these:
 * - GLM general/chat: glm-4.7, a current model with toggle thinking (so thinking_mode is honoured both ways)
 *   at the low GLM price (0.60 / 2.20 USD per 1M); text only, like every GLM chat model but the V line.
 * - GLM expert/thinking: glm-5.1, the strongest toggle model (its 200K window holds a workflow's files) at a
 *   fraction of the 1M-window models' cost; glm-5.3 cannot turn thinking off.
 * - GLM probe: glm-4.7-flash, free and current (glm-4.5-flash is free too, but its concurrency is low and
 *   whether the 4.5 line is still served is unconfirmed).
 * - Kimi, every role: kimi-k2.6, the only current Kimi model whose thinking can be switched off (the probe and
 *   web search need it off) and the cheapest (0.95 / 4.00 USD per 1M); kimi-k3 costs 3x and always thinks.
 */
export const DEFAULT_ROLES: Record<'glm' | 'kimi', Record<ModelRole, string>> = {
  glm: {
    general: 'glm-4.7',
    chat: 'glm-4.7',
    expert: 'glm-5.1',
    thinking: 'glm-5.1',
    probe: 'glm-4.7-flash',
  },
  kimi: {
    general: 'kimi-k2.6',
    chat: 'kimi-k2.6',
    expert: 'kimi-k2.6',
    thinking: 'kimi-k2.6',
    probe: 'kimi-k2.6',
  },
};

// GLM accepts temperature in [0, 1], but the official SDK never sends the ends (<= 0 becomes 0.01 and
// >= 1 becomes 0.99: https://github.com/zai-org/z-ai-sdk-python, api_resource/chat/completions.py), so
// neither do we.
const GLM_TEMPERATURE = { min: 0.01, max: 0.99 };
const GLM_SEARCH_COST =
  'each search is billed by Z.ai on top of tokens (gateways quote about 0.03 USD per search)';
const KIMI_SEARCH_COST =
  '0.03 CNY per search call, and the results are billed as input tokens (platform.kimi.com/docs/pricing/tools)';

const glm = (row: Omit<ModelSpecInput, 'provider'>): ModelSpecInput => ({
  provider: 'glm',
  temperature: GLM_TEMPERATURE,
  webSearch: true,
  webSearchCost: GLM_SEARCH_COST,
  webSearchPrice: 0.03,
  ...row,
});

// Every current Kimi model fixes its sampling ("cannot be modified"; the one accepted temperature even
// depends on thinking), so none is ever sent.
const kimi = (row: Omit<ModelSpecInput, 'provider'>): ModelSpecInput => ({
  provider: 'kimi',
  temperature: 'omit',
  webSearchCost: KIMI_SEARCH_COST,
  // 0.03 CNY at about 7.1 CNY to the dollar.
  webSearchPrice: 0.0042,
  ...row,
});

const GLM_45 = { contextWindow: 131_072, maxOutputTokens: 98_304, thinking: 'toggle' } as const;
const GLM_5 = { maxOutputTokens: 131_072, thinking: 'toggle' } as const;

export const BUILTIN_MODELS: ModelSpecInput[] = [
  glm({
    name: 'glm-5.3',
    contextWindow: 1_048_576,
    maxOutputTokens: 131_072,
    thinking: 'always',
    effort: ['low', 'high', 'max'],
    price: { input: 1.4, cachedInput: 0.26, output: 4.4 },
    description: 'GLM flagship (2026-08), 1M context; always thinks, reasoning_effort low|high|max.',
  }),
  glm({
    name: 'glm-5.2',
    contextWindow: 1_000_000,
    ...GLM_5,
    effort: ['high', 'max'],
    price: { input: 1.4, cachedInput: 0.26, output: 4.4 },
    description: 'GLM 5.2 (2026-06), 1M context; thinking can be turned off, effort high|max.',
  }),
  glm({
    name: 'glm-5.1',
    contextWindow: 200_000,
    ...GLM_5,
    price: { input: 1.4, cachedInput: 0.26, output: 4.4 },
    description: 'GLM 5.1 (2026-03): strong reasoning and code, hybrid thinking.',
  }),
  glm({
    name: 'glm-5-turbo',
    contextWindow: 200_000,
    ...GLM_5,
    price: { input: 1.2, cachedInput: 0.24, output: 4 },
    description: 'Faster GLM 5.',
  }),
  glm({
    name: 'glm-5',
    contextWindow: 204_800,
    ...GLM_5,
    price: { input: 1, cachedInput: 0.2, output: 3.2 },
    description: 'GLM 5 (2026-02).',
  }),
  glm({
    name: 'glm-5v-turbo',
    contextWindow: 200_000,
    ...GLM_5,
    vision: true,
    price: { input: 1.2, cachedInput: 0.24, output: 4 },
    description: 'GLM 5 vision model: text, images, video.',
  }),
  glm({
    name: 'glm-4.7',
    contextWindow: 204_800,
    ...GLM_5,
    price: { input: 0.6, cachedInput: 0.11, output: 2.2 },
    description: 'GLM 4.7 (2025-12): good value for chat and code, hybrid thinking.',
  }),
  glm({
    name: 'glm-4.7-flash',
    aliases: ['flash'],
    contextWindow: 200_000,
    ...GLM_5,
    price: { input: 0, output: 0 },
    description: 'Free, fast GLM 4.7.',
  }),
  glm({
    name: 'glm-4.6',
    contextWindow: 204_800,
    ...GLM_5,
    price: { input: 0.6, cachedInput: 0.11, output: 2.2 },
    description: 'GLM 4.6 (2025-09), text only.',
  }),
  glm({
    name: 'glm-4.6v',
    contextWindow: 128_000,
    maxOutputTokens: 32_768,
    thinking: 'toggle',
    vision: true,
    price: { input: 0.3, output: 0.9 },
    description: 'GLM 4.6 vision model: text, images, video.',
  }),
  glm({
    name: 'glm-4.5',
    ...GLM_45,
    price: { input: 0.6, cachedInput: 0.11, output: 2.2 },
    description: 'GLM 4.5 (2025-07), text only.',
  }),
  glm({
    name: 'glm-4.5-air',
    ...GLM_45,
    price: { input: 0.2, cachedInput: 0.03, output: 1.1 },
    description: 'Lighter GLM 4.5.',
  }),
  glm({
    name: 'glm-4.5-x',
    ...GLM_45,
    description: 'Ultra-fast GLM 4.5 (its own model, not an Air alias).',
  }),
  glm({
    name: 'glm-4.5-airx',
    ...GLM_45,
    description: 'Fast GLM 4.5 Air.',
  }),
  glm({
    name: 'glm-4.5-flash',
    ...GLM_45,
    price: { input: 0, output: 0 },
    description: 'Free GLM 4.5 (low concurrency); thinks unless disabled.',
  }),
  glm({
    name: 'glm-4.5v',
    contextWindow: 65_536,
    maxOutputTokens: 16_384,
    thinking: 'toggle',
    vision: true,
    price: { input: 0.6, output: 1.8 },
    description: 'GLM 4.5 vision model (superseded by glm-4.6v and glm-5v-turbo).',
  }),
  kimi({
    name: 'kimi-k3',
    contextWindow: 1_048_576,
    // The API's documented default budget; a larger ceiling is reported but unconfirmed.
    maxOutputTokens: 131_072,
    thinking: 'always',
    // "max" only at launch, low|high|max reported later: the stricter rule holds until confirmed; widen it in
    // EXAI_MODELS_FILE for an account that takes the other levels.
    effort: ['max'],
    vision: true,
    // $web_search needs thinking off, which K3 cannot do.
    webSearch: false,
    price: { input: 3, cachedInput: 0.3, output: 15 },
    description: 'Kimi flagship (2026-07), 1M context; always thinks, at reasoning_effort max.',
  }),
  kimi({
    name: 'kimi-k2.7-code',
    contextWindow: 262_144,
    maxOutputTokens: 65_536,
    thinking: 'always',
    vision: true,
    webSearch: false,
    price: { input: 0.95, cachedInput: 0.19, output: 4 },
    description: 'Kimi K2.7 for code; always thinks.',
  }),
  kimi({
    name: 'kimi-k2.7-code-highspeed',
    contextWindow: 262_144,
    maxOutputTokens: 65_536,
    thinking: 'always',
    vision: true,
    webSearch: false,
    price: { input: 1.9, cachedInput: 0.38, output: 8 },
    description: 'Faster Kimi K2.7 for code; always thinks.',
  }),
  kimi({
    name: 'kimi-k2.6',
    aliases: ['kimi-k2', 'kimi'],
    contextWindow: 262_144,
    maxOutputTokens: 65_536,
    thinking: 'toggle',
    vision: true,
    webSearch: true,
    webSearchNeedsThinkingOff: true,
    price: { input: 0.95, cachedInput: 0.16, output: 4 },
    description: 'Kimi K2.6 (2026-04), 256K context; thinking on request; web search without thinking.',
  }),
];

const MOONSHOT_2026_05 = 'in 2026';
const MOONSHOT_2026_08 = 'on 2026-08-31';

/** Ids the vendors no longer serve (a request answers 404): never sent; calls and threads move to the successor. */
export const RETIRED_MODELS: RetiredModel[] = [
  ...[
    'kimi-k2-0711-preview',
    'kimi-k2-0905-preview',
    'kimi-k2-turbo-preview',
    'kimi-k2-0711',
    'kimi-k2-0905',
    'kimi-k2-turbo',
    'kimi-k2-thinking',
    'kimi-k2-thinking-turbo',
  ].map(name => ({ name, successor: 'kimi-k2.6', note: MOONSHOT_2026_05 })),
  { name: 'kimi-latest', successor: 'kimi-k2.6', note: 'on 2026-01-28 (closed to new users)' },
  { name: 'kimi-thinking-preview', successor: 'kimi-k2.6', note: 'on 2025-11-11' },
  { name: 'kimi-k2.5', successor: 'kimi-k2.6', note: MOONSHOT_2026_08 },
  ...['8k', '32k', '128k', 'auto', '8k-vision-preview', '32k-vision-preview', '128k-vision-preview'].map(
    size => ({ name: `moonshot-v1-${size}`, successor: 'kimi-k2.6', note: MOONSHOT_2026_08 }),
  ),
];
