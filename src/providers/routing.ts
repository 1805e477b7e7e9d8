/**
 * Routing with fallback: a call goes to its model's provider and, when that provider fails in a way the other
 * could answer and budget remains, to the equivalent model there. The first provider may use only its share
 * of the budget before it starts answering, so a hung provider leaves the fallback time to answer.
 */
import type { Config } from '../config/load.js';
import { ERROR_POLICY, ExaiError, toExaiError } from '../errors.js';
import { formatSeconds } from '../format.js';
import type { Logger } from '../observability/logger.js';
import type { CallObserver } from '../observability/metrics.js';
import { Deadline } from '../resilience/deadline.js';
import { MIN_ATTEMPT_BUDGET_MS } from '../resilience/retry.js';
import { estimateTokens } from '../tokens.js';
import { callCostUsd } from './cost.js';
import { planRequest } from './dialect.js';
import type { ModelSpec } from './models.js';
import type { ProviderRuntime } from './provider.js';
import type { ModelRegistry } from './registry.js';
import type { SpendGuard } from './spend.js';
import type { ChatRequest, ChatResponse, ProviderName } from './types.js';

export interface GatewayRequest extends ChatRequest {
  /**
   * The caller's budget: the whole call, fallback included, may use all that remains of it, while each
   * provider call is still capped by that provider's own deadline. Without one, or under one with no time
   * of its own, the whole call has the primary provider's deadline.
   */
  budget?: Deadline;
}

export interface RouterDeps {
  config: Pick<Config, 'fallbackOnFailure' | 'fallbackReserveFraction'>;
  registry: ModelRegistry;
  providers: Record<ProviderName, ProviderRuntime>;
  spend: SpendGuard;
  logger: Logger;
  observer?: CallObserver | undefined;
  resolveModel(name: string | undefined): ModelSpec;
}

export function createRouter(deps: RouterDeps): (request: GatewayRequest) => Promise<ChatResponse> {
  const { config, registry, providers, spend } = deps;
  const log = deps.logger.child({ component: 'gateway' });

  async function chat(request: GatewayRequest): Promise<ChatResponse> {
    const primary = deps.resolveModel(request.model);
    assertImagesFit(primary, request);
    // A call that cannot fall back needs no budget above the provider's: one controller and timer fewer.
    if (!canFallBack(primary, request)) return callOn(primary, request, request.budget);
    // A caller's budget with time in it is the whole call's; otherwise the primary provider's deadline is.
    const given = request.budget;
    if (given !== undefined && Number.isFinite(given.budgetMs)) return withFallback(primary, request, given);
    const runtime = providers[primary.provider];
    const budget = Deadline.start(runtime.settings.timeoutMs, {
      parents: [given],
      label: `${runtime.dialect.label} ${primary.name} call`,
    });
    try {
      return await withFallback(primary, request, budget);
    } finally {
      budget.dispose();
    }
  }

  async function withFallback(
    primary: ModelSpec,
    request: GatewayRequest,
    budget: Deadline,
  ): Promise<ChatResponse> {
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
  }

  async function callOn(
    model: ModelSpec,
    request: GatewayRequest,
    budget: Deadline | undefined,
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
      ...(budget !== undefined && { budget }),
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
    if (reserve <= 0) return callOn(model, request, budget);
    const shareMs = budget.remainingMs() * (1 - reserve);
    const label = `${providers[model.provider].dialect.label} ${model.name}`;
    // The whole budget's time, cancelled with it or by the share running out.
    const primaryBudget = budget.child(undefined, `${label} call`);
    const timer = setTimeout(() => {
      primaryBudget.cancel(
        new ExaiError(
          'timeout',
          `${label}: no answer within ${formatSeconds(shareMs)}, its ${Math.round((1 - reserve) * 100)} % share of the budget (the rest is kept for the fallback, FALLBACK_RESERVE_FRACTION)`,
          { elapsedMs: Math.round(shareMs) },
        ),
      );
    }, shareMs);
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

  return chat;
}

function hasImages(request: ChatRequest): boolean {
  return request.messages.some(
    m => Array.isArray(m.content) && m.content.some(part => part.type === 'image_url'),
  );
}
