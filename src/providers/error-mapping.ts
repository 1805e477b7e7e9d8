/**
 * Maps provider failures to the error taxonomy. HTTP status alone misleads: GLM answers 429 for concurrency,
 * frequency, daily caps and an empty balance alike, and Kimi answers 429 for an exhausted quota. So the
 * body's business code (GLM) or error type (Kimi) decides first, then the message text where one type covers
 * several causes (Kimi's rate limits), and the status only when they say nothing.
 *
 * Abnormal finishes are mapped here too: GLM reports a filtered answer, an upstream failure or a context
 * overflow as a `finish_reason` inside an otherwise normal 200 response, and a thinking model that spends its
 * whole output budget on reasoning ends with `length` and no answer. Passing those on as success would hand
 * the caller an empty or cut answer that looks complete.
 */
import { type ErrorKind, ExaiError } from '../errors.js';
import { untilText } from '../resilience/breaker.js';
import type { ProviderName } from './types.js';

interface Mapped {
  kind: ErrorKind;
  retryable: boolean;
  hint?: string;
  /** When the provider said the limit resets (epoch ms). */
  retryAt?: number;
  /** A wait the provider asked for in its message text. */
  retryAfterMs?: number;
}

const k = (kind: ErrorKind, retryable: boolean, hint?: string): Mapped =>
  hint === undefined ? { kind, retryable } : { kind, retryable, hint };

const LABEL: Record<ProviderName, string> = { glm: 'GLM', kimi: 'Kimi' };

/** Coding Plan keys are refused on the general endpoint with 1113, which reads like an empty balance. */
export const GLM_CODING_PLAN_URL = 'https://api.z.ai/api/coding/paas/v4';

const RETIRED_MODEL_HINT =
  'unknown model: retired, misspelt or not open to this account? check listmodels, and update EXAI_MODELS_FILE';
const LESS_CONTEXT_HINT = 'the prompt does not fit the model context window; send less context';

/** GLM business codes (https://docs.z.ai/api-reference/api-code). */
function mapGlmCode(code: number, message: string, now: number): Mapped | undefined {
  if (code >= 1000 && code <= 1004) return k('auth', false, 'check GLM_API_KEY');
  if ([1110, 1111, 1112, 1121].includes(code))
    return k('auth', false, 'the GLM account is inactive or locked');
  if (code === 1113)
    return k(
      'quota_exhausted',
      false,
      `no balance or resource package; a GLM Coding Plan key used on the general endpoint gets this too: Coding Plan keys work only at ${GLM_CODING_PLAN_URL} (set GLM_API_URL)`,
    );
  if (code === 1120) return k('upstream_error', true);
  if (code === 1211) return k('not_found', false, RETIRED_MODEL_HINT);
  if (code === 1261) return k('bad_request', false, LESS_CONTEXT_HINT);
  if (code >= 1210 && code <= 1215) return k('bad_request', false);
  if (code === 1220) return k('auth', false, 'this key has no permission for the API');
  if (code === 1221 || code === 1222) return k('not_found', false);
  if (code === 1230) return k('upstream_error', true);
  if (code === 1231) return k('bad_request', false);
  if (code === 1234) return k('network', true);
  if (code === 1301) return k('content_filtered', false);
  if (code === 1302)
    return k('rate_limited', true, 'too many concurrent GLM requests; lower GLM_MAX_CONCURRENCY');
  if (code === 1303) return k('rate_limited', true);
  if (code === 1304) return withReset(k('quota_exhausted', false, 'the daily GLM call quota is reached'));
  if (code === 1305 || code === 1312) return k('overloaded', true);
  if (code === 1316)
    return withReset(k('quota_exhausted', false, 'the GLM Coding Plan 5-hour usage limit is reached'));
  if (code === 1317)
    return withReset(k('quota_exhausted', false, 'the GLM Coding Plan weekly usage limit is reached'));
  if ([1308, 1309, 1310, 1313].includes(code))
    return withReset(k('quota_exhausted', false, 'the GLM plan limit is reached'));
  if (code === 1311) return k('bad_request', false, 'the model is not part of the GLM plan');
  return undefined;

  function withReset(mapped: Mapped): Mapped {
    const retryAt = parseResetTime(message, now);
    if (retryAt === undefined) return mapped;
    return { ...mapped, retryAt, hint: `${mapped.hint}; it resets at ${untilText(retryAt, now)}` };
  }
}

