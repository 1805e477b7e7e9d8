/**
 * One provider's resilient call path, composed once per provider:
 *
 *   deadline (whole call budget) → retry loop → circuit breaker → bulkhead (queue) → one streamed attempt
 *
 * The breaker sees every attempt, so a provider that keeps failing opens it mid-retry and the call stops
 * retrying at once (circuit_open is final) and can fall back. Queue waits, attempts and backoff sleeps all
 * spend the same deadline; nothing here can outlive it.
 */
import { ExaiError, isExaiError, toExaiError } from '../errors.js';
import type { HttpPool } from '../http/pool.js';
import type { Logger } from '../observability/logger.js';
import type { CallObserver } from '../observability/metrics.js';
import { type CallStats, createCallStats } from '../observability/stats.js';
import { createBreaker, type ProviderBreaker } from '../resilience/breaker.js';
import { type Bulkhead, createBulkhead } from '../resilience/bulkhead.js';
import { abortReason, Deadline } from '../resilience/deadline.js';
import { decideRetry, type RetryPolicyOptions, sleep } from '../resilience/retry.js';
import { shareBreaker } from '../resilience/shared-breaker.js';
import type { SharedHealth } from '../resilience/shared-health.js';
import type { Dialect } from './dialect.js';
import type { ModelSpec } from './models.js';
import type { CallEvent, ChatMessage, ChatResponse, ThinkingLevel } from './types.js';
import { type AttemptResult, runAttempt } from './wire.js';

export interface ProviderSettings {
  baseUrl: string;
  apiKey: string | undefined;
  timeoutMs: number;
  firstTokenMs: number;
  idleMs: number;
  connectTimeoutMs: number;
  retry: RetryPolicyOptions;
  maxConcurrency: number;
  maxQueue: number;
  breakerThreshold: number;
  breakerResetMs: number;
  toolLoopMaxIterations: number;
  /** Stream upstream calls (default); false sends plain requests (no stall detection, deadline only). */
  stream: boolean;
}

export interface ProviderCall {
  messages: ChatMessage[];
  model: ModelSpec;
  temperature?: number;
  thinking: boolean;
  thinkingLevel?: ThinkingLevel;
  webSearch: boolean;
  maxOutputTokens?: number;
  /** The caller's budget (a parent Deadline) or plain signal. */
  parent?: Deadline | AbortSignal;
  forwardsDeltas?: boolean;
  onEvent?: (event: CallEvent) => void;
}

export interface ProviderRuntime {
  readonly dialect: Dialect;
  readonly settings: Readonly<ProviderSettings>;
  readonly configured: boolean;
  readonly breaker: ProviderBreaker;
  readonly bulkhead: Bulkhead;
  readonly stats: CallStats;
  call(call: ProviderCall): Promise<ChatResponse>;
  dispose(): void;
}

