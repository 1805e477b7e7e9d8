/**
 * Spending caps for a shared server: EXAI_MAX_COST_PER_CALL refuses a call whose worst case (its prompt plus
 * its whole output budget, at the catalogue's prices) is over the cap; EXAI_MAX_COST_PER_DAY refuses calls to
 * a provider once what it cost today (UTC), plus the call's worst case, would pass the cap. A refusal happens
 * before anything is sent, names the figures, and is a local failure: never retried, never held against the
 * provider.
 */
import { ExaiError } from '../errors.js';
import { callCostUsd, roundUsd } from './cost.js';
import type { ModelSpec } from './models.js';
import type { ProviderName } from './types.js';

export interface SpendLimits {
  perCallUsd?: number | undefined;
  perDayUsd?: number | undefined;
}

export interface SpendGuard {
  /** Throws when a call of this size may not be sent. */
  check(model: ModelSpec, inputTokens: number, outputTokens: number): void;
  record(provider: ProviderName, usd: number): void;
  /** USD per provider since the process started. */
  total(provider: ProviderName): number;
}

const DAY_MS = 86_400_000;
const hours = (ms: number) => `${Math.max(0.1, Math.round(ms / 360_000) / 10)} h`;
const usd = (n: number) =>
  `$${n < 0.01 ? n.toPrecision(2) : n.toFixed(4).replace(/0+$/, '').replace(/\.$/, '')}`;

export function createSpendGuard(limits: SpendLimits, now: () => number = Date.now): SpendGuard {
  const total: Record<ProviderName, number> = { glm: 0, kimi: 0 };
  let day = Math.floor(now() / DAY_MS);
  let today: Record<ProviderName, number> = { glm: 0, kimi: 0 };
  const rollOver = () => {
    const current = Math.floor(now() / DAY_MS);
    if (current !== day) {
      day = current;
      today = { glm: 0, kimi: 0 };
    }
  };

  return {
    check(model, inputTokens, outputTokens) {
      const { perCallUsd, perDayUsd } = limits;
      if (perCallUsd === undefined && perDayUsd === undefined) return;
      const worst = callCostUsd(model, {
        inputTokens,
        outputTokens,
        totalTokens: inputTokens + outputTokens,
      });
      if (worst === undefined) {
        throw new ExaiError(
          'local',
          `${model.name} has no price in the catalogue, so its cost cannot be kept under EXAI_MAX_COST_PER_CALL / EXAI_MAX_COST_PER_DAY: give it a price in EXAI_MODELS_FILE or pick a priced model`,
          { retryable: false, provider: model.provider, model: model.name },
        );
      }
      const size = `${inputTokens.toLocaleString('en-US')} input and up to ${outputTokens.toLocaleString('en-US')} output tokens`;
      if (perCallUsd !== undefined && worst > perCallUsd) {
        throw new ExaiError(
          'local',
          `${model.name} call not sent: it may cost up to ${usd(worst)} (${size}), over EXAI_MAX_COST_PER_CALL=${usd(perCallUsd)}. Send less context, pick a cheaper model, or raise the cap`,
          { retryable: false, provider: model.provider, model: model.name },
        );
      }
      rollOver();
      if (perDayUsd !== undefined && today[model.provider] + worst > perDayUsd) {
        const resetAt = (day + 1) * DAY_MS;
        throw new ExaiError(
          'local',
          `${model.name} call not sent: ${model.provider.toUpperCase()} calls cost ${usd(today[model.provider])} today (UTC) and this one may cost up to ${usd(worst)} (${size}), over EXAI_MAX_COST_PER_DAY=${usd(perDayUsd)}. The day turns in ${hours(resetAt - now())}; raise the cap to go on sooner`,
          { retryable: false, provider: model.provider, model: model.name, retryAt: resetAt },
        );
      }
    },
    record(provider, cost) {
      rollOver();
      today[provider] = roundUsd(today[provider] + cost);
      total[provider] = roundUsd(total[provider] + cost);
    },
    total: provider => total[provider],
  };
}
