/**
 * One provider's resilient call path, composed once per provider:
 *
 *   deadline (whole call budget) → tool loop → retry loop → circuit breaker → bulkhead (queue) → one attempt
 *
 * The breaker sees every attempt, so a provider that keeps failing opens it mid-retry and the call stops
 * retrying at once (circuit_open is final) and can fall back. Queue waits, attempts and backoff sleeps all
 * spend the same deadline; nothing here can outlive it. What happens is told as one event stream
 * (call-events.ts) that stats, metrics, logs and the caller's progress callback subscribe to.
 */

import { shareBreaker } from '../cluster/shared-breaker.js';
import type { SharedHealth } from '../cluster/shared-health.js';
import { SETTINGS } from '../config/settings.js';
import { ERROR_POLICY, ExaiError, isExaiError, toExaiError } from '../errors.js';
import type { HttpPool } from '../http/pool.js';
import type { Logger } from '../observability/logger.js';
import type { CallObserver } from '../observability/metrics.js';
import { type CallStats, createCallStats } from '../observability/stats.js';
import { createAdaptiveLimit } from '../resilience/adaptive-limit.js';
import { createBreaker, type ProviderBreaker } from '../resilience/breaker.js';
import { type Bulkhead, createBulkhead } from '../resilience/bulkhead.js';
import { abortReason, budgetWithin, type Deadline } from '../resilience/deadline.js';
import { decideRetry, MIN_ATTEMPT_BUDGET_MS, type RetryPolicyOptions, sleep } from '../resilience/retry.js';
import { estimateTokens } from '../tokens.js';
import { type AttemptResult, runAttempt } from './attempt.js';
import { addUsage, firstTokenTimeoutMs, largerOutputBudget } from './budget.js';
import { callerListener, emitterFor, type ProviderEventListener, standardListeners } from './call-events.js';
import { concurrencyRefusal } from './concurrency-refusal.js';
import { type Dialect, defaultOutputTokens } from './dialect.js';
import type { ModelSpec } from './models.js';
import type { CallEvent, ChatMessage, ChatResponse, ThinkingLevel, Usage } from './types.js';

export interface ProviderSettings {
  baseUrl: string;
  apiKey: string | undefined;
  timeoutMs: number;
  /** The first-token timeout of a small prompt: the floor of the allowance below. */
  firstTokenMs: number;
  /**
   * Extra first-token time per 1,000 prompt tokens: a long prompt takes a thinking model longer to read and
   * reason over before the first byte. Default: EXAI_FIRST_TOKEN_SECS_PER_1K_PROMPT_TOKENS's default.
   */
  firstTokenMsPer1kPromptTokens?: number;
  idleMs: number;
  connectTimeoutMs: number;
  retry: RetryPolicyOptions;
  maxConcurrency: number;
  /** After a concurrency refusal, no raise of the learned limit for this long. */
  concurrencyProbeMs: number;
  /** Largest request body; a larger one fails locally. */
  maxRequestBytes: number;
  maxQueue: number;
  breakerThreshold: number;
  breakerResetMs: number;
  toolLoopMaxIterations: number;
  /** Stream upstream calls (default); false sends plain requests (no stall detection, deadline only). */
  stream: boolean;
}

const DEFAULT_FIRST_TOKEN_MS_PER_1K = SETTINGS.firstTokenSecsPer1kPromptTokens.default * 1000;