export function createProvider(
  dialect: Dialect,
  settings: ProviderSettings,
  deps: {
    pool: HttpPool;
    logger: Logger;
    observer?: CallObserver | undefined;
    /** Other replicas' breaker and rate-limit reports (Redis); without it the breaker is this process's alone. */
    sharedHealth?: SharedHealth | undefined;
  },
): ProviderRuntime {
  const label = dialect.label;
  const log = deps.logger.child({ provider: dialect.name });
  const breaker = shareBreaker(
    createBreaker({ name: label, threshold: settings.breakerThreshold, resetMs: settings.breakerResetMs }),
    deps.sharedHealth,
    { provider: dialect.name, label },
  );
  const bulkhead = createBulkhead({
    name: label,
    limit: settings.maxConcurrency,
    maxQueue: settings.maxQueue,
  });
  const stats = createCallStats();
  const url = new URL(`${settings.baseUrl.replace(/\/+$/, '')}/chat/completions`);
  const unsubscribe = breaker.onTransition((from, to) =>
    log.warn({ event: 'breaker_transition', from, to }, `${label} breaker ${from} → ${to}`),
  );

  async function call(request: ProviderCall): Promise<ChatResponse> {
    const model = request.model;
    const started = performance.now();
    if (!settings.apiKey) {
      throw new ExaiError(
        'not_configured',
        `${label} is not configured: set ${dialect.keyVariables.join(' or ')}.`,
        {
          provider: dialect.name,
          model: model.name,
        },
      );
    }
    const apiKey = settings.apiKey;
    const deadline = Deadline.start(settings.timeoutMs, {
      parent: request.parent,
      label: `${label} ${model.name} call`,
    });
    let attempts = 0;
    let retries = 0;
    let messages = request.messages;
    let toolRounds = 0;
    try {
      for (;;) {
        attempts++;
        request.onEvent?.({
          type: 'attempt_start',
          provider: dialect.name,
          model: model.name,
          attempt: attempts,
        });
        const attemptStarted = performance.now();
        log.debug({ event: 'attempt_start', model: model.name, attempt: attempts }, 'attempt start');
        let result: AttemptResult;
        try {
          const admitted = breaker.generation();
          result = await breaker.execute(
            signal =>
              bulkhead.run(async () => {
                // The breaker may have opened while this call waited for a slot.
                breaker.ensureNotOpen(admitted);
                return runAttempt({
                  provider: dialect.name,
                  model: model.name,
                  url,
                  apiKey,
                  payload: dialect.buildPayload({ ...request, messages }),
                  stream: settings.stream,
                  pool: deps.pool,
                  connectTimeoutMs: settings.connectTimeoutMs,
                  firstTokenMs: settings.firstTokenMs,
                  idleMs: settings.idleMs,
                  signal,
                  forwards: request.forwardsDeltas ?? false,
                  onDelta: (channel, text) => request.onEvent?.({ type: 'delta', channel, text }),
                });
              }, signal),
            deadline.signal,
          );
        } catch (thrown) {
          const error = deadline.signal.aborted ? abortReason(deadline.signal) : toExaiError(thrown);
          if (error.kind === 'stalled') {
            stats.countStall();
            deps.observer?.stalled(dialect.name);
          }
          const decision = decideRetry({
            error,
            retriesSoFar: retries,
            remainingMs: deadline.remainingMs(),
            options: settings.retry,
          });
          const attemptMs = Math.round(performance.now() - attemptStarted);
          log.info(
            {
              event: 'attempt_end',
              model: model.name,
              attempt: attempts,
              ms: attemptMs,
              outcome: error.kind,
              status: error.status,
              code: error.code,
              retry: decision.retry ? decision.delayMs : false,
            },
            `${label} attempt ${attempts} failed: ${error.kind}`,
          );
          if (!decision.retry) throw finalError(error, decision.why);
          retries++;
          stats.countRetry();
          deps.observer?.retried(dialect.name, error.kind);
          request.onEvent?.({
            type: 'retry',
            provider: dialect.name,
            model: model.name,
            attempt: attempts,
            delayMs: Math.round(decision.delayMs),
            reason: error.kind,
          });
          await sleep(decision.delayMs, deadline.signal);
          continue;
        }
        log.info(
          {
            event: 'attempt_end',
            model: model.name,
            attempt: attempts,
            ms: Math.round(performance.now() - attemptStarted),
            outcome: 'ok',
            finish: result.finishReason,
            tokens: result.usage.totalTokens,
          },
          `${label} attempt ${attempts} ok`,
        );

        const next = dialect.continueToolLoop?.(messages, result);
        if (next) {
          toolRounds++;
          if (toolRounds > settings.toolLoopMaxIterations) {
            throw new ExaiError(
              'protocol',
              `${label} ${model.name}: still asking for web searches after ${settings.toolLoopMaxIterations} rounds; stopped`,
              { retryable: false },
            );
          }
          request.onEvent?.({ type: 'web_search', iteration: toolRounds });
          messages = next;
          continue;
        }
        const elapsedMs = Math.round(performance.now() - started);
        stats.record(model.name, 'ok', elapsedMs);
        deps.observer?.callEnded(dialect.name, model.name, 'ok', elapsedMs / 1000);
        return {
          content: result.content,
          reasoningContent: result.reasoning,
          usage: result.usage,
          finishReason: result.finishReason,
          model: model.name,
          provider: dialect.name,
          attempts,
          elapsedMs,
          ...(result.webSearch !== undefined && { webSearch: result.webSearch }),
          ...(result.requestId !== undefined && { requestId: result.requestId }),
        };
      }
    } catch (thrown) {
      const error =
        deadline.signal.aborted && !isExaiError(thrown) ? abortReason(deadline.signal) : toExaiError(thrown);
      error.provider ??= dialect.name;
      error.model ??= model.name;
      error.attempts = attempts;
      error.elapsedMs = Math.round(performance.now() - started);
      stats.record(model.name, error.kind, error.elapsedMs, error.message);
      deps.observer?.callEnded(dialect.name, model.name, error.kind, error.elapsedMs / 1000);
      throw error;
    } finally {
      deadline.dispose();
    }

    function finalError(error: ExaiError, why: string): ExaiError {
      if (error.kind === 'timeout' || error.kind === 'cancelled' || error.kind === 'circuit_open')
        return error;
      if (!error.retryable || error.forwarded) return error;
      // A retryable error we stopped retrying: say why, so "overloaded" does not read as "tried once".
      return new ExaiError(error.kind, `${error.message} (${why})`, {
        retryable: false,
        ...(error.provider !== undefined && { provider: error.provider }),
        ...(error.model !== undefined && { model: error.model }),
        ...(error.status !== undefined && { status: error.status }),
        ...(error.code !== undefined && { code: error.code }),
        ...(error.requestId !== undefined && { requestId: error.requestId }),
        ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
        cause: error,
      });
    }
  }

  return {
    dialect,
    settings,
    configured: Boolean(settings.apiKey),
    breaker,
    bulkhead,
    stats,
    call,
    dispose: () => {
      unsubscribe();
      breaker.dispose();
    },
  };
}
