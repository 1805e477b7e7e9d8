/**
 * Strict mode: checks a chat request against what the real GLM or Kimi API accepts for its model (models.ts)
 * and answers the first broken rule with that provider's own error (rules.ts). Like the real APIs, one
 * request gets one error; the order below is the order a client fixes them in.
 */
import { type ModelRow, modelRow, type Provider, providerOfModel } from './models.js';
import { glmInvalid, glmReject, kimiInvalid, kimiReject, type Rejection } from './rules.js';
import { asRecord, messagesOf, textOf, tokens } from './wire.js';

type Json = Record<string, unknown>;

/**
 * The provider a request is addressed to. The base path decides (`.../paas/v4` is GLM, general or Coding
 * Plan; a path ending in `/v1` is Kimi), so a Kimi id sent to a GLM URL fails as it would for real; a path
 * that says neither falls back to the model id's prefix.
 */
export function providerOf(prefix: readonly string[], model: unknown): Provider | undefined {
  const path = stripModeSegments(prefix);
  const joined = path.join('/');
  if (/(^|\/)paas\/v4$/.test(joined)) return 'glm';
  // Relaxed on purpose: the suite's fixtures still point GLM at `/v1` too. The path is the test's set-up, not
  // something the client builds (it only appends /chat/completions), so a glm- id there is judged as GLM.
  if (path.at(-1) === 'v1' && !(typeof model === 'string' && model.startsWith('glm'))) return 'kimi';
  return typeof model === 'string' ? providerOfModel(model) : undefined;
}

function stripModeSegments(prefix: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < prefix.length; i++) {
    if (prefix[i] === 'mode' && i + 1 < prefix.length) i++;
    else if (prefix[i] !== '') out.push(prefix[i] ?? '');
  }
  return out;
}

export interface StrictInput {
  provider: Provider;
  body: Json;
}

/** The rejection the real API would send, or undefined when the request passes. */
export function checkStrict({ provider, body }: StrictInput): Rejection | undefined {
  const model = typeof body.model === 'string' ? body.model : '';
  // `fake-<spec>` ids pick a fault mode; only the model-independent rules apply to them.
  if (model.startsWith('fake-')) return checkMessages(provider, body, undefined, false);
  const row = modelRow(model);
  if (row === undefined || !row.live || row.provider !== provider) return unknownModel(provider, model);
  return provider === 'glm' ? checkGlm(row, body) : checkKimi(row, body);
}

function unknownModel(provider: Provider, model: string): Rejection {
  return provider === 'glm'
    ? glmReject('glm.model.unknown', '1211', 'Unknown Model, please check the model code.')
    : kimiReject(
        'kimi.model.unknown',
        'resource_not_found_error',
        `Not found the model ${model} or Permission denied`,
        404,
      );
}

/** True when the model reasons in this request (a toggle is on unless `thinking.type` is "disabled"). */
function thinkingOn(row: ModelRow, body: Json): boolean {
  if (row.thinking !== 'toggle') return true;
  return asRecord(body.thinking)?.type !== 'disabled';
}