export interface ProviderCall {
  messages: ChatMessage[];
  model: ModelSpec;
  temperature?: number;
  thinking: boolean;
  thinkingLevel?: ThinkingLevel;
  webSearch: boolean;
  maxOutputTokens?: number;
  /** The caller's budget; the provider's own deadline (its timeout) applies under it. */
  budget?: Deadline;
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

/** What one call carries from attempt to attempt and round to round. */
interface CallState {
  readonly request: ProviderCall;
  readonly apiKey: string;
  readonly deadline: Deadline;
  readonly emit: ProviderEventListener;
  attempts: number;
  retries: number;
  /** The request's own output budget, raised once when reasoning used all of it and left no answer. */
  maxOutputTokens: number;
  budgetRaised: boolean;
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
    createBreaker({
      name: label,
      threshold: settings.breakerThreshold,
      resetMs: settings.breakerResetMs,
      ignore: error => concurrencyRefusal(error) !== undefined,
    }),
    deps.sharedHealth,
    { provider: dialect.name, label },
  );
  const learned = createAdaptiveLimit({
    max: settings.maxConcurrency,
    probeIntervalMs: settings.concurrencyProbeMs,
  });
  const bulkhead = createBulkhead({
    name: label,
    limit: settings.maxConcurrency,
    maxQueue: settings.maxQueue,
    adaptive: { limit: learned, refusal: concurrencyRefusal },
  });
  learned.onChange(limit =>
    log.warn(
      { event: 'concurrency_limit', limit, max: settings.maxConcurrency },
      `${label} concurrency limit now ${limit} of ${settings.maxConcurrency}`,
    ),
  );
  const stats = createCallStats();
  const listeners = standardListeners(dialect.name, label, { stats, observer: deps.observer, log });
  const url = new URL(`${settings.baseUrl.replace(/\/+$/, '')}/chat/completions`);
  const unsubscribe = breaker.onTransition((from, to) =>
    log.warn({ event: 'breaker_transition', from, to }, `${label} breaker ${from} → ${to}`),
  );

  /** One attempt: a breaker check, a bulkhead slot, one request on the wire. */
  function attempt(state: CallState, messages: ChatMessage[]): Promise<AttemptResult> {
    const { request, apiKey, deadline } = state;
    const admitted = breaker.generation();
    return breaker.execute(
      signal =>
        bulkhead.run(async () => {
          // The breaker may have opened while this call waited for a slot.
          breaker.ensureNotOpen(admitted);
          return runAttempt({
            provider: dialect.name,
            model: request.model.name,
            url,
            apiKey,
            payload: dialect.buildPayload({ ...request, messages, maxOutputTokens: state.maxOutputTokens }),
            stream: settings.stream,
            pool: deps.pool,
            connectTimeoutMs: settings.connectTimeoutMs,
            maxRequestBytes: settings.maxRequestBytes,
            firstTokenMs: firstTokenTimeoutMs(
              settings.firstTokenMs,
              settings.firstTokenMsPer1kPromptTokens ?? DEFAULT_FIRST_TOKEN_MS_PER_1K,
              estimateTokens(messages),
            ),
            maxOutputTokens: state.maxOutputTokens,
            idleMs: settings.idleMs,
            signal,
            forwards: request.forwardsDeltas ?? false,
            onDelta: (channel, text) => request.onEvent?.({ type: 'delta', channel, text }),
          });
        }, signal),
      deadline.signal,
    );
  }

  /** Attempts until one answers, the retry policy gives up, or the deadline ends the call. */
  async function withRetries(state: CallState, messages: ChatMessage[]): Promise<AttemptResult> {
    const { request, deadline, emit } = state;
    const model = request.model;
    for (;;) {
      state.attempts++;
      const attemptNo = state.attempts;
      emit({ type: 'attempt_start', model: model.name, attempt: attemptNo });
      const attemptStarted = performance.now();
      const ms = () => Math.round(performance.now() - attemptStarted);
      try {
        const result = await attempt(state, messages);
        emit({
          type: 'attempt_end',
          model: model.name,
          attempt: attemptNo,
          ms: ms(),
          outcome: 'ok',
          finish: result.finishReason,
          tokens: result.usage.totalTokens,
        });
        return result;
      } catch (thrown) {
        const error = deadline.signal.aborted ? abortReason(deadline.signal) : toExaiError(thrown);
        if (error.kind === 'stalled') emit({ type: 'stalled', model: model.name });
        const larger =
          error.kind === 'truncated' && !state.budgetRaised && !error.forwarded
            ? largerOutputBudget(state.maxOutputTokens, model, estimateTokens(messages))
            : undefined;
        const failed = (retry: number | false, extra: { maxOutputTokens?: number } = {}) =>
          emit({
            type: 'attempt_end',
            model: model.name,
            attempt: attemptNo,
            ms: ms(),
            outcome: error.kind,
            status: error.status,
            code: error.code,
            retry,
            ...extra,
          });
        if (larger !== undefined && deadline.remainingMs() > MIN_ATTEMPT_BUDGET_MS) {
          // Once, at once: the same request with room for an answer after the reasoning.
          state.budgetRaised = true;
          state.maxOutputTokens = larger;
          failed(0, { maxOutputTokens: larger });
          emit({ type: 'retry', model: model.name, attempt: attemptNo, delayMs: 0, reason: error.kind });
          continue;
        }
        const decision = decideRetry({
          error,
          retriesSoFar: state.retries,
          remainingMs: deadline.remainingMs(),
          options: settings.retry,
        });
        failed(decision.retry ? decision.delayMs : false);
        if (!decision.retry) throw finalError(error, decision.why);
        state.retries++;
        emit({
          type: 'retry',
          model: model.name,
          attempt: attemptNo,
          delayMs: Math.round(decision.delayMs),
          reason: error.kind,
        });
        await sleep(decision.delayMs, deadline.signal);
      }
    }
  }