/** Kimi error types (https://platform.kimi.ai/docs/api/errors). */
function mapKimiType(type: string, message: string, now: number): Mapped | undefined {
  switch (type) {
    case 'content_filter':
      return k('content_filtered', false);
    case 'invalid_request_error':
      return k('bad_request', false, kimiBadRequestHint(message));
    case 'invalid_authentication_error':
    case 'incorrect_api_key_error':
      return k('auth', false, 'check KIMI_API_KEY (keys of the .cn and .ai platforms differ)');
    case 'permission_denied_error':
      return /balance|quota|suspend/i.test(message) ? k('quota_exhausted', false) : k('auth', false);
    case 'resource_not_found_error':
      return k('not_found', false, RETIRED_MODEL_HINT);
    case 'engine_overloaded_error':
      return k('overloaded', true);
    case 'rate_limit_reached_error':
      return mapKimiRateLimit(message, now);
    case 'exceeded_current_quota_error':
      return k('quota_exhausted', false, 'the Kimi account balance is exhausted; recharge it');
    case 'server_error':
      return k('upstream_error', true);
    default:
      return undefined;
  }
}

/**
 * The hint of a Kimi concurrency refusal, and the only sign of one an error carries: the message also holds
 * our hints, and the per-minute one names KIMI_MAX_CONCURRENCY too, so the word "concurrency" in it proves
 * nothing (concurrency-refusal.ts).
 */
export const KIMI_CONCURRENCY_HINT =
  'too many concurrent Kimi requests; lower KIMI_MAX_CONCURRENCY (a Tier0 account allows 1)';

/**
 * Kimi uses one type for four limits and only the message tells them apart. Concurrency, RPM and TPM clear in
 * seconds (the message says how many); TPD (tokens per day) clears only when the day turns in China time, so
 * retrying it within a call is futile and it counts as an exhausted quota until then.
 */
function mapKimiRateLimit(message: string, now: number): Mapped {
  if (/\bTPD\b|tokens? per day/i.test(message)) {
    const retryAt = nextChinaMidnight(now);
    return {
      kind: 'quota_exhausted',
      retryable: false,
      retryAt,
      hint: `the Kimi daily token limit (TPD) is reached; it resets at midnight China time (${untilText(retryAt, now)}); a higher account tier lifts it`,
    };
  }
  const wait = /try again after (\d+(?:\.\d+)?) ?s/i.exec(message);
  const mapped = /concurrency/i.test(message)
    ? k('rate_limited', true, KIMI_CONCURRENCY_HINT)
    : k('rate_limited', true, 'Kimi per-minute rate limit reached; lower KIMI_MAX_CONCURRENCY');
  return wait ? { ...mapped, retryAfterMs: Number(wait[1]) * 1000 } : mapped;
}

function kimiBadRequestHint(message: string): string | undefined {
  if (/temperature/i.test(message))
    return 'this Kimi model takes one fixed temperature; give the model `"temperature": {"fixed": <value>}` in EXAI_MODELS_FILE';
  if (/reasoning_content/i.test(message))
    return 'with thinking on, Kimi needs reasoning_content on every assistant tool-call turn; turn thinking off for web search';
  if (/token limit|too long|context length/i.test(message)) return LESS_CONTEXT_HINT;
  return undefined;
}

function mapStatus(status: number): Mapped {
  if (status === 400 || status === 413 || status === 422) return k('bad_request', false);
  if (status === 401 || status === 403) return k('auth', false);
  if (status === 404) return k('not_found', false, RETIRED_MODEL_HINT);
  if (status === 408) return k('upstream_error', true);
  if (status === 409) return k('upstream_error', true);
  if (status === 429) return k('rate_limited', true);
  if (status === 503 || status === 529) return k('overloaded', true);
  if (status >= 500) return k('upstream_error', true);
  return k('protocol', false);
}

