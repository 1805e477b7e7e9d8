/**
 * Modes that replay what the real GLM and Kimi APIs do when things go wrong without a transport fault:
 * models that think for minutes before the first content token, answers that end with an abnormal finish
 * reason inside an otherwise normal 200, and the business errors with their real bodies. README.md in this
 * folder lists them with their sources.
 */
import { type ModeHandler, okOptions, unknownMode } from './modes.js';
import { numParam } from './spec.js';
import { type Exchange, splitText } from './wire.js';

const REASONING_PIECE = 'thinking... ';

/**
 * `think,ms=<n>,every=<gap>`: a reasoning delta at once, then one every `gap` ms (default 250) until `ms`
 * (default 1000) have passed, then the answer. Kimi always streams reasoning_content before content
 * (https://platform.moonshot.cn/docs/guide/use-kimi-k2-thinking-model); so do GLM's thinking models.
 */
const think: ModeHandler = async x => {
  const total = numParam(x.params, 'ms', 1_000);
  const every = Math.max(1, numParam(x.params, 'every', 250));
  const o = okOptions(x);
  await x.sleep(o.latency);
  const pieces = 1 + Math.ceil(total / every);
  const reasoning = REASONING_PIECE.repeat(pieces);
  const usage = x.usage(o.content, reasoning);
  if (!x.stream) {
    await x.sleep(total);
    const message = { role: 'assistant', content: o.content, reasoning_content: reasoning };
    return x.json(200, x.completion(message, 'stop', usage));
  }
  x.startSse();
  x.sse(x.chunk({ role: 'assistant', reasoning_content: REASONING_PIECE }));
  let slept = 0;
  while (slept < total) {
    const gap = Math.min(every, total - slept);
    await x.sleep(gap);
    slept += gap;
    x.sse(x.chunk({ reasoning_content: REASONING_PIECE }));
  }
  for (const piece of splitText(o.content, o.chunks)) x.sse(x.chunk({ content: piece }));
  x.sse(x.finalChunk('stop', usage));
  x.done();
};

const FINISHES = new Set(['sensitive', 'network_error', 'model_context_window_exceeded', 'length']);

/**
 * `finish,reason=<r>`: a 200 that ends abnormally. GLM reports its safety filter (`sensitive`, content
 * omitted), upstream failures (`network_error`) and context overflow (`model_context_window_exceeded`) as
 * finish reasons (https://github.com/anomalyco/opencode/issues/18813); on both APIs a thinking model whose
 * reasoning eats the whole budget ends with `length` and empty content (agent-zone.ai's Kimi K2.6 notes;
 * veryfront-code PR #2791, a Kimi call with a 4,096-token budget).
 */
const finish: ModeHandler = async x => {
  const reason = x.params.reason ?? 'length';
  if (!FINISHES.has(reason)) return unknownMode(x, `finish,reason=${reason}`);
  const o = okOptions(x, x.params.content ?? 'partial answer');
  await x.sleep(o.latency);
  const reasoning = reason === 'length' ? REASONING_PIECE.repeat(Math.max(1, o.chunks)) : '';
  // length: the budget went to reasoning before any answer. sensitive: the filter withholds the answer;
  // a stream has already sent what came before the cut, a plain completion omits it.
  const content = reason === 'length' || (reason === 'sensitive' && !x.stream) ? '' : o.content;
  const usage = x.usage(content, reasoning);
  if (!x.stream) {
    const message: Record<string, unknown> = { role: 'assistant', content };
    if (reasoning !== '') message.reasoning_content = reasoning;
    return x.json(200, x.completion(message, reason, usage));
  }
  x.startSse();
  const deltas: Record<string, unknown>[] =
    reason === 'length'
      ? splitText(reasoning, Math.max(1, o.chunks)).map(r => ({ reasoning_content: r }))
      : splitText(o.content, Math.max(1, o.chunks)).map(c => ({ content: c }));
  for (const [i, delta] of deltas.entries()) {
    if (i > 0) await x.sleep(o.every);
    x.sse(x.chunk(i === 0 ? { role: 'assistant', ...delta } : delta));
  }
  x.sse(x.finalChunk(reason, usage));
  x.done();
};