const has = (body: Json, key: string) => body[key] !== undefined && body[key] !== null;

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function checkGlm(row: ModelRow, body: Json): Rejection | undefined {
  const t = body.temperature;
  if (has(body, 'temperature') && row.temperature.kind === 'range') {
    const { min, max } = row.temperature;
    if (typeof t !== 'number' || t < min || t > max) {
      return glmReject(
        'glm.temperature.range',
        '1210',
        'The temperature parameter is illegal.：限制数值范围[0,1]',
      );
    }
  }
  if (has(body, 'thinking')) {
    const thinking = asRecord(body.thinking);
    if (thinking === undefined || (thinking.type !== 'enabled' && thinking.type !== 'disabled')) {
      return glmInvalid('glm.thinking.type', 'thinking.type must be "enabled" or "disabled"');
    }
    if (thinking.type === 'disabled' && row.thinking !== 'toggle') {
      return glmInvalid(
        'glm.thinking.always-on',
        `${row.id} always thinks; thinking.type "disabled" is not supported`,
      );
    }
  }
  if (has(body, 'reasoning_effort') && !row.reasoningEffort.includes(String(body.reasoning_effort))) {
    const allowed = row.reasoningEffort.length > 0 ? row.reasoningEffort.join('|') : 'none';
    return glmInvalid('glm.reasoning-effort', `reasoning_effort for ${row.id} takes: ${allowed}`);
  }
  if (has(body, 'max_completion_tokens')) {
    return glmInvalid(
      'glm.output.field',
      'the output budget is max_tokens; max_completion_tokens is not supported',
    );
  }
  if (has(body, 'max_tokens') && !(isPositiveInt(body.max_tokens) && body.max_tokens <= row.maxOutput)) {
    return glmInvalid(
      'glm.output.ceiling',
      `max_tokens for ${row.id} must be an integer in [1, ${row.maxOutput}]`,
    );
  }
  if (Array.isArray(body.stop) && body.stop.length > 1) {
    return glmInvalid('glm.stop.single', 'only one stop sequence is supported');
  }
  if (has(body, 'tool_choice') && body.tool_choice !== 'auto') {
    return glmInvalid('glm.tool-choice.auto', 'tool_choice supports only "auto"');
  }
  const format = asRecord(body.response_format)?.type;
  if (has(body, 'response_format') && format !== 'text' && format !== 'json_object') {
    return glmInvalid('glm.response-format', 'response_format.type must be "text" or "json_object"');
  }
  if (has(body, 'request_id')) {
    const id = body.request_id;
    if (typeof id !== 'string' || id.length < 6 || id.length > 64) {
      return glmInvalid('glm.request-id', 'request_id must be a string of 6 to 64 characters');
    }
  }
  const search = checkGlmSearchTools(body.tools);
  if (search !== undefined) return glmInvalid('glm.web-search.shape', search);
  return checkMessages('glm', body, row, thinkingOn(row, body));
}

const GLM_ENGINES = new Set([
  'search_pro_jina',
  'search_std',
  'search_pro',
  'search_pro_sogou',
  'search_pro_quark',
]);
const RECENCY = new Set(['oneDay', 'oneWeek', 'oneMonth', 'oneYear', 'noLimit']);

function checkGlmSearchTools(tools: unknown): string | undefined {
  if (!Array.isArray(tools)) return undefined;
  for (const tool of tools) {
    const t = asRecord(tool);
    if (t?.type !== 'web_search') continue;
    const ws = asRecord(t.web_search);
    if (ws === undefined) return 'a web_search tool needs a web_search object';
    if (typeof ws.search_engine !== 'string' || !GLM_ENGINES.has(ws.search_engine)) {
      return `web_search.search_engine must be one of ${[...GLM_ENGINES].join(', ')}`;
    }
    if (ws.enable !== undefined && typeof ws.enable !== 'boolean')
      return 'web_search.enable must be a boolean';
    if (ws.count !== undefined && !(isPositiveInt(ws.count) && ws.count <= 50)) {
      return 'web_search.count must be an integer in [1, 50]';
    }
    if (ws.search_recency_filter !== undefined && !RECENCY.has(String(ws.search_recency_filter))) {
      return `web_search.search_recency_filter must be one of ${[...RECENCY].join(', ')}`;
    }
    if (ws.content_size !== undefined && ws.content_size !== 'medium' && ws.content_size !== 'high') {
      return 'web_search.content_size must be "medium" or "high"';
    }
  }
  return undefined;
}

const KIMI_FIXED: Record<string, number> = { top_p: 0.95, n: 1, presence_penalty: 0, frequency_penalty: 0 };
const DEFAULT_KIMI_BUDGET = 1024;

