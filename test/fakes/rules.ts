/**
 * The strict fake's rules: what the real API does when a request breaks each one, where that is written,
 * and the error body it answers with. strict.ts decides which rule a request breaks; this file says what
 * the provider then sends. README.md has the same table for humans; a test keeps the two in step.
 *
 * `messageConfirmed: false` marks a rule whose rejection is documented but whose exact message text was not
 * found in any public report: the fake's text then says what was wrong, in the provider's envelope.
 */
import type { Provider } from './models.js';

/** O: vendor docs; V: vendor SDK code; 3P: third-party report or integration; ?: sources disagree. */
export type Trust = 'O' | 'V' | '3P' | '?';

export interface RuleInfo {
  provider: Provider | 'both';
  /** What the real API does. */
  real: string;
  sources: readonly string[];
  trust: Trust;
  messageConfirmed: boolean;
}

const GLM_CODES = 'https://docs.z.ai/api-reference/api-code';
const GLM_CHAT = 'https://docs.z.ai/api-reference/llm/chat-completion';
const KIMI_CHAT = 'https://platform.kimi.ai/docs/api/chat';
const KIMI_MODELS = 'https://platform.kimi.ai/docs/api/models-overview';
const KIMI_THINKING = 'https://platform.moonshot.cn/docs/guide/use-kimi-k2-thinking-model';

