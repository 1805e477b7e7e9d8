/**
 * The model gateway: resolves a model name, routes to its provider, and falls back to the equivalent model on
 * the other provider when the first is unavailable and budget remains. The layers above talk only to this.
 */

import type { SharedHealth, SharedHealthSnapshot } from '../cluster/shared-health.js';
import type { Config } from '../config/load.js';
import { secondsToMs } from '../config/load.js';
import { ERROR_POLICY, ExaiError, toExaiError } from '../errors.js';
import { formatSeconds } from '../format.js';
import { linkedController } from '../http/abort.js';
import { createHttpPool, type HttpPool, type PoolStats } from '../http/pool.js';
import type { Logger } from '../observability/logger.js';
import type { CallObserver } from '../observability/metrics.js';
import type { CallStatsSnapshot } from '../observability/stats.js';
import type { BreakerSnapshot } from '../resilience/breaker.js';
import { Deadline } from '../resilience/deadline.js';
import { MIN_ATTEMPT_BUDGET_MS } from '../resilience/retry.js';
import { estimateTokens } from '../tokens.js';
import { callCostUsd } from './cost.js';
import { type Dialect, planRequest } from './dialect.js';
import { createGlmDialect, glmSearchEngine } from './glm.js';
import { kimiDialect } from './kimi.js';
import type { ModelRole, ModelSpec } from './models.js';
import { createProvider, type ProviderRuntime } from './provider.js';
import { createRegistry, loadModelsFile, type ModelRegistry } from './registry.js';
import { createSpendGuard } from './spend.js';
import type { ChatRequest, ChatResponse, ProviderName, StreamChunk } from './types.js';

export interface GatewayRequest extends ChatRequest {
  /**
   * The caller's budget. Without timeoutMs the whole call (fallback included) may use all that remains of it,
   * while each provider call is still capped by that provider's own deadline. Without either, the budget is
   * the primary provider's deadline.
   */
  parent?: Deadline;
}

export interface ProviderStatus {
  provider: ProviderName;
  label: string;
  configured: boolean;
  keyVariables: readonly string[];
  baseUrl: string;
  timeoutSecs: number;
  breaker: BreakerSnapshot;
  inFlight: number;
  queued: number;
  /** The configured maximum. */
  maxConcurrency: number;
  /** The concurrency learned for this key: `limit` in [1, max], lowered by concurrency 429s. */
  concurrency: { limit: number; max: number; inFlight: number; queued: number };
  stats: CallStatsSnapshot;
  /** USD spent on this provider since the process started, from the catalogue's prices. */
  costUsd: number;
  /**
   * Another replica's live report for this provider (shared health): its breaker is open until `openUntil`,
   * or the provider asked it to wait until `retryAfterUntil`. Calls here fail fast (or fall back) meanwhile,
   * even though this replica's own `breaker` may be closed. Absent when no report is live.
   */
  remote?: SharedHealthSnapshot['remote'][string];
}

/** Shared provider health between replicas (REDIS_URL): `enabled: false` when this process runs alone. */
export type SharedHealthStatus = { enabled: false } | ({ enabled: true } & SharedHealthSnapshot);

export interface ModelGateway {
  readonly registry: ModelRegistry;
  chat(request: GatewayRequest): Promise<ChatResponse>;
  /** Deltas as they arrive, then the final response. Breaking out of the loop cancels the call. */
  stream(request: GatewayRequest): AsyncIterable<StreamChunk>;
  /** The model a request would use: name or alias resolved, `auto` (or no name) replaced by the default. */
  resolveModel(name: string | undefined): ModelSpec;
  /**
   * The default model for a role among the configured providers: GLM's when GLM has a key (or neither has),
   * else Kimi's.
   */
  autoModel(role: ModelRole): ModelSpec;
  isConfigured(provider: ProviderName): boolean;
  status(): ProviderStatus[];
  /** Connected/degraded state of shared provider health, for the status tool and /readyz. */
  sharedHealth(): SharedHealthStatus;
  poolStats(): PoolStats;
  close(): void;
}

export interface GatewayDeps {
  logger: Logger;
  /** A shared pool (benchmarks, tests); by default the gateway owns one. */
  pool?: HttpPool;
  /** Stream upstream calls (default true). */
  stream?: boolean;
  /** Receives call outcomes for metrics. */
  observer?: CallObserver;
  /**
   * Breaker and rate-limit reports shared with other replicas through Redis. The caller owns it (and closes it
   * after the gateway); without it nothing is shared.
   */
  sharedHealth?: SharedHealth;
}