function checkKimi(row: ModelRow, body: Json): Rejection | undefined {
  const thinking = asRecord(body.thinking);
  if (has(body, 'thinking')) {
    if (row.thinking === 'always-no-param') {
      return kimiInvalid('kimi.thinking.no-param', `${row.id} does not take thinking; use reasoning_effort`);
    }
    const keep = thinking?.keep;
    const typeOk = thinking?.type === 'enabled' || thinking?.type === 'disabled';
    if (!typeOk || (keep !== undefined && keep !== null && keep !== 'all')) {
      return kimiInvalid('kimi.thinking.type', 'thinking must be {type: "enabled"|"disabled", keep?: "all"}');
    }
    if (thinking?.type === 'disabled' && row.thinking === 'always') {
      return kimiReject(
        'kimi.thinking.always-on',
        'invalid_request_error',
        'invalid thinking: only type=enabled is allowed for this model',
      );
    }
  }
  const on = thinkingOn(row, body);
  if (has(body, 'temperature') && row.temperature.kind === 'fixed') {
    const allowed = on ? row.temperature.thinkingOn : row.temperature.thinkingOff;
    if (body.temperature !== allowed) {
      return kimiReject(
        'kimi.temperature.fixed',
        'invalid_request_error',
        `invalid temperature: only ${allowed} is allowed for this model`,
      );
    }
  }
  if (row.fixedSampling) {
    for (const [key, value] of Object.entries(KIMI_FIXED)) {
      if (has(body, key) && body[key] !== value) {
        return kimiReject(
          'kimi.sampling.fixed',
          'invalid_request_error',
          `invalid ${key}: only ${value} is allowed for this model`,
        );
      }
    }
  }
  if (has(body, 'reasoning_effort') && !row.reasoningEffort.includes(String(body.reasoning_effort))) {
    const allowed = row.reasoningEffort.length > 0 ? row.reasoningEffort.join('|') : 'not supported';
    return kimiInvalid('kimi.reasoning-effort', `reasoning_effort for ${row.id}: ${allowed}`);
  }
  if (has(body, 'max_tokens')) {
    return kimiInvalid('kimi.output.field', 'max_tokens is deprecated, please use max_completion_tokens');
  }
  const budget = body.max_completion_tokens;
  if (has(body, 'max_completion_tokens') && !(isPositiveInt(budget) && budget <= row.maxOutput)) {
    return kimiInvalid(
      'kimi.output.ceiling',
      `max_completion_tokens must be an integer in [1, ${row.maxOutput}]`,
    );
  }
  const requested = promptTokens(body) + (isPositiveInt(budget) ? budget : DEFAULT_KIMI_BUDGET);
  if (requested > row.context) {
    return kimiInvalid(
      'kimi.context.budget',
      `Your request exceeded model token limit: ${row.context} (requested: ${requested})`,
    );
  }
  const choice = body.tool_choice;
  if (on && (choice === 'required' || asRecord(choice) !== undefined)) {
    return kimiInvalid(
      'kimi.tool-choice.thinking',
      'tool_choice "required" or a named function is not supported with thinking enabled',
    );
  }
  if (declaresKimiSearch(body.tools) && (on || row.webSearch === 'none')) {
    return kimiInvalid(
      'kimi.web-search.thinking',
      '$web_search is not supported with thinking enabled; set thinking.type to "disabled"',
    );
  }
  const format = asRecord(body.response_format)?.type;
  if (has(body, 'response_format') && !['text', 'json_object', 'json_schema'].includes(String(format))) {
    return kimiInvalid(
      'kimi.response-format',
      'response_format.type must be "text", "json_object" or "json_schema"',
    );
  }
  return checkMessages('kimi', body, row, on);
}

function declaresKimiSearch(tools: unknown): boolean {
  return (
    Array.isArray(tools) &&
    tools.some(
      t =>
        asRecord(t)?.type === 'builtin_function' && asRecord(asRecord(t)?.function)?.name === '$web_search',
    )
  );
}

/** The fake's prompt estimate: characters of every message's text / 4, rounded up (as in usage). */
export function promptTokens(body: unknown): number {
  return tokens(messagesOf(body).reduce((sum, m) => sum + textOf(m.content).length, 0));
}

function imageParts(content: unknown): Json[] {
  if (!Array.isArray(content)) return [];
  return content.flatMap(p => {
    const part = asRecord(p);
    return part?.type === 'image_url' ? [part] : [];
  });
}