export const RULES = {
  'route.base-path': {
    provider: 'both',
    real: 'chat completions live at `/api/paas/v4` and `/api/coding/paas/v4` (GLM) and `/v1` (Kimi); other paths are 404 (the fake also accepts any path whose model id starts with glm-, kimi- or moonshot-)',
    sources: [GLM_CHAT, 'https://platform.kimi.ai/docs/api/chat'],
    trust: 'O',
    messageConfirmed: false,
  },
  'glm.model.unknown': {
    provider: 'glm',
    real: 'unknown or retired model id: HTTP 400, code 1211 "Unknown Model, please check the model code."',
    sources: [
      GLM_CODES,
      'https://github.com/cline/cline/issues/6099',
      'https://github.com/JailbrokenAI/wallbreaker/issues/20',
    ],
    trust: 'O',
    messageConfirmed: true,
  },
  'glm.temperature.range': {
    provider: 'glm',
    real: 'temperature outside [0, 1]: HTTP 400, code 1210 "The temperature parameter is illegal.：限制数值范围[0,1]"',
    sources: [GLM_CHAT, 'https://github.com/theopenco/llmgateway/pull/3268'],
    trust: 'O',
    messageConfirmed: true,
  },
  'glm.thinking.type': {
    provider: 'glm',
    real: '`thinking` must be {type: "enabled"|"disabled"}; anything else is an invalid parameter (1210)',
    sources: ['https://docs.z.ai/guides/overview/concept-param'],
    trust: 'O',
    messageConfirmed: false,
  },
  'glm.thinking.always-on': {
    provider: 'glm',
    real: 'GLM-5.3 family always thinks: `thinking: {type: "disabled"}` is "no longer supported", a 400 code 1210 on open.bigmodel.cn (ignored on the Coding endpoint; the stricter answer is kept)',
    sources: [
      'https://openrouter.ai/z-ai/glm-5.3',
      'https://github.com/NousResearch/hermes-agent/issues/96373',
    ],
    trust: '?',
    messageConfirmed: false,
  },
  'glm.reasoning-effort': {
    provider: 'glm',
    real: '`reasoning_effort` only on GLM-5.3 (low|high|max) and GLM-5.2 (high|max); other values or models: 1210',
    sources: ['https://openrouter.ai/z-ai/glm-5.3', 'https://github.com/KiwiGaze/glm-for-copilot/issues/10'],
    trust: '3P',
    messageConfirmed: false,
  },
  'glm.output.field': {
    provider: 'glm',
    real: 'the output budget is `max_tokens`; `max_completion_tokens` is not a GLM parameter (the budget would silently fall back to the default)',
    sources: [GLM_CHAT],
    trust: 'O',
    messageConfirmed: false,
  },
  'glm.output.ceiling': {
    provider: 'glm',
    real: '`max_tokens` must be a positive integer up to the model ceiling (98,304 GLM-4.5 series, 16,384 GLM-4.5V, 32,768 GLM-4.6V, 131,072 later models): 1210',
    sources: [GLM_CHAT, 'https://docs.z.ai/guides/llm/glm-4.5'],
    trust: 'O',
    messageConfirmed: false,
  },
  'glm.stop.single': {
    provider: 'glm',
    real: 'only one `stop` sequence is supported',
    sources: [GLM_CHAT],
    trust: 'O',
    messageConfirmed: false,
  },
  'glm.tool-choice.auto': {
    provider: 'glm',
    real: '`tool_choice` supports only "auto"',
    sources: ['https://powertokens.ai (GLM-4.5-Air page)'],
    trust: '3P',
    messageConfirmed: false,
  },
  'glm.response-format': {
    provider: 'glm',
    real: '`response_format.type` is "text" or "json_object"; no json_schema',
    sources: [GLM_CHAT],
    trust: '3P',
    messageConfirmed: false,
  },
  'glm.request-id': {
    provider: 'glm',
    real: 'the optional tracing `request_id` is a string of 6 to 64 characters',
    sources: ['https://docs.z.ai/api-reference/tools/web-search'],
    trust: 'O',
    messageConfirmed: false,
  },
  'glm.web-search.shape': {
    provider: 'glm',
    real: 'web search is a tool `{type: "web_search", web_search: {search_engine, enable?, count 1-50?, search_recency_filter?, content_size medium|high?}}`',
    sources: [
      'https://docs.z.ai/api-reference/tools/web-search',
      'https://docs.bigmodel.cn/cn/guide/tools/web-search',
    ],
    trust: 'O',
    messageConfirmed: false,
  },
  'glm.vision': {
    provider: 'glm',
    real: 'image parts only to vision models (GLM-4.5V, 4.6V, 5V-Turbo); what a text-only model does with them is unconfirmed, so the fake rejects',
    sources: ['https://docs.z.ai/guides/llm/glm-4.5'],
    trust: '?',
    messageConfirmed: false,
  },
  'glm.image.data-url': {
    provider: 'glm',
    real: 'the official SDK strips the `data:image/...;base64,` prefix before sending, and malformed image input is a 1210 "图片输入格式/解析错误"; the fake rejects data URLs',
    sources: [
      'zai-org/z-ai-sdk-python src/zai/core/_utils/_utils.py (drop_prefix_image_data)',
      'https://github.com/theopenco/llmgateway/pull/2809',
    ],
    trust: '?',
    messageConfirmed: true,
  },
  'glm.tool-loop.pairing': {
    provider: 'glm',
    real: 'every assistant tool call is answered by a `tool` message with its `tool_call_id`, and every tool message answers an earlier call',
    sources: [GLM_CHAT],
    trust: 'O',
    messageConfirmed: false,
  },
  'glm.tool-loop.reasoning': {
    provider: 'glm',
    real: 'with thinking on, "thinking blocks should be explicitly preserved and returned together with the tool results": each assistant tool-call turn carries its `reasoning_content`',
    sources: ['https://docs.z.ai/guides/capabilities/thinking-mode'],
    trust: 'O',
    messageConfirmed: false,
  },
  'kimi.model.unknown': {
    provider: 'kimi',
    real: 'unknown or retired model id: HTTP 404 resource_not_found_error "Not found the model <id> or Permission denied"',
    sources: ['https://platform.kimi.com/docs/models', 'https://github.com/langgenius/dify/issues/39778'],
    trust: '3P',
    messageConfirmed: true,
  },
  'kimi.temperature.fixed': {
    provider: 'kimi',
    real: 'temperature cannot be modified: 400 "invalid temperature: only 1 is allowed for this model" with thinking on, "only 0.6 is allowed" with thinking off',
    sources: [
      KIMI_MODELS,
      'https://github.com/kodustech/kodus-ai/issues/1120',
      'https://github.com/arcsin1/oh-my-ppt/issues/45',
    ],
    trust: '3P',
    messageConfirmed: true,
  },
  'kimi.sampling.fixed': {
    provider: 'kimi',
    real: 'top_p is fixed at 0.95, n at 1, presence_penalty and frequency_penalty at 0',
    sources: [KIMI_MODELS],
    trust: 'O',
    messageConfirmed: false,
  },
  'kimi.thinking.type': {
    provider: 'kimi',
    real: '`thinking` is {type: "enabled"|"disabled", keep?: "all"|null}',
    sources: [KIMI_MODELS],
    trust: 'O',
    messageConfirmed: false,
  },
  'kimi.thinking.always-on': {
    provider: 'kimi',
    real: 'kimi-k2.7-code cannot disable thinking: 400 "invalid thinking: only type=enabled is allowed for this model"',
    sources: [
      'https://platform.kimi.ai/docs/guide/kimi-k2-7-code-quickstart',
      'https://github.com/can1357/oh-my-pi/issues/3852',
    ],
    trust: 'O',
    messageConfirmed: true,
  },
  'kimi.thinking.no-param': {
    provider: 'kimi',
    real: 'kimi-k3 does not take `thinking` (always on, tuned with `reasoning_effort`); rejected or ignored is unconfirmed, the fake rejects',
    sources: [
      'https://java.agentscope.io (Kimi integration)',
      'https://docs.oxen.ai/kimi-k3',
      'https://github.com/lemon07r/opencode-kimi-full/pull/11',
    ],
    trust: '?',
    messageConfirmed: false,
  },
  'kimi.reasoning-effort': {
    provider: 'kimi',
    real: '`reasoning_effort` only on kimi-k3; "max" only at launch (later low|high|max): the fake keeps "max"',
    sources: ['https://docs.oxen.ai/kimi-k3', 'https://dev.to (aihubmix Kimi K3 guide)'],
    trust: '?',
    messageConfirmed: false,
  },
  'kimi.output.field': {
    provider: 'kimi',
    real: '`max_tokens` is "Deprecated, please refer to max_completion_tokens"; whether it is still honoured is unconfirmed, the fake rejects it',
    sources: [KIMI_CHAT, 'https://test-platform.kimi.ai/docs/api/chat'],
    trust: '?',
    messageConfirmed: false,
  },
  'kimi.output.ceiling': {
    provider: 'kimi',
    real: '`max_completion_tokens` is a positive integer up to the model maximum (1,048,576 kimi-k3; the context window otherwise)',
    sources: [KIMI_CHAT, 'https://docs.oxen.ai/kimi-k3'],
    trust: '3P',
    messageConfirmed: false,
  },
  'kimi.context.budget': {
    provider: 'kimi',
    real: 'prompt + max_completion_tokens (default 1024) above the context window: 400 "Invalid request: Your request exceeded model token limit: <context> (requested: <n>)"',
    sources: [
      KIMI_CHAT,
      'https://platform.kimi.ai/docs/api/errors',
      'https://github.com/MoonshotAI/kimi-cli/issues/2011',
    ],
    trust: 'O',
    messageConfirmed: true,
  },
  'kimi.tool-choice.thinking': {
    provider: 'kimi',
    real: '`tool_choice: "required"` or a named function is rejected while thinking is on',
    sources: ['https://java.agentscope.io (Kimi integration)', 'https://agent-zone.ai (Kimi K2.6 quirks)'],
    trust: '3P',
    messageConfirmed: false,
  },
  'kimi.web-search.thinking': {
    provider: 'kimi',
    real: '"当使用 $web_search 函数时，必须禁用模型的思考能力": `$web_search` only with thinking disabled, so never on always-thinking models',
    sources: [
      'https://platform.moonshot.cn/docs/guide/use-web-search',
      'https://platform.kimi.com/docs/guide/use-web-search.md',
    ],
    trust: 'O',
    messageConfirmed: false,
  },
  'kimi.tool-loop.pairing': {
    provider: 'kimi',
    real: 'every assistant tool call is answered by a `tool` message with its `tool_call_id`, and every tool message answers an earlier call',
    sources: [KIMI_CHAT],
    trust: 'O',
    messageConfirmed: false,
  },
  'kimi.tool-loop.reasoning': {
    provider: 'kimi',
    real: 'with thinking on, each assistant tool-call turn carries `reasoning_content`, else 400 "thinking is enabled but reasoning_content is missing in assistant tool call message at index N"; "" counts as missing, " " passes',
    sources: [
      KIMI_THINKING,
      'https://github.com/earendil-works/pi/pull/4178',
      'https://github.com/anomalyco/opencode/issues/10811',
    ],
    trust: '3P',
    messageConfirmed: true,
  },
  'kimi.message.assistant-empty': {
    provider: 'kimi',
    real: 'an assistant message with empty content and no tool_calls: 400 "Invalid request: the message at position N with role \'assistant\' must not be empty"',
    sources: [
      'https://github.com/lobehub/lobehub/pull/8419',
      'https://github.com/AstrBotDevs/AstrBot/issues/7200',
    ],
    trust: '3P',
    messageConfirmed: true,
  },
  'kimi.message.empty-text-part': {
    provider: 'kimi',
    real: 'a content list holding an empty text part: 400 "text content is empty"',
    sources: ['https://github.com/BerriAI/litellm/issues/42186'],
    trust: '3P',
    messageConfirmed: true,
  },
  'kimi.response-format': {
    provider: 'kimi',
    real: '`response_format.type` is "text", "json_object" or "json_schema"',
    sources: [KIMI_CHAT],
    trust: '3P',
    messageConfirmed: false,
  },
} as const satisfies Record<string, RuleInfo>;

export type RuleId = keyof typeof RULES;

export const RULE_IDS = Object.keys(RULES) as RuleId[];

/** A strict rejection: the rule broken, the HTTP status and the provider's own error body. */
export interface Rejection {
  rule: RuleId;
  status: number;
  message: string;
  body: Record<string, unknown>;
}

/** GLM's envelope: the business code is a string. */
export function glmReject(rule: RuleId, code: string, message: string, status = 400): Rejection {
  return { rule, status, message, body: { error: { code, message } } };
}

/** Kimi's envelope: a type and a message. */
export function kimiReject(rule: RuleId, type: string, message: string, status = 400): Rejection {
  return { rule, status, message, body: { error: { message, type } } };
}

/** GLM's generic "bad parameter" answer, for rules whose exact text no public report quotes. */
export const glmInvalid = (rule: RuleId, detail: string) =>
  glmReject(rule, '1210', `Invalid API parameter, please check the documentation. (${detail})`);

export const kimiInvalid = (rule: RuleId, detail: string) =>
  kimiReject(rule, 'invalid_request_error', `Invalid request: ${detail}`);
