/** What the status tool, the status page and /readyz show of each provider: configuration, health, load, cost. */

import type { SharedHealth, SharedHealthSnapshot } from '../cluster/shared-health.js';
import type { CallStatsSnapshot } from '../observability/stats.js';
import type { BreakerSnapshot } from '../resilience/breaker.js';
import type { ProviderRuntime } from './provider.js';
import type { SpendGuard } from './spend.js';
import type { ProviderName } from './types.js';

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

export function providerStatus(
  p: ProviderRuntime,
  spend: SpendGuard,
  sharedHealth: SharedHealth | undefined,
): ProviderStatus {
  const remote = sharedHealth?.snapshot().remote[p.dialect.name];
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
}

export function sharedHealthStatus(sharedHealth: SharedHealth | undefined): SharedHealthStatus {
  return sharedHealth ? { enabled: true, ...sharedHealth.snapshot() } : { enabled: false };
}