function toolCallIds(message: Json): string[] {
  if (!Array.isArray(message.tool_calls)) return [];
  return message.tool_calls.flatMap(c => {
    const id = asRecord(c)?.id;
    return typeof id === 'string' ? [id] : [];
  });
}

/** Rules on the message list: content, images, and the pairing of tool calls with tool messages. */
function checkMessages(
  provider: Provider,
  body: Json,
  row: ModelRow | undefined,
  thinking: boolean,
): Rejection | undefined {
  const messages = messagesOf(body);
  for (const [i, m] of messages.entries()) {
    const images = imageParts(m.content);
    if (provider === 'glm') {
      // Every live Kimi model takes images (the text-only K2 previews are retired and fail as unknown).
      if (row !== undefined && images.length > 0 && !row.vision) {
        return glmInvalid('glm.vision', `${row.id} does not accept image input`);
      }
      const dataUrl = images.some(p => String(asRecord(p.image_url)?.url ?? '').startsWith('data:'));
      if (dataUrl) return glmReject('glm.image.data-url', '1210', '图片输入格式/解析错误');
    }
    if (provider === 'kimi') {
      const rejection = checkKimiContent(m, i);
      if (rejection !== undefined) return rejection;
    }
  }
  const pairing = checkPairing(messages);
  if (pairing !== undefined) {
    return provider === 'glm'
      ? glmReject('glm.tool-loop.pairing', '1214', `messages 参数非法。请检查文档。 (${pairing})`)
      : kimiInvalid('kimi.tool-loop.pairing', pairing);
  }
  if (thinking) return checkReasoningCarried(provider, messages);
  return undefined;
}

function checkKimiContent(m: Json, i: number): Rejection | undefined {
  if (Array.isArray(m.content)) {
    const emptyText = m.content.some(p => asRecord(p)?.type === 'text' && asRecord(p)?.text === '');
    if (emptyText)
      return kimiReject('kimi.message.empty-text-part', 'invalid_request_error', 'text content is empty');
  }
  const empty = m.content === undefined || m.content === null || m.content === '';
  if (m.role === 'assistant' && empty && toolCallIds(m).length === 0) {
    return kimiReject(
      'kimi.message.assistant-empty',
      'invalid_request_error',
      `Invalid request: the message at position ${i} with role 'assistant' must not be empty`,
    );
  }
  return undefined;
}

/** Every call answered after it, every tool message answering an earlier call; a complaint or undefined. */
function checkPairing(messages: Json[]): string | undefined {
  const open = new Map<string, number>();
  for (const [i, m] of messages.entries()) {
    if (m.role === 'assistant') {
      const [unanswered] = open.keys();
      if (unanswered !== undefined) {
        return `tool_call_id ${unanswered} of the assistant message at position ${open.get(unanswered)} has no tool message before position ${i}`;
      }
      for (const id of toolCallIds(m)) open.set(id, i);
    } else if (m.role === 'tool') {
      const id = m.tool_call_id;
      if (typeof id !== 'string' || !open.has(id)) {
        return `tool_call_id ${String(id)} of the tool message at position ${i} is not found`;
      }
      open.delete(id);
    }
  }
  const [unanswered] = open.keys();
  return unanswered === undefined
    ? undefined
    : `tool_call_id ${unanswered} of the assistant message at position ${open.get(unanswered)} has no tool message`;
}

/** Kimi counts "" as missing; GLM only asks that the field be there. */
function checkReasoningCarried(provider: Provider, messages: Json[]): Rejection | undefined {
  for (const [i, m] of messages.entries()) {
    if (m.role !== 'assistant' || toolCallIds(m).length === 0) continue;
    const r = m.reasoning_content;
    const missing = typeof r !== 'string' || (provider === 'kimi' && r === '');
    if (!missing) continue;
    const message = `thinking is enabled but reasoning_content is missing in assistant tool call message at index ${i}`;
    return provider === 'glm'
      ? glmReject('glm.tool-loop.reasoning', '1214', message)
      : kimiReject('kimi.tool-loop.reasoning', 'invalid_request_error', message);
  }
  return undefined;
}
