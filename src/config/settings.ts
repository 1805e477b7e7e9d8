/**
 * Every setting of exai-mcp in one table: its environment names (first wins), default, unit and meaning.
 * The loader, README's configuration table and `doctor` all read this table, so they cannot drift apart.
 */
import { z } from 'zod';
import { parseToolList, type ToolName } from './tool-names.js';

export type SettingUnit =
  | 'seconds'
  | 'ms'
  | 'count'
  | 'bytes'
  | 'hours'
  | 'flag'
  | 'fraction'
  | 'usd'
  | 'text'
  | 'url'
  | 'path'
  | 'secret';

export interface SettingSpec<T = unknown> {
  env: readonly string[];
  unit: SettingUnit;
  default: T;
  description: string;
  schema: z.ZodType<T>;
  secret?: boolean;
}

const secs = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a number of seconds (decimals allowed)' }).min(min).max(max);
const int = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(min).max(max);
const flag = z
  .union([z.boolean(), z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', 'TRUE', 'FALSE'])])
  .transform(v => (typeof v === 'boolean' ? v : ['1', 'true', 'yes', 'on', 'TRUE'].includes(v)));
const url = z
  .url({ error: 'must be an http(s) URL' })
  .refine(u => /^https?:\/\//.test(u), 'must start with http:// or https://');
const optionalText = z.string().min(1).optional();
const modelList = z
  .string()
  .transform(v =>
    v
      .split(',')
      .map(name => name.trim())
      .filter(Boolean),
  )
  .optional();
const redisUrl = z
  .string()
  .refine(u => /^rediss?:\/\/[^\s]+$/.test(u) && URL.canParse(u), 'must be a redis:// or rediss:// URL');

/**
 * Secret files no tool reads by default, even inside an allowed root (the .env beside the code holds the keys).
 * Pattern syntax: src/files/deny.ts.
 */
const DEFAULT_DENIED_FILES = [
  '.env*',
  '*.pem',
  '*.key',
  '*.p12',
  '*.pfx',
  'id_rsa*',
  'id_dsa*',
  'id_ecdsa*',
  'id_ed25519*',
  '.ssh/',
  '.npmrc',
  '.pypirc',
  '.netrc',
  '.git/config',
  '.git-credentials',
  '.aws/',
  '.config/gcloud/',
  '.azure/',
  '.kube/config',
  '.docker/config.json',
].join(',');

const toolList = (profiles: boolean) =>
  z
    .string()
    .transform((raw, ctx): ToolName[] => {
      const parsed = parseToolList(raw, { profiles });
      if ('names' in parsed) return parsed.names;
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    })
    .optional();

function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

export const SETTINGS = {
  glmApiKey: setting({
    env: ['GLM_API_KEY', 'ZHIPUAI_API_KEY'],
    unit: 'secret',
    default: undefined,
    secret: true,
    schema: optionalText,
    description: 'GLM (Z.ai / ZhipuAI) API key. Without it GLM models are unavailable.',
  }),
  glmApiUrl: setting({
    env: ['GLM_API_URL', 'ZHIPUAI_API_URL'],
    unit: 'url',
    default: 'https://api.z.ai/api/paas/v4',
    schema: url,
    description: 'GLM base URL (China: https://open.bigmodel.cn/api/paas/v4).',
  }),
  kimiApiKey: setting({
    env: ['KIMI_API_KEY', 'MOONSHOT_API_KEY'],
    unit: 'secret',
    default: undefined,
    secret: true,
    schema: optionalText,
    description: 'Kimi (Moonshot) API key. Without it Kimi models are unavailable.',
  }),
  kimiApiUrl: setting({
    env: ['KIMI_API_URL', 'MOONSHOT_API_URL'],
    unit: 'url',
    default: 'https://api.moonshot.ai/v1',
    schema: url,
    description: 'Kimi base URL (China: https://api.moonshot.cn/v1).',
  }),

  workflowTimeoutSecs: setting({
    env: ['WORKFLOW_TOOL_TIMEOUT_SECS'],
    unit: 'seconds',
    default: 600,
    schema: secs(0.01, 86_400),
    description: 'Budget for one whole workflow tool call.',
  }),
  expertTimeoutSecs: setting({
    env: ['EXPERT_ANALYSIS_TIMEOUT_SECS'],
    unit: 'seconds',
    default: 480,
    schema: secs(0.01, 86_400),
    description: 'Budget for expert analysis inside a workflow call (must not exceed the workflow budget).',
  }),
  glmTimeoutSecs: setting({
    env: ['GLM_TIMEOUT_SECS'],
    unit: 'seconds',
    default: 300,
    schema: secs(0.01, 86_400),
    description:
      'Budget for one GLM call: every attempt, backoff sleep and queue wait (must not exceed the expert budget).',
  }),
  kimiTimeoutSecs: setting({
    env: ['KIMI_TIMEOUT_SECS'],
    unit: 'seconds',
    default: 300,
    schema: secs(0.01, 86_400),
    description: 'Budget for one Kimi call, as GLM_TIMEOUT_SECS.',
  }),
  firstTokenTimeoutSecs: setting({
    env: ['PROVIDER_FIRST_TOKEN_TIMEOUT_SECS'],
    unit: 'seconds',
    default: 120,
    schema: secs(0.01, 86_400),
    description:
      'An attempt that yields no text or reasoning within this time of being sent is stalled (aborted, retried if nothing was forwarded).',
  }),
  firstTokenSecsPer1kPromptTokens: setting({
    env: ['EXAI_FIRST_TOKEN_SECS_PER_1K_PROMPT_TOKENS'],
    unit: 'seconds',
    default: 2,
    schema: secs(0, 3_600),
    description:
      'Added to PROVIDER_FIRST_TOKEN_TIMEOUT_SECS per 1,000 prompt tokens (estimated): thinking models read and reason over a long prompt for minutes before the first token. The call budget still ends the call.',
  }),
  idleTimeoutSecs: setting({
    env: ['PROVIDER_IDLE_TIMEOUT_SECS'],
    unit: 'seconds',
    default: 60,
    schema: secs(0.01, 86_400),
    description:
      'Longest gap between content-bearing chunks; keep-alive comments and empty deltas do not count.',
  }),
  connectTimeoutSecs: setting({
    env: ['PROVIDER_CONNECT_TIMEOUT_SECS'],
    unit: 'seconds',
    default: 10,
    schema: secs(0.01, 600),
    description: 'TCP/TLS connect timeout per attempt.',
  }),
  maxRetries: setting({
    env: ['PROVIDER_MAX_RETRIES'],
    unit: 'count',
    default: 3,
    schema: int(0, 20),
    description:
      'Retries after the first attempt (so 3 means up to 4 attempts), all within the provider budget.',
  }),
  retryBaseMs: setting({
    env: ['PROVIDER_RETRY_BASE_MS'],
    unit: 'ms',
    default: 500,
    schema: int(1, 600_000),
    description: 'Backoff base: attempt n sleeps a random time in [0, min(cap, base·2ⁿ)] (full jitter).',
  }),
  retryCapMs: setting({
    env: ['PROVIDER_RETRY_CAP_MS'],
    unit: 'ms',
    default: 8_000,
    schema: int(1, 600_000),
    description: 'Backoff cap for one sleep.',
  }),
  maxConnections: setting({
    env: ['PROVIDER_MAX_CONNECTIONS'],
    unit: 'count',
    default: 64,
    schema: int(1, 10_000),
    description: 'Keep-alive pool size: most open connections per provider origin.',
  }),
  glmMaxConcurrency: setting({
    env: ['GLM_MAX_CONCURRENCY'],
    unit: 'count',
    default: 2,
    schema: int(1, 100_000),
    description:
      'Most GLM calls in flight, and where the learned limit starts: a concurrency 429 (GLM 1302) lowers the limit for this key, sustained success raises it back slowly. More calls wait in a queue whose wait counts against the call budget. The default suits GLM Coding Plan keys (1–3 in flight); raise it for a pay-as-you-go account with higher limits.',
  }),
  kimiMaxConcurrency: setting({
    env: ['KIMI_MAX_CONCURRENCY'],
    unit: 'count',
    default: 1,
    schema: int(1, 100_000),
    description:
      'Most Kimi calls in flight, learned as GLM_MAX_CONCURRENCY (from Kimi rate_limit_reached_error about concurrency). The default suits a Tier0 account (1 in flight); Tier1 and up allow 50 or more.',
  }),
  concurrencyProbeSecs: setting({
    env: ['PROVIDER_CONCURRENCY_PROBE_SECS'],
    unit: 'seconds',
    default: 60,
    schema: secs(0, 86_400),
    description:
      'After a concurrency 429, the learned limit is not raised again for this long (each probe above the real limit costs one 429).',
  }),
  maxRequestBytes: setting({
    env: ['PROVIDER_MAX_REQUEST_BYTES'],
    unit: 'bytes',
    default: 33_554_432,
    schema: int(1_024, 268_435_456),
    description:
      'Largest request body sent to a provider; a larger one fails at once as `local` (not retried, not held against the provider).',
  }),
  maxQueue: setting({
    env: ['PROVIDER_MAX_QUEUE'],
    unit: 'count',
    default: 10_000,
    schema: int(0, 1_000_000),
    description:
      'Most calls waiting for a concurrency slot per provider; beyond it calls fail at once as overloaded.',
  }),
  breakerThreshold: setting({
    env: ['BREAKER_FAILURE_THRESHOLD'],
    unit: 'count',
    default: 5,
    schema: int(1, 1_000),
    description: 'Consecutive failed calls that open a provider circuit breaker.',
  }),
  breakerResetSecs: setting({
    env: ['BREAKER_RESET_SECS'],
    unit: 'seconds',
    default: 30,
    schema: secs(0.01, 86_400),
    description: 'How long an open breaker fails fast before letting one probe call through.',
  }),
  fallbackOnFailure: setting({
    env: ['FALLBACK_ON_FAILURE'],
    unit: 'flag',
    default: true,
    schema: flag,
    description:
      'When a provider is unavailable and budget remains, try the equivalent model on the other provider.',
  }),
  fallbackReserveFraction: setting({
    env: ['FALLBACK_RESERVE_FRACTION'],
    unit: 'fraction',
    default: 0.4,
    schema: z.coerce.number({ error: 'must be a number between 0 and 0.9' }).min(0).max(0.9),
    description:
      'When a fallback is possible, the share of the call budget kept for it: the first provider must start answering within the rest (0.4: within 60 %), or the call falls back. Once it streams text or reasoning it may use the whole budget. 0 turns the reserve off.',
  }),
  maxCostPerCall: setting({
    env: ['EXAI_MAX_COST_PER_CALL'],
    unit: 'usd',
    default: undefined,
    schema: z.coerce
      .number({ error: 'must be an amount in USD, e.g. 0.5' })
      .positive()
      .max(1_000_000)
      .optional(),
    description:
      "Refuse, before sending, a model call whose worst case (its prompt plus its whole output budget, at the catalogue's prices) costs more than this. Unset: no cap.",
  }),
  maxCostPerDay: setting({
    env: ['EXAI_MAX_COST_PER_DAY'],
    unit: 'usd',
    default: undefined,
    schema: z.coerce
      .number({ error: 'must be an amount in USD, e.g. 20' })
      .positive()
      .max(1_000_000)
      .optional(),
    description:
      "Per provider and UTC day, for this server: refuse a call once what the provider cost today plus the call's worst case would pass this. Unset: no cap.",
  }),
  kimiThinkingModel: setting({
    env: ['KIMI_THINKING_MODEL'],
    unit: 'text',
    default: undefined,
    schema: optionalText,
    description:
      "Kimi model that replaces a Kimi model without thinking when expert analysis asks for thinking (default: the catalogue's, kimi-k2.6). Kimi thinking is a request parameter now, not another model.",
  }),
  webSearchMaxIterations: setting({
    env: ['KIMI_WEBSEARCH_MAX_ITERATIONS'],
    unit: 'count',
    default: 5,
    schema: int(1, 20),
    description: 'Most $web_search tool-call rounds in one Kimi call.',
  }),
  defaultModel: setting({
    env: ['DEFAULT_MODEL'],
    unit: 'text',
    default: 'auto',
    schema: z.string().min(1),
    description: 'Model used when a call names none; `auto` picks per tool.',
  }),
  glmAllowedModels: setting({
    env: ['GLM_ALLOWED_MODELS'],
    unit: 'text',
    default: undefined,
    schema: modelList,
    description:
      'Comma-separated GLM models (names or aliases) callers may use; unset: all. For a shared server that limits cost; listmodels shows only these.',
  }),
  kimiAllowedModels: setting({
    env: ['KIMI_ALLOWED_MODELS'],
    unit: 'text',
    default: undefined,
    schema: modelList,
    description: 'Comma-separated Kimi models callers may use, as GLM_ALLOWED_MODELS; unset: all.',
  }),
  glmWebSearchEngine: setting({
    env: ['GLM_WEB_SEARCH_ENGINE'],
    unit: 'text',
    default: undefined,
    schema: optionalText,
    description:
      "search_engine of GLM's web_search tool. Default: search_pro on open.bigmodel.cn (the China platform lists search_std, search_pro, search_pro_sogou, search_pro_quark), search_pro_jina elsewhere.",
  }),
  modelsFile: setting({
    env: ['EXAI_MODELS_FILE'],
    unit: 'path',
    default: undefined,
    schema: optionalText,
    description: 'JSON file of models to add or override, retired ids and per-role defaults (see "Models").',
  }),
  logLevel: setting({
    env: ['LOG_LEVEL'],
    unit: 'text',
    default: 'info',
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    description: 'Log level of the logs on stderr.',
  }),
  logFormat: setting({
    env: ['LOG_FORMAT'],
    unit: 'text',
    default: 'auto',
    schema: z.enum(['auto', 'json', 'text']),
    description:
      'Logs on stderr as JSON lines (for collectors) or as text (for people). auto: text when stderr is a terminal, JSON otherwise.',
  }),

  httpHost: setting({
    env: ['EXAI_HTTP_HOST'],
    unit: 'text',
    default: '127.0.0.1',
    schema: z.string().min(1),
    description: 'Address the HTTP server binds. Anything but loopback requires EXAI_HTTP_TOKEN.',
  }),
  httpPort: setting({
    env: ['EXAI_HTTP_PORT'],
    unit: 'count',
    default: 8079,
    schema: int(0, 65_535),
    description: 'Port of the HTTP server (0 picks a free one).',
  }),
  httpToken: setting({
    env: ['EXAI_HTTP_TOKEN'],
    unit: 'secret',
    default: undefined,
    secret: true,
    schema: z
      .string()
      .min(16, 'must be at least 16 characters: use a long random secret, e.g. `openssl rand -hex 32`')
      .optional(),
    description:
      'Bearer token required on every HTTP request when set (and required to bind beyond loopback); at least 16 characters.',
  }),
  httpHeadersTimeoutSecs: setting({
    env: ['EXAI_HTTP_HEADERS_TIMEOUT_SECS'],
    unit: 'seconds',
    default: 10,
    schema: secs(1, 3_600),
    description:
      "A client must send a request's headers within this long of starting it, else the connection is closed (408).",
  }),
  httpRequestTimeoutSecs: setting({
    env: ['EXAI_HTTP_REQUEST_TIMEOUT_SECS'],
    unit: 'seconds',
    default: 30,
    schema: secs(1, 3_600),
    description:
      'A client must send a whole request, headers and body, within this long, else the connection is closed (408). Responses (event streams, long tool calls) are not limited by it.',
  }),
  httpMaxConnections: setting({
    env: ['EXAI_HTTP_MAX_CONNECTIONS'],
    unit: 'count',
    default: 1_024,
    schema: int(1, 1_000_000),
    description: 'Most open HTTP connections; connections past it are closed at once.',
  }),
  httpMaxSessions: setting({
    env: ['EXAI_HTTP_MAX_SESSIONS'],
    unit: 'count',
    default: 1_000,
    schema: int(1, 1_000_000),
    description:
      'Most HTTP sessions of 2025-era clients in all (each holds a server instance, about 0.5 MB); past it a new session takes the place of the least recently used one without a call in flight.',
  }),
  httpMaxSessionsPerClient: setting({
    env: ['EXAI_HTTP_MAX_SESSIONS_PER_CLIENT'],
    unit: 'count',
    default: 100,
    schema: int(1, 1_000_000),
    description:
      "Most HTTP sessions per client address; past it a new one replaces that address's least recently used session without a call in flight. Behind a reverse proxy every client has the proxy's address: raise it.",
  }),
  httpMaxStreamsPerClient: setting({
    env: ['EXAI_HTTP_MAX_STREAMS_PER_CLIENT'],
    unit: 'count',
    default: 100,
    schema: int(1, 1_000_000),
    description:
      "Most open GET event streams (server-to-client messages) per client address; a new one past it ends that address's oldest.",
  }),
  httpMaxBodyBytes: setting({
    env: ['EXAI_HTTP_MAX_BODY_BYTES'],
    unit: 'bytes',
    default: 4_194_304,
    schema: int(1_024, 1_073_741_824),
    description: 'Largest accepted HTTP request body.',
  }),
  progressIntervalSecs: setting({
    env: ['PROGRESS_INTERVAL_SECS'],
    unit: 'seconds',
    default: 5,
    schema: secs(0.01, 3_600),
    description: 'Longest gap between progress notifications while a model call runs.',
  }),
  conversationTimeoutHours: setting({
    env: ['CONVERSATION_TIMEOUT_HOURS'],
    unit: 'hours',
    default: 3,
    schema: secs(0.001, 8_760),
    description: 'A conversation thread expires this long after its last turn.',
  }),
  maxConversationTurns: setting({
    env: ['MAX_CONVERSATION_TURNS'],
    unit: 'count',
    default: 20,
    schema: int(1, 1_000),
    description:
      'Most exchanges (calls answered) in one conversation thread; it stores up to twice as many turns. A call ' +
      'on a full thread is still answered, without an offer to continue.',
  }),
  dataDir: setting({
    env: ['EXAI_DATA_DIR'],
    unit: 'path',
    default: undefined,
    schema: optionalText,
    description: 'Folder of the SQLite store (default: $XDG_DATA_HOME/exai-mcp or ~/.local/share/exai-mcp).',
  }),
  store: setting({
    env: ['EXAI_STORE'],
    unit: 'text',
    default: 'sqlite',
    schema: z.enum(['sqlite', 'redis', 'memory']),
    description:
      'Conversation store: sqlite (persistent, shared by processes on one machine), redis (shared by replicas on many machines; needs REDIS_URL) or memory.',
  }),
  redisUrl: setting({
    env: ['REDIS_URL'],
    unit: 'url',
    default: undefined,
    secret: true,
    schema: redisUrl.optional(),
    description:
      'Redis for several replicas (see docs/SCALING.md): the conversation store when EXAI_STORE=redis, and, whenever set, provider health shared between replicas (breakers, rate-limit waits).',
  }),
  redisKeyPrefix: setting({
    env: ['REDIS_KEY_PREFIX'],
    unit: 'text',
    default: 'exai:',
    schema: z.string().min(1).max(100),
    description: 'Prefix of every Redis key and of the health channel: one per deployment sharing a Redis.',
  }),
  replicaId: setting({
    env: ['EXAI_REPLICA_ID'],
    unit: 'text',
    default: undefined,
    schema: optionalText,
    description:
      'Name of this replica in shared health reports ("GLM breaker opened on <id>"). Default: hostname:pid.',
  }),
  tools: setting({
    env: ['EXAI_TOOLS'],
    unit: 'text',
    default: undefined,
    schema: toolList(true),
    description:
      'Tools to serve, comma-separated, or a profile: `compact` (chat, codereview, precommit, debug, thinkdeep, consensus, planner, status, listmodels). Default: all 17.',
  }),
  disabledTools: setting({
    env: ['EXAI_DISABLED_TOOLS'],
    unit: 'text',
    default: undefined,
    schema: toolList(false),
    description: 'Tools not to serve, comma-separated (applied after EXAI_TOOLS).',
  }),
  allowedRoots: setting({
    env: ['EXAI_ALLOWED_ROOTS'],
    unit: 'path',
    default: undefined,
    schema: optionalText,
    description:
      "Folders tools may read files from, absolute paths separated by the path delimiter (':'; ';' on Windows). Default: the working directory, unless it is / or the home folder (or above it): then no folder is shared until this is set.",
  }),
  deniedFiles: setting({
    env: ['EXAI_DENIED_FILES'],
    unit: 'text',
    default: DEFAULT_DENIED_FILES,
    schema: z.string().min(1),
    description:
      "Secret files never read, even inside an allowed root: comma-separated patterns, '*' within a name, a trailing '/' for everything under a folder of that name; `none` for none. Setting it replaces the default list. The .env the settings came from is never read regardless.",
  }),
  maxRequestFiles: setting({
    env: ['EXAI_MAX_REQUEST_FILES'],
    unit: 'count',
    default: 1_000,
    schema: int(1, 1_000_000),
    description: 'Most entries in the file list of one tool call.',
  }),
  maxFileBytes: setting({
    env: ['EXAI_MAX_FILE_BYTES'],
    unit: 'bytes',
    default: 262_144,
    schema: int(1, 1_073_741_824),
    description: 'Largest single file a tool reads.',
  }),
  maxRequestFileBytes: setting({
    env: ['EXAI_MAX_REQUEST_FILE_BYTES'],
    unit: 'bytes',
    default: 1_048_576,
    schema: int(1, 1_073_741_824),
    description: 'Most file bytes one tool call reads in all.',
  }),
  maxImageBytes: setting({
    env: ['EXAI_MAX_IMAGE_BYTES'],
    unit: 'bytes',
    default: 5_242_880,
    schema: int(1, 1_073_741_824),
    description: 'Largest single image (file or data: URL) a tool sends to a vision model.',
  }),
  maxRequestImages: setting({
    env: ['EXAI_MAX_REQUEST_IMAGES'],
    unit: 'count',
    default: 10,
    schema: int(1, 1_000),
    description: 'Most different images in one tool call.',
  }),
  maxRequestImageBytes: setting({
    env: ['EXAI_MAX_REQUEST_IMAGE_BYTES'],
    unit: 'bytes',
    default: 20_971_520,
    schema: int(1, 1_073_741_824),
    description: 'Most image bytes one tool call sends in all, checked before any image is read.',
  }),
  httpStateless: setting({
    env: ['EXAI_HTTP_STATELESS'],
    unit: 'flag',
    default: undefined,
    schema: flag.optional(),
    description:
      'Serve 2025-era HTTP clients without sessions too, so a load balancer may send any request to any replica. Default: on when EXAI_STORE=redis. Closing the request still cancels a call; a separate cancel notification cannot reach it.',
  }),
  httpSessionIdleSecs: setting({
    env: ['EXAI_HTTP_SESSION_IDLE_SECS'],
    unit: 'seconds',
    default: 3_600,
    schema: secs(1, 604_800),
    description:
      'An HTTP session of a 2025-era client with no request in flight is closed after this long without one.',
  }),

  expertThinkingMode: setting({
    env: ['EXPERT_ANALYSIS_THINKING_MODE'],
    unit: 'text',
    default: 'minimal',
    schema: z.enum(['minimal', 'low', 'medium', 'high', 'max']),
    description:
      'thinking_mode of expert analysis when a workflow call gives none (thinkdeep defaults to high); anything but minimal turns thinking on.',
  }),
  expertAutoUpgrade: setting({
    env: ['EXPERT_ANALYSIS_AUTO_UPGRADE', 'AUTO_UPGRADE_THINKING'],
    unit: 'flag',
    default: true,
    schema: flag,
    description:
      'When expert analysis asks for thinking and the chosen model cannot think, use the thinking model of the same provider (GLM_THINKING_UPGRADE_MODEL, KIMI_THINKING_MODEL).',
  }),
  glmThinkingUpgradeModel: setting({
    env: ['GLM_THINKING_UPGRADE_MODEL', 'THINKING_UPGRADE_MODEL'],
    unit: 'text',
    default: undefined,
    schema: optionalText,
    description:
      "GLM model that replaces a GLM model without thinking when expert analysis asks for thinking (default: the catalogue's, glm-5.1).",
  }),
  softReturnSecs: setting({
    env: ['EXAI_SOFT_RETURN_SECS'],
    unit: 'seconds',
    default: undefined,
    schema: secs(0, 86_400).optional(),
    description:
      'How long a tool call waits for its model job before answering status in_progress (the job keeps running; the same call collects it). Default: by client, see docs/WORKFLOW_TOOLS.md (Claude Code 100, Claude Desktop 45, Codex 50, others 50). 0: wait to the end.',
  }),
  jobGraceSecs: setting({
    env: ['EXAI_JOB_GRACE_SECS'],
    unit: 'seconds',
    default: 120,
    schema: secs(0, 86_400),
    description:
      'A model job no call is waiting for (after an in_progress answer or a client timeout) keeps running this long for the next call to collect; then it is cancelled.',
  }),
  jobResultTtlSecs: setting({
    env: ['EXAI_JOB_RESULT_TTL_SECS'],
    unit: 'seconds',
    default: 3600,
    schema: secs(1, 604_800),
    description:
      "A finished model job's answer is kept this long in the store (SQLite, Redis: any replica can hand it out) for the call that collects it.",
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type Settings = { [K in SettingKey]: z.output<(typeof SETTINGS)[K]['schema']> };
