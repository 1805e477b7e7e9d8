/**
 * Maps provider failures to the error taxonomy. HTTP status alone misleads: GLM answers 429 for concurrency,
 * frequency, daily caps and an empty balance alike, and Kimi answers 429 for an exhausted quota. So the
 * body's business code (GLM) or error type (Kimi) decides first, the status only when they say nothing.
 */
import { type ErrorKind, ExaiError } from '../errors.js';
import type { ProviderName } from './types.js';

interface Mapped {
  kind: ErrorKind;
  retryable: boolean;
  hint?: string;
}

const k = (kind: ErrorKind, retryable: boolean, hint?: string): Mapped =>
  hint === undefined ? { kind, retryable } : { kind, retryable, hint };

/** GLM business codes (docs.z.ai api-code). */
function mapGlmCode(code: number): Mapped | undefined {
  if (code >= 1000 && code <= 1004) return k('auth', false, 'check GLM_API_KEY');
  if ([1110, 1111, 1112, 1121].includes(code))
    return k('auth', false, 'the GLM account is inactive or locked');
  if (code === 1113) return k('quota_exhausted', false, 'the GLM account is in arrears; recharge it');
  if (code === 1120) return k('upstream_error', true);
  if ((code >= 1210 && code <= 1215) || code === 1261) return k('bad_request', false);
  if (code === 1220) return k('auth', false, 'this key has no permission for the API');
  if (code === 1221 || code === 1222) return k('not_found', false);
  if (code === 1230) return k('upstream_error', true);
  if (code === 1231) return k('bad_request', false);
  if (code === 1234) return k('network', true);
  if (code === 1301) return k('content_filtered', false);
  if (code === 1302)
    return k('rate_limited', true, 'too many concurrent GLM requests; lower GLM_MAX_CONCURRENCY');
  if (code === 1303) return k('rate_limited', true);
  if (code === 1304) return k('quota_exhausted', false, 'the daily GLM call quota is reached');
  if (code === 1305 || code === 1312) return k('overloaded', true);
  if ([1308, 1309, 1310, 1313].includes(code))
    return k('quota_exhausted', false, 'the GLM plan limit is reached');
  if (code === 1311) return k('bad_request', false, 'the model is not part of the GLM plan');
  return undefined;
}

/** Kimi error types (platform.kimi.ai errors). */
function mapKimiType(type: string, message: string): Mapped | undefined {
  switch (type) {
    case 'content_filter':
      return k('content_filtered', false);
    case 'invalid_request_error':
      return k('bad_request', false);
    case 'invalid_authentication_error':
    case 'incorrect_api_key_error':
      return k('auth', false, 'check KIMI_API_KEY (keys of the .cn and .ai platforms differ)');
    case 'permission_denied_error':
      return /balance|quota|suspend/i.test(message) ? k('quota_exhausted', false) : k('auth', false);
    case 'resource_not_found_error':
      return k('not_found', false);
    case 'engine_overloaded_error':
      return k('overloaded', true);
    case 'rate_limit_reached_error':
      return k('rate_limited', true, 'Kimi rate limit reached; lower KIMI_MAX_CONCURRENCY');
    case 'exceeded_current_quota_error':
      return k('quota_exhausted', false, 'the Kimi account balance is exhausted; recharge it');
    case 'server_error':
      return k('upstream_error', true);
    default:
      return undefined;
  }
}

function mapStatus(status: number): Mapped {
  if (status === 400 || status === 413 || status === 422) return k('bad_request', false);
  if (status === 401 || status === 403) return k('auth', false);
  if (status === 404) return k('not_found', false);
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
}

export function mapProviderError(input: ProviderErrorInput): ExaiError {
  const { code, type, message } = readErrorBody(input.body);
  let mapped: Mapped | undefined;
  if (input.provider === 'glm' && code !== undefined && /^\d+$/.test(code)) mapped = mapGlmCode(Number(code));
  if (!mapped && type && input.provider === 'kimi') mapped = mapKimiType(type, message);
  if (!mapped && input.status !== undefined) mapped = mapStatus(input.status);
  // An error object inside a 200 stream with nothing recognisable: the provider failed mid-way.
  mapped ??= k('upstream_error', true);

  const label = input.provider === 'glm' ? 'GLM' : 'Kimi';
  const where = input.inStream ? 'error in stream' : `HTTP ${input.status}`;
  const tag = [code, type].filter(Boolean).join('/');
  const text = [
    `${label} ${input.model}: ${where}${tag ? ` [${tag}]` : ''}: ${message || 'no message'}`,
    mapped.hint ? ` (${mapped.hint})` : '',
  ].join('');
  return new ExaiError(mapped.kind, text, {
    retryable: mapped.retryable,
    provider: input.provider,
    model: input.model,
    ...(input.status !== undefined && { status: input.status }),
    ...((code ?? type) !== undefined && { code: (code ?? type) as string }),
    ...(input.requestId !== undefined && { requestId: input.requestId }),
    ...(input.retryAfterMs !== undefined && { retryAfterMs: input.retryAfterMs }),
  });
}

function readErrorBody(body: unknown): { code?: string; type?: string; message: string } {
  const root = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const error =
    typeof root.error === 'object' && root.error !== null ? (root.error as Record<string, unknown>) : root;
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const code = str(error.code);
  const type = str(error.type);
  const message = str(error.message) ?? (typeof body === 'string' ? body.slice(0, 300) : '');
  return { ...(code !== undefined && { code }), ...(type !== undefined && { type }), message };
}
