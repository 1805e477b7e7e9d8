/**
 * The model gateway: resolves a model name, routes to its provider, and falls back to the equivalent model on
 * the other provider when the first is unavailable and budget remains (routing.ts). The layers above talk
 * only to this. Built here: the catalogue, the connection pool and one resilient call path per provider.
 */

import type { SharedHealth } from '../cluster/shared-health.js';
import type { Config } from '../config/load.js';
import { secondsToMs } from '../config/load.js';
import { createHttpPool, type HttpPool, type PoolStats } from '../http/pool.js';
import type { Logger } from '../observability/logger.js';
import type { CallObserver } from '../observability/metrics.js';
import type { Dialect } from './dialect.js';
import {
  type ProviderStatus,
  providerStatus,
  type SharedHealthStatus,
  sharedHealthStatus,
} from './gateway-status.js';
import { createGlmDialect, glmSearchEngine } from './glm.js';
import { kimiDialect } from './kimi.js';
import type { ModelRole, ModelSpec } from './models.js';
import { createProvider, type ProviderRuntime } from './provider.js';
import { createRegistry, loadModelsFile, type ModelRegistry } from './registry.js';
import { createRouter, type GatewayRequest } from './routing.js';
import { createSpendGuard } from './spend.js';
import { streamChat } from './stream-adapter.js';
import type { ChatResponse, ProviderName, StreamChunk } from './types.js';

export type { ProviderStatus, SharedHealthStatus } from './gateway-status.js';
export type { GatewayRequest } from './routing.js';

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

  function resolveModel(name: string | undefined): ModelSpec {
    const wanted = name?.trim() || config.defaultModel;
    if (wanted.toLowerCase() === 'auto') return autoModel('general');
    return registry.resolve(wanted);
  }

  function autoModel(role: ModelRole): ModelSpec {
    const provider = providers.glm.configured || !providers.kimi.configured ? 'glm' : 'kimi';
    return registry.defaultFor(provider, role);
  }

  const chat = createRouter({
    config,
    registry,
    providers,
    spend,
    logger: deps.logger,
    observer: deps.observer,
    resolveModel,
  });

  return {
    registry,
    chat,
    stream: request => streamChat(chat, request),
    resolveModel,
    autoModel,
    isConfigured: provider => providers[provider].configured,
    status: () =>
      (Object.values(providers) as ProviderRuntime[]).map(p => providerStatus(p, spend, deps.sharedHealth)),
    sharedHealth: () => sharedHealthStatus(deps.sharedHealth),
    poolStats: () => pool.stats(),
    close: () => {
      for (const p of Object.values(providers)) p.dispose();
      if (!deps.pool) pool.destroy();
    },
  };
}
