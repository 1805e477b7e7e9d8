/**
 * What the real GLM (Z.ai) and Kimi (Moonshot) APIs accept per model id, as data the strict fake enforces.
 * Written from the vendors' public docs and live reports (URLs below and in rules.ts), never from src/: a
 * fake that validated the client against the client's own catalogue would prove nothing.
 *
 * Where sources disagree, the row takes the stricter documented behaviour; README.md says which rows that
 * touched.
 */

export type Provider = 'glm' | 'kimi';

export type Temperature =
  /** GLM: any value in [min, max]. */
  | { kind: 'range'; min: number; max: number }
  /** Kimi: one value, which depends on whether the model thinks in this request. */
  | { kind: 'fixed'; thinkingOn: number; thinkingOff: number };

export type Thinking =
  /** `thinking: {type: enabled|disabled}`, enabled when omitted. */
  | 'toggle'
  /** Always reasons; `thinking: {type: disabled}` is a 400. */
  | 'always'
  /** Always reasons and takes no `thinking` field at all (tuned with `reasoning_effort`). */
  | 'always-no-param';

export type WebSearch =
  /** GLM: a `{type: 'web_search', web_search: {...}}` tool. */
  | 'glm-tool'
  /** Kimi: the `$web_search` builtin, only while thinking is disabled. */
  | 'kimi-builtin-thinking-off'
  /** Not allowed (an always-thinking Kimi model cannot disable thinking). */
  | 'none';

export interface ModelRow {
  id: string;
  provider: Provider;
  /** Retired ids answer as unknown: GLM 1211, Kimi 404 resource_not_found_error. */
  live: boolean;
  /** Context window in tokens (Kimi rejects prompt + output budget above it). */
  context: number;
  /** Ceiling of the output budget field (`max_tokens` on GLM, `max_completion_tokens` on Kimi). */
  maxOutput: number;
  temperature: Temperature;
  /** Kimi: top_p, n and the penalties cannot be changed. */
  fixedSampling: boolean;
  thinking: Thinking;
  /** Allowed `reasoning_effort` values; empty = the field is rejected. */
  reasoningEffort: readonly string[];
  vision: boolean;
  webSearch: WebSearch;
}

const GLM_TEMPERATURE: Temperature = { kind: 'range', min: 0, max: 1 };
const KIMI_TEMPERATURE: Temperature = { kind: 'fixed', thinkingOn: 1, thinkingOff: 0.6 };
/** Always-thinking Kimi models: 1 is the only value (there is no thinking-off state). */
const KIMI_THINKING_TEMPERATURE: Temperature = { kind: 'fixed', thinkingOn: 1, thinkingOff: 1 };

type GlmSpec = Pick<ModelRow, 'context' | 'maxOutput'> & Partial<ModelRow>;

function glm(id: string, spec: GlmSpec): ModelRow {
  return {
    id,
    provider: 'glm',
    live: true,
    temperature: GLM_TEMPERATURE,
    fixedSampling: false,
    thinking: 'toggle',
    reasoningEffort: [],
    vision: false,
    webSearch: 'glm-tool',
    ...spec,
  };
}

function kimi(id: string, spec: Partial<ModelRow>): ModelRow {
  return {
    id,
    provider: 'kimi',
    live: true,
    context: 262_144,
    maxOutput: 262_144,
    temperature: KIMI_TEMPERATURE,
    fixedSampling: true,
    thinking: 'toggle',
    reasoningEffort: [],
    vision: true,
    webSearch: 'kimi-builtin-thinking-off',
    ...spec,
  };
}

function retired(id: string, provider: Provider): ModelRow {
  return kimi(id, { provider, live: false, vision: false, webSearch: 'none' });
}

const M = 1_048_576;
const K128 = 131_072;

/**
 * GLM: https://docs.z.ai/guides/llm/glm-4.5, https://docs.z.ai/guides/capabilities/thinking,
 * https://openrouter.ai/z-ai/glm-5.3, models.dev (anomalyco/models.dev providers/zai, zhipuai).
 * GLM-5.3's `disabled` is ignored on the Coding endpoint but a 400 (1210) for glm-5.3-flash on
 * open.bigmodel.cn (NousResearch/hermes-agent#96373): the stricter answer is the row's. Its effort levels
 * are low|high|max; GLM-5.2 takes high|max and still accepts `disabled` (JailbrokenAI/wallbreaker#20).
 * Whether glm-4.5* and glm-4.6 are still served is unconfirmed; nothing documents their retirement, so they
 * stay live.
 */