export function createGateway(config: Config, deps: GatewayDeps): ModelGateway {
  const registry = createRegistry(config.modelsFile ? loadModelsFile(config.modelsFile) : [], {
    allowed: { glm: config.glmAllowedModels, kimi: config.kimiAllowedModels },
    allowedSettings: { glm: 'GLM_ALLOWED_MODELS', kimi: 'KIMI_ALLOWED_MODELS' },
    roles: {
      glm: {
        thinking: config.glmThinkingUpgradeModel
          ? { name: config.glmThinkingUpgradeModel, setting: 'GLM_THINKING_UPGRADE_MODEL' }
          : undefined,
      },
      kimi: {
        thinking: config.kimiThinkingModel
          ? { name: config.kimiThinkingModel, setting: 'KIMI_THINKING_MODEL' }
          : undefined,
      },
    },
  });
  const pool = deps.pool ?? createHttpPool({ maxSocketsPerOrigin: config.maxConnections });
  const shared = {
    firstTokenMs: secondsToMs(config.firstTokenTimeoutSecs),
    firstTokenMsPer1kPromptTokens: secondsToMs(config.firstTokenSecsPer1kPromptTokens),
    idleMs: secondsToMs(config.idleTimeoutSecs),
    connectTimeoutMs: secondsToMs(config.connectTimeoutSecs),
    retry: { maxRetries: config.maxRetries, baseMs: config.retryBaseMs, capMs: config.retryCapMs },
    maxQueue: config.maxQueue,
    concurrencyProbeMs: secondsToMs(config.concurrencyProbeSecs),
    maxRequestBytes: config.maxRequestBytes,
    breakerThreshold: config.breakerThreshold,
    breakerResetMs: secondsToMs(config.breakerResetSecs),
    toolLoopMaxIterations: config.webSearchMaxIterations,
    stream: deps.stream ?? true,
  };
  const make = (
    dialect: Dialect,
    baseUrl: string,
    apiKey: string | undefined,
    timeoutSecs: number,
    maxConcurrency: number,
  ) =>
    createProvider(
      dialect,
      { ...shared, baseUrl, apiKey, timeoutMs: secondsToMs(timeoutSecs), maxConcurrency },
      { pool, logger: deps.logger, observer: deps.observer, sharedHealth: deps.sharedHealth },
    );
  const spend = createSpendGuard({ perCallUsd: config.maxCostPerCall, perDayUsd: config.maxCostPerDay });
  const providers: Record<ProviderName, ProviderRuntime> = {
    glm: make(
      createGlmDialect({ searchEngine: glmSearchEngine(config.glmApiUrl, config.glmWebSearchEngine) }),
      config.glmApiUrl,
      config.glmApiKey,
      config.glmTimeoutSecs,
      config.glmMaxConcurrency,
    ),
    kimi: make(
      kimiDialect,
      config.kimiApiUrl,
      config.kimiApiKey,
      config.kimiTimeoutSecs,
      config.kimiMaxConcurrency,
    ),
  };
  const log = deps.logger.child({ component: 'gateway' });

  function resolveModel(name: string | undefined): ModelSpec {
    const wanted = name?.trim() || config.defaultModel;
    if (wanted.toLowerCase() === 'auto') return autoModel('general');
    return registry.resolve(wanted);
  }

  function autoModel(role: ModelRole): ModelSpec {
    const provider = providers.glm.configured || !providers.kimi.configured ? 'glm' : 'kimi';
    return registry.defaultFor(provider, role);
  }

  async function chat(request: GatewayRequest): Promise<ChatResponse> {
    const primary = resolveModel(request.model);
    assertImagesFit(primary, request);
    const runtime = providers[primary.provider];
    // A call that can neither fall back nor has a budget of its own needs no deadline above the provider's:
    // one timer and one signal fewer on the hot path.
    if (request.timeoutMs === undefined && !canFallBack(primary, request)) {
      return callOn(primary, request, request.parent ?? request.signal);
    }
    const budget = Deadline.start(
      request.timeoutMs ?? request.parent?.remainingMs() ?? runtime.settings.timeoutMs,
      {
        parent: request.parent ?? request.signal,
        label: `${runtime.dialect.label} ${primary.name} call`,
      },
    );
    try {
      try {
        return await callWithReserve(primary, request, budget);
      } catch (thrown) {
        const error = toExaiError(thrown);
        const alternative = fallbackFor(primary, request, error, budget);
        if (!alternative) throw error;
        const to = { provider: alternative.provider, model: alternative.name };
        log.warn(
          { event: 'fallback', from: primary.name, to: alternative.name, reason: error.kind },
          `falling back to ${alternative.name}`,
        );
        providers[primary.provider].stats.countFallback();
        deps.observer?.fellBack(primary.provider, alternative.provider, error.kind);
        request.onEvent?.({
          type: 'fallback',
          from: { provider: primary.provider, model: primary.name },
          to,
          reason: error.kind,
        });
        try {
          const response = await callOn(alternative, request, budget);
          return {
            ...response,
            fallbackFrom: {
              provider: primary.provider,
              model: primary.name,
              reason: error.kind,
              message: error.message,
            },
          };
        } catch (fallbackThrown) {
          const second = toExaiError(fallbackThrown);
          throw new ExaiError(
            error.kind,
            `${error.message}; fallback to ${alternative.name} failed too: ${second.message}`,
            {
              retryable: false,
              provider: second.provider ?? alternative.provider,
              model: second.model ?? alternative.name,
              ...(second.status !== undefined && { status: second.status }),
              ...(second.code !== undefined && { code: second.code }),
              ...(second.attempts !== undefined && { attempts: (error.attempts ?? 0) + second.attempts }),
              cause: second,
            },
          );
        }
      }
    } finally {
      budget.dispose();
    }
  }

  async function callOn(
    model: ModelSpec,
    request: GatewayRequest,
    budget: Deadline | AbortSignal | undefined,
  ): Promise<ChatResponse> {
    const call = {
      messages: request.messages,
      model,
      thinking: request.thinking ?? false,
      webSearch: request.webSearch ?? false,
      ...(request.thinkingLevel !== undefined && { thinkingLevel: request.thinkingLevel }),
      ...(request.temperature !== undefined && { temperature: request.temperature }),
      ...(request.maxOutputTokens !== undefined && { maxOutputTokens: request.maxOutputTokens }),
    };
    const plan = planRequest(call);
    spend.check(model, estimateTokens(call.messages), plan.outputTokens);
    const response = await providers[model.provider].call({
      ...call,
      ...(budget !== undefined && { parent: budget }),
      ...(request.forwardsDeltas !== undefined && { forwardsDeltas: request.forwardsDeltas }),
      ...(request.onEvent !== undefined && { onEvent: request.onEvent }),
    });
    const costUsd = callCostUsd(model, response.usage);
    if (costUsd !== undefined) {
      spend.record(model.provider, costUsd);
      deps.observer?.spent(model.provider, model.name, costUsd);
    }
    return {
      ...response,
      adjustments: plan.adjustments,
      ...(costUsd !== undefined && { costUsd }),
    };
  }

  /** Images go only to vision models: anything else fails here, before any request, naming the ones that see. */
  function assertImagesFit(model: ModelSpec, request: GatewayRequest): void {
    if (model.vision || !hasImages(request)) return;
    const vision = registry
      .list()
      .filter(m => m.vision)
      .map(m => m.name);
    throw new ExaiError(
      'bad_request',
      `${model.name} does not accept images. Use a vision model (${vision.join(', ')}) or leave out the images.`,
      { retryable: false, model: model.name, provider: model.provider },
    );
  }

  /**
   * The first provider's call when a fallback could answer: it must start answering (any text or reasoning)
   * within its share of the budget, 1 - FALLBACK_RESERVE_FRACTION (60 % by default), or it ends as a timeout
   * and the rest of the budget goes to the fallback. Without this a hung provider spent the whole budget
   * (300 s by default) and left the healthy one none. Once it answers the cap is lifted: a slow but live
   * stream is not cut off for a fallback that would have to start from scratch.
   */
  async function callWithReserve(
    model: ModelSpec,
    request: GatewayRequest,
    budget: Deadline,
  ): Promise<ChatResponse> {
    const reserve = config.fallbackReserveFraction;
    if (reserve <= 0 || !canFallBack(model, request)) return callOn(model, request, budget);
    const shareMs = budget.remainingMs() * (1 - reserve);
    const label = `${providers[model.provider].dialect.label} ${model.name}`;
    const cap = linkedController(budget.signal);
    const timer = setTimeout(() => {
      cap.abort(
        new ExaiError(
          'timeout',
          `${label}: no answer within ${formatSeconds(shareMs)}, its ${Math.round((1 - reserve) * 100)} % share of the budget (the rest is kept for the fallback, FALLBACK_RESERVE_FRACTION)`,
          { elapsedMs: Math.round(shareMs) },
        ),
      );
    }, shareMs);
    // Time still bounded by the whole budget; cancelled by it or by the share running out.
    const primaryBudget = Deadline.start(budget.remainingMs(), {
      parent: cap.signal,
      bound: budget,
      label: `${label} call`,
    });
    try {
      return await callOn(
        model,
        {
          ...request,
          onEvent: event => {
            if (event.type === 'delta') clearTimeout(timer);
            request.onEvent?.(event);
          },
        },
        primaryBudget,
      );
    } finally {
      clearTimeout(timer);
      primaryBudget.dispose();
      cap.dispose();
    }
  }

  /** The equivalent model on the other provider, when fallback is on and that provider has a key. */
  function alternativeFor(model: ModelSpec, request: GatewayRequest): ModelSpec | undefined {
    if (!config.fallbackOnFailure) return undefined;
    const alternative = registry.equivalentOf(model);
    if (!alternative || alternative.provider === model.provider) return undefined;
    if (hasImages(request) && !alternative.vision) return undefined;
    return providers[alternative.provider].configured ? alternative : undefined;
  }

  function canFallBack(model: ModelSpec, request: GatewayRequest): boolean {
    return alternativeFor(model, request) !== undefined;
  }

  function fallbackFor(
    model: ModelSpec,
    request: GatewayRequest,
    error: ExaiError,
    budget: Deadline,
  ): ModelSpec | undefined {
    if (error.forwarded || !ERROR_POLICY[error.kind].fallback) return undefined;
    if (budget.remainingMs() < MIN_ATTEMPT_BUDGET_MS) return undefined;
    return alternativeFor(model, request);
  }

  return {
    registry,
    chat,
    stream: request => streamChat(chat, request),
    resolveModel,
    autoModel,
    isConfigured: provider => providers[provider].configured,
    status: () =>
      (Object.values(providers) as ProviderRuntime[]).map(p => {
        const remote = deps.sharedHealth?.snapshot().remote[p.dialect.name];
        return {
          provider: p.dialect.name,
          label: p.dialect.label,
          configured: p.configured,
          keyVariables: p.dialect.keyVariables,
          baseUrl: p.settings.baseUrl,
          timeoutSecs: p.settings.timeoutMs / 1000,
          breaker: p.breaker.snapshot(),
          inFlight: p.bulkhead.active,
          queued: p.bulkhead.queued,
          maxConcurrency: p.bulkhead.max,
          concurrency: {
            limit: p.bulkhead.limit,
            max: p.bulkhead.max,
            inFlight: p.bulkhead.active,
            queued: p.bulkhead.queued,
          },
          stats: p.stats.snapshot(),
          costUsd: spend.total(p.dialect.name),
          ...(remote !== undefined && { remote }),
        };
      }),
    sharedHealth: () =>
      deps.sharedHealth ? { enabled: true, ...deps.sharedHealth.snapshot() } : { enabled: false },
    poolStats: () => pool.stats(),
    close: () => {
      for (const p of Object.values(providers)) p.dispose();
      if (!deps.pool) pool.destroy();
    },
  };
}