  /** Rounds of the provider's builtin tool loop (Kimi's $web_search), each answered with retries. */
  async function toolLoop(state: CallState): Promise<Omit<ChatResponse, 'elapsedMs'>> {
    const model = state.request.model;
    let messages = state.request.messages;
    let usage: Usage | undefined;
    const requestIds: string[] = [];
    for (let round = 0; ; ) {
      const result = await withRetries(state, messages);
      usage = addUsage(usage, result.usage);
      if (result.requestId !== undefined) requestIds.push(result.requestId);
      const next = dialect.continueToolLoop?.(messages, result);
      if (!next) {
        return {
          content: result.content,
          reasoningContent: result.reasoning,
          usage,
          finishReason: result.finishReason,
          model: model.name,
          provider: dialect.name,
          attempts: state.attempts,
          ...(result.webSearch !== undefined && { webSearch: result.webSearch }),
          ...(result.requestId !== undefined && { requestId: result.requestId }),
          ...(requestIds.length > 0 && { requestIds }),
        };
      }
      // Each builtin tool call of the round is a search the provider runs (and bills).
      usage = { ...usage, webSearches: (usage.webSearches ?? 0) + result.toolCalls.length };
      round++;
      if (round > settings.toolLoopMaxIterations) {
        throw new ExaiError(
          'protocol',
          `${label} ${model.name}: still asking for web searches after ${settings.toolLoopMaxIterations} rounds; stopped`,
          { retryable: false },
        );
      }
      state.emit({ type: 'tool_round', model: model.name, round });
      messages = next;
    }
  }

  async function call(request: ProviderCall): Promise<ChatResponse> {
    const model = request.model;
    const started = performance.now();
    if (!settings.apiKey) {
      throw new ExaiError(
        'not_configured',
        `${label} is not configured: set ${dialect.keyVariables.join(' or ')}.`,
        { provider: dialect.name, model: model.name },
      );
    }
    const held = budgetWithin(request.budget, settings.timeoutMs, `${label} ${model.name} call`);
    const deadline = held.budget;
    const emit = emitterFor([...listeners, callerListener(dialect.name, request.onEvent)]);
    const state: CallState = {
      request,
      apiKey: settings.apiKey,
      deadline,
      emit,
      attempts: 0,
      retries: 0,
      maxOutputTokens: Math.min(request.maxOutputTokens ?? defaultOutputTokens(model), model.maxOutputTokens),
      budgetRaised: false,
    };
    try {
      const response = await toolLoop(state);
      const elapsedMs = Math.round(performance.now() - started);
      emit({ type: 'call_end', model: model.name, outcome: 'ok', elapsedMs });
      return { ...response, elapsedMs };
    } catch (thrown) {
      const raw =
        deadline.signal.aborted && !isExaiError(thrown) ? abortReason(deadline.signal) : toExaiError(thrown);
      const elapsedMs = Math.round(performance.now() - started);
      const error = raw.withDetails({
        provider: raw.provider ?? dialect.name,
        model: raw.model ?? model.name,
        attempts: state.attempts,
        elapsedMs,
      });
      emit({
        type: 'call_end',
        model: model.name,
        outcome: error.kind,
        elapsedMs,
        message: error.message,
      });
      throw error;
    } finally {
      held.release();
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

/** A retryable error we stopped retrying says why, so "overloaded" does not read as "tried once". */
function finalError(error: ExaiError, why: string): ExaiError {
  if (ERROR_POLICY[error.kind].retry === 'never') return error;
  if (!error.retryable || error.forwarded) return error;
  return error.withDetails({ message: `${error.message} (${why})`, retryable: false, cause: error });
}