export interface ProviderErrorInput {
  provider: ProviderName;
  model: string;
  status?: number;
  body: unknown;
  requestId?: string;
  retryAfterMs?: number;
  /** Where the error was seen, for the message: an HTTP status or an error object inside a stream. */
  inStream?: boolean;
  /** Values that must never be repeated (the configured API keys), should the provider echo them. */
  secrets?: readonly string[];
  /** Clock for reset times; Date.now() by default. */
  now?: number;
}

export function mapProviderError(input: ProviderErrorInput): ExaiError {
  const now = input.now ?? Date.now();
  const { code, type, message, requestId: bodyRequestId } = readErrorBody(input.body);
  const requestId = input.requestId ?? bodyRequestId;
  let mapped: Mapped | undefined;
  if (input.provider === 'glm' && code !== undefined && /^\d+$/.test(code))
    mapped = mapGlmCode(Number(code), message, now);
  if (!mapped && type && input.provider === 'kimi') mapped = mapKimiType(type, message, now);
  if (!mapped && input.status !== undefined) mapped = mapStatus(input.status);
  // An error object inside a 200 stream with nothing recognisable: the provider failed mid-way.
  mapped ??= k('upstream_error', true);

  const label = LABEL[input.provider];
  const where = input.inStream ? 'error in stream' : `HTTP ${input.status}`;
  const tag = [code, type].filter(Boolean).join('/');
  const said = message ? `${label} said: "${providerWords(message, input.secrets)}"` : 'no message';
  const text = `${label} ${input.model}: ${where}${tag ? ` [${tag}]` : ''}: ${said}${mapped.hint ? ` (${mapped.hint})` : ''}`;
  // A server-sent Retry-After wins over a wait read from prose.
  const retryAfterMs = input.retryAfterMs ?? mapped.retryAfterMs;
  return new ExaiError(mapped.kind, text, {
    retryable: mapped.retryable,
    provider: input.provider,
    model: input.model,
    ...(input.status !== undefined && { status: input.status }),
    ...((code ?? type) !== undefined && { code: (code ?? type) as string }),
    ...(requestId !== undefined && { requestId }),
    ...(retryAfterMs !== undefined && { retryAfterMs }),
    ...(mapped.retryAt !== undefined && { retryAt: mapped.retryAt }),
  });
}

export interface FinishInput {
  provider: ProviderName;
  model: string;
  finishReason: string;
  content: string;
  reasoning: string;
  toolCalls: number;
  /** The output budget the request carried, for the message. */
  maxOutputTokens?: number;
  requestId?: string;
}

/**
 * The error an abnormal finish stands for, or undefined for a normal one. A `length` finish with content is a
 * (cut) answer and stays one; with no content and no tool call the caller would get nothing.
 */
export function finishReasonError(input: FinishInput): ExaiError | undefined {
  const label = LABEL[input.provider];
  const prefix = `${label} ${input.model}: finish_reason ${input.finishReason}`;
  const details = {
    provider: input.provider,
    model: input.model,
    code: input.finishReason,
    ...(input.requestId !== undefined && { requestId: input.requestId }),
  };
  switch (input.finishReason) {
    case 'sensitive':
      return new ExaiError(
        'content_filtered',
        `${prefix}: the provider's safety filter cut the answer; rephrase the request or leave out the flagged material`,
        { ...details, retryable: false },
      );
    case 'network_error':
      return new ExaiError('upstream_error', `${prefix}: the provider failed while generating the answer`, {
        ...details,
        retryable: true,
      });
    case 'model_context_window_exceeded':
      return new ExaiError('bad_request', `${prefix}: ${LESS_CONTEXT_HINT}`, {
        ...details,
        retryable: false,
      });
    case 'length': {
      if (input.content.trim() !== '' || input.toolCalls > 0) return undefined;
      const budget = input.maxOutputTokens === undefined ? '' : ` of ${input.maxOutputTokens} tokens`;
      const spent = input.reasoning ? 'went to reasoning' : 'ran out';
      return new ExaiError(
        'truncated',
        `${prefix}: the whole output budget${budget} ${spent} and no answer was produced; raise the output budget (max_output_tokens, or the model's maxOutputTokens in EXAI_MODELS_FILE) or turn thinking off`,
        { ...details, retryable: false },
      );
    }
    default:
      return undefined;
  }
}