function hasImages(request: ChatRequest): boolean {
  return request.messages.some(
    m => Array.isArray(m.content) && m.content.some(part => part.type === 'image_url'),
  );
}

/** Adapts the event callback to an async iterator; a consumer that stops early aborts the call. */
async function* streamChat(
  chat: (request: GatewayRequest) => Promise<ChatResponse>,
  request: GatewayRequest,
): AsyncGenerator<StreamChunk> {
  const queue: StreamChunk[] = [];
  let wake: (() => void) | undefined;
  const stop = new AbortController();
  const onParentAbort = () => stop.abort(request.signal?.reason);
  request.signal?.addEventListener('abort', onParentAbort, { once: true });
  if (request.signal?.aborted) onParentAbort();
  let finished = false;
  let failure: unknown;
  const run = chat({
    ...request,
    signal: stop.signal,
    forwardsDeltas: true,
    onEvent: event => {
      request.onEvent?.(event);
      if (event.type === 'delta') {
        queue.push({ type: event.channel, text: event.text });
        wake?.();
      }
    },
  }).then(
    response => {
      queue.push({ type: 'done', response });
      finished = true;
      wake?.();
    },
    error => {
      failure = error;
      finished = true;
      wake?.();
    },
  );
  try {
    for (;;) {
      const next = queue.shift();
      if (next) {
        yield next;
        if (next.type === 'done') return;
        continue;
      }
      if (finished) {
        if (failure !== undefined) throw failure;
        return;
      }
      await new Promise<void>(resolve => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    request.signal?.removeEventListener('abort', onParentAbort);
    if (!finished) stop.abort(new ExaiError('cancelled', 'the consumer stopped reading the stream'));
    await run;
  }
}
