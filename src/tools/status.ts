/**
 * status: the health of each provider as this process sees it (key present, breaker state, load, latency,
 * errors by kind, last errors) and the deadlines in force, with next steps when something needs a person.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ProviderStatus } from '../providers/gateway.js';
import { leanSchema } from './json-schema.js';
import { successResult } from './output.js';
import { runTool } from './run.js';
import type { ToolDeps } from './types.js';

const DESCRIPTION =
  'Provider health: keys, circuit breaker, load, latency, recent errors, timeouts in force and next steps. Use it when calls fail or hang.';

export function registerStatusTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    'status',
    {
      title: 'Provider health and deadlines',
      description: DESCRIPTION,
      inputSchema: leanSchema(z.object({})),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (_args, ctx) =>
      runTool(deps, 'status', ctx, async () =>
        successResult('status', JSON.stringify(statusReport(deps), null, 2), { contentType: 'json' }),
      ),
  );
}

export function statusReport(
  deps: Pick<ToolDeps, 'gateway' | 'config' | 'store' | 'startedAt'>,
): Record<string, unknown> {
  const { config } = deps;
  const providers = deps.gateway.status();
  return {
    providers: providers.map(providerReport),
    deadlines: {
      workflow_timeout_secs: config.workflowTimeoutSecs,
      expert_analysis_timeout_secs: config.expertTimeoutSecs,
      glm_timeout_secs: config.glmTimeoutSecs,
      kimi_timeout_secs: config.kimiTimeoutSecs,
      first_token_timeout_secs: config.firstTokenTimeoutSecs,
      idle_timeout_secs: config.idleTimeoutSecs,
      connect_timeout_secs: config.connectTimeoutSecs,
      max_retries: config.maxRetries,
      progress_interval_secs: config.progressIntervalSecs,
    },
    store: deps.store.health ? { kind: deps.store.kind, ...deps.store.health() } : { kind: deps.store.kind },
    // Replicas sharing provider health through Redis: whether this one is connected or running degraded.
    shared_health: deps.gateway.sharedHealth(),
    uptime_secs: Math.round((Date.now() - deps.startedAt) / 1000),
    next_steps: nextSteps(providers),
  };
}

function providerReport(p: ProviderStatus): Record<string, unknown> {
  const { stats, breaker } = p;
  const errors = Object.fromEntries(Object.entries(stats.outcomes).filter(([kind]) => kind !== 'ok'));
  return {
    provider: p.provider,
    label: p.label,
    configured: p.configured,
    key_variables: p.keyVariables,
    base_url: p.baseUrl,
    timeout_secs: p.timeoutSecs,
    breaker: {
      state: breaker.state,
      consecutive_failures: breaker.consecutiveFailures,
      ...(breaker.retryAt !== undefined && { retry_at: breaker.retryAt }),
      ...(breaker.lastError !== undefined && { last_error: breaker.lastError }),
    },
    in_flight: p.inFlight,
    queued: p.queued,
    max_concurrency: p.maxConcurrency,
    calls: stats.calls,
    ok: stats.outcomes.ok ?? 0,
    errors_by_kind: errors,
    latency_ms: stats.latencyMs,
    retries: stats.retries,
    stalls: stats.stalls,
    fallbacks: stats.fallbacks,
    last_errors: stats.lastErrors,
  };
}

function nextSteps(providers: ProviderStatus[]): string[] {
  const steps: string[] = [];
  if (!providers.some(p => p.configured)) {
    steps.push(
      `No provider is configured: set ${providers.map(p => p.keyVariables[0]).join(' or ')} and restart the server.`,
    );
  }
  for (const p of providers) {
    if (!p.configured) continue;
    if (p.breaker.state === 'open') {
      steps.push(
        `${p.label} is failing fast (breaker open) until ${p.breaker.retryAt ?? 'its reset time'}; use the other provider meanwhile.`,
      );
    }
    if (p.stats.outcomes.auth)
      steps.push(`${p.label} rejected the API key: check ${p.keyVariables.join(' / ')}.`);
    if (p.stats.outcomes.timeout) {
      steps.push(
        `${p.label} calls timed out: consider raising ${p.provider.toUpperCase()}_TIMEOUT_SECS or sending less context.`,
      );
    }
  }
  if (steps.length === 0) steps.push('All configured providers look healthy.');
  return steps;
}