/** A reset time as GLM prints it (Beijing time, `YYYY-MM-DD HH:MM:SS`), `hours` from now. */
function glmResetAt(hours: number): string {
  const beijing = new Date(Date.now() + hours * 3_600_000 + 8 * 3_600_000);
  return beijing.toISOString().slice(0, 19).replace('T', ' ');
}

/** GLM business errors (https://docs.z.ai/api-reference/api-code), with the texts clients have seen. */
const GLM_ERRORS: Record<string, () => { status: number; message: string }> = {
  // Also what a Coding Plan key gets on the general endpoint (https://github.com/BerriAI/litellm/issues/25479).
  '1113': () => ({ status: 429, message: 'Insufficient balance or no resource package. Please recharge.' }),
  '1211': () => ({ status: 400, message: 'Unknown Model, please check the model code.' }),
  '1302': () => ({ status: 429, message: 'Rate limit reached for requests' }),
  '1316': () => ({
    status: 429,
    message: `Usage limit reached for the past 5 hours. Insufficient balance for extra usage. Resets at ${glmResetAt(5)}.`,
  }),
  '1317': () => ({
    status: 429,
    message: `Usage limit reached for the past 7 days. Insufficient balance for extra usage. Resets at ${glmResetAt(168)}.`,
  }),
};

/** `glmerror,code=<c>`: the real status and `{"error":{"code":"<c>","message":…}}` body. */
const glmerror: ModeHandler = x => {
  const code = x.params.code ?? '1302';
  const known = GLM_ERRORS[code];
  if (known === undefined) return unknownMode(x, `glmerror,code=${code}`);
  const { status, message } = known();
  x.json(status, { error: { code, message } });
};

const ACCOUNT = 'org-fake0000000000000000000000000000 <ak-fake00000000000000>';

/**
 * Kimi errors (https://platform.kimi.ai/docs/api/errors): one `rate_limit_reached_error` type for
 * concurrency, RPM, TPM and TPD, told apart only by the message (texts from
 * https://github.com/LLM-Red-Team/kimi-cc/issues/16 and /41, https://github.com/farion1231/cc-switch/issues/240);
 * quota from https://github.com/MoonshotAI/kimi-code/pull/1857.
 */
const KIMI_ERRORS: Record<string, { status: number; type: string; message: string }> = {
  concurrency: {
    status: 429,
    type: 'rate_limit_reached_error',
    message: `Your account ${ACCOUNT} request reached max organization concurrency: 1, please try again after 1 seconds`,
  },
  rpm: {
    status: 429,
    type: 'rate_limit_reached_error',
    message: `Your account ${ACCOUNT} request reached organization max RPM: 3, please try again after 1 seconds`,
  },
  tpm: {
    status: 429,
    type: 'rate_limit_reached_error',
    message: `Your account ${ACCOUNT} request reached project TPM rate limit, current: 1410, limit: 100, see https://platform.moonshot.cn/docs/pricing/limits`,
  },
  tpd: {
    status: 429,
    type: 'rate_limit_reached_error',
    message: `Your account ${ACCOUNT} request reached organization TPD rate limit, current: 1508351, limit: 1500000`,
  },
  quota: {
    status: 429,
    type: 'exceeded_current_quota_error',
    message: `Your account ${ACCOUNT} is suspended due to insufficient balance, please recharge your account or check your plan and billing details`,
  },
  overloaded: {
    status: 429,
    type: 'engine_overloaded_error',
    message: 'The engine is currently overloaded, please try again later',
  },
  temperature: {
    status: 400,
    type: 'invalid_request_error',
    message: 'invalid temperature: only 1 is allowed for this model',
  },
  reasoning: {
    status: 400,
    type: 'invalid_request_error',
    message: 'thinking is enabled but reasoning_content is missing in assistant tool call message at index 2',
  },
};

/** `kimierror,kind=<k>`: the real status, `{"error":{"message","type"}}` and the msh-request-id header. */
const kimierror: ModeHandler = (x: Exchange) => {
  const kind = x.params.kind ?? 'rpm';
  const known = KIMI_ERRORS[kind];
  if (known === undefined) return unknownMode(x, `kimierror,kind=${kind}`);
  x.json(
    known.status,
    { error: { message: known.message, type: known.type } },
    { 'msh-request-id': x.requestId },
  );
};

export const PROVIDER_MODES: Record<string, ModeHandler> = { think, finish, glmerror, kimierror };
