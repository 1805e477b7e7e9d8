/**
 * status: the health of each provider as this process sees it (key present, breaker state, load, latency,
 * errors by kind, last errors) and the deadlines in force, with next steps when something needs a person.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { describeJob, type JobView } from '../jobs/view.js';
import { redactUrl, redactUrlsIn } from '../observability/redact.js';
import type { ProviderStatus } from '../providers/gateway.js';
import { leanSchema } from '../toolkit/json-schema.js';
import { reportResult } from '../toolkit/output.js';
import { runTool } from '../toolkit/run.js';
import type { ToolDeps } from '../toolkit/types.js';

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
      runTool(deps, 'status', ctx, async () => {
        const report = statusReport(deps);
        const markdown = `${statusMarkdown(deps.gateway.status(), report.next_steps)}\n\n${jobsMarkdown(report.jobs)}`;
        return reportResult('status', markdown, report);
      }),
  );
}

/** Provider health as a short Markdown report: one line per provider, then what to do. */
export function statusMarkdown(providers: ProviderStatus[], nextSteps: string[]): string {
  const lines = ['# Provider status', ''];
  for (const p of providers) {
    if (!p.configured) {
      lines.push(`- **${p.label}**: not configured (set ${p.keyVariables[0]})`);
      continue;
    }
    const { stats } = p;
    const errors = Object.entries(stats.outcomes)
      .filter(([kind]) => kind !== 'ok')
      .map(([kind, n]) => `${kind} ${n}`);
    lines.push(
      `- **${p.label}**: breaker ${p.breaker.state}; ${p.inFlight} in flight, ${p.queued} queued, ` +
        `${concurrencyText(p.concurrency)}; ` +
        `${stats.calls} calls, ${errors.length > 0 ? `errors: ${errors.join(', ')}` : 'no errors'}` +
        (stats.latencyMs.count > 0
          ? `; latency p50 ${stats.latencyMs.p50} ms, p95 ${stats.latencyMs.p95} ms`
          : '') +
        `; timeout ${p.timeoutSecs} s`,
    );
  }
  lines.push('', ...nextSteps.map(s => `- ${s}`));
  return lines.join('\n');
}

/** The limit calls wait under: the configured maximum, or the lower one learned from concurrency 429s. */
function concurrencyText(c: ProviderStatus['concurrency']): string {
  return c.limit < c.max ? `limit ${c.limit} (learned from 429s; max ${c.max})` : `limit ${c.max}`;
}

/** Running model jobs, then recently ended ones: what each is doing, and whether its answer was collected. */
export function jobsMarkdown(jobs: readonly JobView[]): string {
  if (jobs.length === 0) return '# Model jobs\n\nNone running or recently ended.';
  const lines = jobs.map(job => {
    const state =
      job.phase === 'done' ? (job.collected ? 'done, collected' : 'done, not collected yet') : job.phase;
    const cost = job.cost_usd === undefined ? '' : `, $${job.cost_usd}`;
    return `- **${job.tool}** ${describeJob(job)} (${state}${cost})`;
  });
  return ['# Model jobs', '', ...lines].join('\n');
}

export function statusReport(deps: Pick<ToolDeps, 'gateway' | 'config' | 'store' | 'startedAt' | 'jobs'>) {
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
    // Model jobs of this process: running ones, then recently ended ones (tool, model, phase, collected, cost).
    jobs: deps.jobs.list(),
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
    base_url: redactUrl(p.baseUrl),
    timeout_secs: p.timeoutSecs,
    breaker: {
      state: breaker.state,
      consecutive_failures: breaker.consecutiveFailures,
      ...(breaker.retryAt !== undefined && { retry_at: breaker.retryAt }),
      ...(breaker.lastError !== undefined && {
        last_error: { ...breaker.lastError, message: redactUrlsIn(breaker.lastError.message) },
      }),
    },
    in_flight: p.inFlight,
    queued: p.queued,
    max_concurrency: p.maxConcurrency,
    // The limit learned from this key's concurrency 429s; calls above it wait in the queue.
    concurrency: { limit: p.concurrency.limit, max: p.concurrency.max, in_flight: p.concurrency.inFlight },
    cost_usd: p.costUsd,
    calls: stats.calls,
    ok: stats.outcomes.ok ?? 0,
    errors_by_kind: errors,
    latency_ms: stats.latencyMs,
    retries: stats.retries,
    stalls: stats.stalls,
    fallbacks: stats.fallbacks,
    last_errors: stats.lastErrors.map(e => ({ ...e, message: redactUrlsIn(e.message) })),
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
    if (p.concurrency.limit < p.concurrency.max) {
      steps.push(
        `${p.label} refused calls for concurrency: this key allows about ${p.concurrency.limit} in flight (learned), so more calls queue; a higher plan or tier raises it.`,
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