/** Longest stretch of provider text passed on; error pages can be many kilobytes. */
export const PROVIDER_TEXT_MAX_CHARS = 500;

/**
 * Provider text as it may be shown: anything that looks like a credential removed, markup stripped, one line,
 * at most PROVIDER_TEXT_MAX_CHARS. Providers have echoed keys and account identifiers in their messages.
 */
export function providerWords(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join('[redacted]');
  out = out
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<\/?[a-z][^>]*>/gi, ' ')
    .replace(/\bBearer\s+\S+/gi, 'Bearer [redacted]')
    .replace(/\bsk-[A-Za-z0-9_-]{6,}/g, 'sk-[redacted]')
    // Z.ai keys: 32 hex characters, a dot, a secret part.
    .replace(/\b[0-9a-f]{32}\.[A-Za-z0-9_-]{8,}/gi, '[redacted]')
    // Moonshot access-key ids in rate-limit messages: `<ak-…>`, `<cak-…>`.
    .replace(/\bc?ak-[A-Za-z0-9]{6,}/g, 'ak-[redacted]')
    .replace(/\s+/g, ' ')
    .trim();
  return out.length > PROVIDER_TEXT_MAX_CHARS ? `${out.slice(0, PROVIDER_TEXT_MAX_CHARS)}…` : out;
}

/** Quota resets are not sent as headers; GLM writes them into the message, in China time without an offset. */
const CHINA_OFFSET_MS = 8 * 3_600_000;
/** Longest reset we believe: a monthly limit. Anything later is a misread. */
const MAX_RESET_AHEAD_MS = 32 * 86_400_000;

/**
 * The reset time in a message such as "Your limit will reset at 2026-09-16 06:28:10" (epoch ms), or undefined
 * when there is none, it has passed, or it is implausibly far away. A time without an offset is read as China
 * time (UTC+8): reading it as UTC would hold the breaker open eight hours too long if wrong, the other reading
 * at worst lets one probe through early.
 */
export function parseResetTime(message: string, now: number = Date.now()): number | undefined {
  const match =
    /reset(?:s)?\s+(?:at|on)\s+(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?/i.exec(
      message,
    );
  if (!match) return undefined;
  const [, date, time, zone] = match;
  const utc = Date.parse(`${date}T${time}Z`);
  if (!Number.isFinite(utc)) return undefined;
  let at = utc - CHINA_OFFSET_MS;
  if (zone === 'Z' || zone === 'z') at = utc;
  else if (zone) {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    at = utc - sign * (Number(digits.slice(0, 2)) * 3_600_000 + Number(digits.slice(2)) * 60_000);
  }
  if (at <= now || at - now > MAX_RESET_AHEAD_MS) return undefined;
  return at;
}

/** The next 00:00 in China (UTC+8), when Moonshot's daily token counters start again. */
export function nextChinaMidnight(now: number): number {
  const day = 86_400_000;
  return Math.floor((now + CHINA_OFFSET_MS) / day) * day + day - CHINA_OFFSET_MS;
}

function readErrorBody(body: unknown): {
  code?: string;
  type?: string;
  message: string;
  requestId?: string;
} {
  const root = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const error =
    typeof root.error === 'object' && root.error !== null ? (root.error as Record<string, unknown>) : root;
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const code = str(error.code);
  const type = str(error.type);
  const message = str(error.message) ?? (typeof body === 'string' ? body : '');
  // GLM error bodies carry the request id next to the error object.
  const requestId = str(root.request_id) ?? str(error.request_id);
  return {
    ...(code !== undefined && { code }),
    ...(type !== undefined && { type }),
    message,
    ...(requestId !== undefined && { requestId }),
  };
}