const GLM_MODELS: ModelRow[] = [
  ...['glm-5.3', 'glm-5.3-flash', 'glm-5.3-flashx'].map(id =>
    glm(id, { context: M, maxOutput: K128, thinking: 'always', reasoningEffort: ['low', 'high', 'max'] }),
  ),
  glm('glm-5.2', { context: 1_000_000, maxOutput: K128, reasoningEffort: ['high', 'max'] }),
  glm('glm-5.1', { context: 200_000, maxOutput: K128 }),
  glm('glm-5-turbo', { context: 200_000, maxOutput: K128 }),
  glm('glm-5', { context: 204_800, maxOutput: K128 }),
  glm('glm-5v-turbo', { context: 200_000, maxOutput: K128, vision: true }),
  glm('glm-4.7', { context: 204_800, maxOutput: K128 }),
  glm('glm-4.7-flash', { context: 200_000, maxOutput: K128 }),
  glm('glm-4.7-flashx', { context: 200_000, maxOutput: K128 }),
  glm('glm-4.6', { context: 204_800, maxOutput: K128 }),
  glm('glm-4.6v', { context: 128_000, maxOutput: 32_768, vision: true }),
  glm('glm-4.6v-flash', { context: 128_000, maxOutput: 32_768, vision: true }),
  ...['glm-4.5', 'glm-4.5-air', 'glm-4.5-flash', 'glm-4.5-x', 'glm-4.5-airx'].map(id =>
    glm(id, { context: K128, maxOutput: 98_304 }),
  ),
  glm('glm-4.5v', { context: 65_536, maxOutput: 16_384, vision: true }),
];

/**
 * Kimi: https://platform.kimi.ai/docs/api/models-overview, https://platform.kimi.com/docs/models,
 * https://platform.kimi.ai/docs/guide/kimi-k2-7-code-quickstart, the K3 guides (docs.oxen.ai/kimi-k3,
 * dev.to aihubmix). K3's effort was "max" only at launch and low|high|max later; the row keeps the launch
 * rule (stricter) until a live check says otherwise. K3 and K2.7-code cannot disable thinking, so the
 * official "$web_search needs thinking disabled" rule leaves them without it.
 * Retired ids (404): chatbase.co/blog/kimi-k2-api, promptfoo.dev/docs/providers/moonshot,
 * geirfreysson/raynard v0.12.0, platform.kimi.com/docs/models (kimi-latest, kimi-thinking-preview).
 */
const KIMI_MODELS: ModelRow[] = [
  kimi('kimi-k3', {
    context: M,
    maxOutput: M,
    temperature: KIMI_THINKING_TEMPERATURE,
    thinking: 'always-no-param',
    reasoningEffort: ['max'],
    webSearch: 'none',
  }),
  ...['kimi-k2.7-code', 'kimi-k2.7-code-highspeed'].map(id =>
    kimi(id, { temperature: KIMI_THINKING_TEMPERATURE, thinking: 'always', webSearch: 'none' }),
  ),
  kimi('kimi-k2.6', {}),
  ...[
    'kimi-k2.5',
    'kimi-k2-0711-preview',
    'kimi-k2-0905-preview',
    'kimi-k2-turbo-preview',
    'kimi-k2-thinking',
    'kimi-k2-thinking-turbo',
    'kimi-latest',
    'kimi-thinking-preview',
    'moonshot-v1-8k',
    'moonshot-v1-32k',
    'moonshot-v1-128k',
    'moonshot-v1-auto',
    'moonshot-v1-8k-vision-preview',
    'moonshot-v1-32k-vision-preview',
    'moonshot-v1-128k-vision-preview',
  ].map(id => retired(id, 'kimi')),
];

export const MODEL_ROWS: readonly ModelRow[] = [...GLM_MODELS, ...KIMI_MODELS];

const BY_ID = new Map(MODEL_ROWS.map(row => [row.id, row]));

/** The row of a model id as the provider spells it (both APIs treat ids case-sensitively; so does this). */
export function modelRow(id: string): ModelRow | undefined {
  return BY_ID.get(id);
}

/** The provider a model id's prefix names, for paths that do not say (see README.md, "Strict mode"). */
export function providerOfModel(id: string): Provider | undefined {
  if (id.startsWith('glm-')) return 'glm';
  if (id.startsWith('kimi-') || id.startsWith('moonshot-')) return 'kimi';
  return undefined;
}
