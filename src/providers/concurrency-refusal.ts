/**
 * Which provider answers mean "too many of your requests are in flight", as opposed to other rate limits
 * (requests or tokens per minute, daily caps) that fewer concurrent calls would not cure.
 *
 * - GLM: business code 1302 "Rate limit reached for requests", documented as the concurrency limit
 *   (https://docs.z.ai/api-reference/api-code).
 * - Kimi: `rate_limit_reached_error` covers concurrency, RPM, TPM and TPD alike; only the message tells them
 *   apart, and the concurrency one names the limit: "...reached max organization concurrency: 1, please try
 *   again after 1 seconds" (https://platform.kimi.ai/docs/api/errors).
 */
import { isExaiError } from '../errors.js';
import { KIMI_CONCURRENCY_HINT } from './error-mapping.js';

export interface ConcurrencyRefusal {
  /** The limit the provider named, when it did. */
  reported?: number;
}

export function concurrencyRefusal(error: unknown): ConcurrencyRefusal | undefined {
  if (!isExaiError(error) || error.kind !== 'rate_limited') return undefined;
  if (error.provider === 'glm' && error.code === '1302') return {};
  if (error.provider !== 'kimi' || error.code !== 'rate_limit_reached_error') return undefined;
  // Decided where the provider's own words were read (error-mapping.ts), not by looking for "concurrency" in
  // the message: it holds our hints too, and the per-minute one says "lower KIMI_MAX_CONCURRENCY", so every
  // RPM or TPM 429 would halve the limit, down to 1.
  if (!error.message.includes(KIMI_CONCURRENCY_HINT)) return undefined;
  const named = /concurrency:\s*(\d+)/i.exec(error.message);
  return named ? { reported: Number(named[1]) } : {};
}
