/**
 * Prometheus metrics (prom-client) for the HTTP server's /metrics. Counters and histograms are fed as calls
 * end; gauges that describe current state (breakers, in-flight, queued, sessions) are read at scrape time
 * from their owners, so there is one source of truth for each number.
 *
 * prom-client is loaded by start(), which the HTTP server awaits before it listens: a stdio server exposes
 * no metrics, so it neither loads the library (about 40 modules, before it could answer `initialize`) nor
 * pays for a histogram observation per call. Until start(), observations are dropped.
 */
import type { Counter, Histogram, Registry } from 'prom-client';

export interface CallObserver {
  callEnded(provider: string, model: string, outcome: string, seconds: number): void;
  retried(provider: string, reason: string): void;
  stalled(provider: string): void;
  fellBack(from: string, to: string, reason: string): void;
  /** A call answered and cost this much (USD, from the catalogue's prices). */
  spent(provider: string, model: string, usd: number): void;
}

export interface LiveState {
  providers(): Array<{
    provider: string;
    breakerState: 'closed' | 'open' | 'half_open';
    inFlight: number;
    queued: number;
    /** The concurrency learned for the provider's key (at most its configured maximum). */
    concurrencyLimit: number;
  }>;
  activeSessions(): number;
}

export interface Metrics extends CallObserver {
  toolEnded(tool: string, status: string, seconds: number): void;
  /** Connects the scrape-time gauges to their owners; call once the server exists. */
  bindLiveState(state: LiveState): void;
  /** Loads prom-client and starts recording (idempotent); what was observed before is not counted. */
  start(): Promise<void>;
  /** The exposition for GET /metrics, and its content type (starts recording if not started yet). */
  render(): Promise<{ contentType: string; body: string }>;
}

interface Instruments {
  registry: Registry;
  callDuration: Histogram;
  retries: Counter;
  stalls: Counter;
  timeouts: Counter;
  fallbacks: Counter;
  cost: Counter;
  toolDuration: Histogram;
}

const BREAKER_VALUE = { closed: 0, half_open: 1, open: 2 } as const;
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export function createMetrics(): Metrics {
  let live: LiveState | undefined;
  let on: Instruments | undefined;
  let starting: Promise<Instruments> | undefined;
  const start = (): Promise<Instruments> => {
    starting ??= import('prom-client').then(prom => {
      on = instruments(prom, () => live);
      return on;
    });
    return starting;
  };

  return {
    callEnded(provider, model, outcome, seconds) {
      if (!on) return;
      on.callDuration.observe({ provider, model, outcome }, seconds);
      if (outcome === 'timeout') on.timeouts.inc({ provider });
    },
    retried: (provider, reason) => on?.retries.inc({ provider, reason }),
    stalled: provider => on?.stalls.inc({ provider }),
    fellBack: (from, to, reason) => on?.fallbacks.inc({ from, to, reason }),
    spent: (provider, model, usd) => on?.cost.inc({ provider, model }, usd),
    toolEnded: (tool, status, seconds) => on?.toolDuration.observe({ tool, status }, seconds),
    bindLiveState(state) {
      live = state;
    },
    async start() {
      await start();
    },
    async render() {
      const { registry } = await start();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

function instruments(prom: typeof import('prom-client'), current: () => LiveState | undefined): Instruments {
  const { Counter, Gauge, Histogram, Registry } = prom;
  const registry = new Registry();
  prom.collectDefaultMetrics({ register: registry, prefix: 'exai_' });

  const callDuration = new Histogram({
    name: 'exai_provider_call_duration_seconds',
    help: 'Provider call duration (all attempts, backoff and queueing) by provider, model and outcome',
    labelNames: ['provider', 'model', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'exai_provider_retries_total',
    help: 'Provider attempts retried, by reason',
    labelNames: ['provider', 'reason'],
    registers: [registry],
  });
  const stalls = new Counter({
    name: 'exai_provider_stalls_total',
    help: 'Attempts abandoned by the first-token or idle timeout',
    labelNames: ['provider'],
    registers: [registry],
  });
  const timeouts = new Counter({
    name: 'exai_provider_timeouts_total',
    help: 'Provider calls ended by a deadline',
    labelNames: ['provider'],
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'exai_provider_fallbacks_total',
    help: 'Calls answered by the other provider',
    labelNames: ['from', 'to', 'reason'],
    registers: [registry],
  });
  const cost = new Counter({
    name: 'exai_provider_cost_usd_total',
    help: 'USD spent on answered calls, from the catalogue prices, by provider and model',
    labelNames: ['provider', 'model'],
    registers: [registry],
  });
  const toolDuration = new Histogram({
    name: 'exai_tool_call_duration_seconds',
    help: 'MCP tool call duration by tool and status',
    labelNames: ['tool', 'status'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'exai_provider_breaker_state',
    help: 'Circuit breaker state per provider: 0 closed, 1 half-open, 2 open',
    labelNames: ['provider'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of current()?.providers() ?? [])
        this.set({ provider: p.provider }, BREAKER_VALUE[p.breakerState]);
    },
  });
  new Gauge({
    name: 'exai_provider_in_flight',
    help: 'Provider calls in flight',
    labelNames: ['provider'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of current()?.providers() ?? []) this.set({ provider: p.provider }, p.inFlight);
    },
  });
  new Gauge({
    name: 'exai_provider_queued',
    help: 'Provider calls waiting for a concurrency slot',
    labelNames: ['provider'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of current()?.providers() ?? []) this.set({ provider: p.provider }, p.queued);
    },
  });
  new Gauge({
    name: 'exai_provider_concurrency_limit',
    help: 'Provider calls allowed in flight: the limit learned from concurrency 429s, at most the configured maximum',
    labelNames: ['provider'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of current()?.providers() ?? []) this.set({ provider: p.provider }, p.concurrencyLimit);
    },
  });
  new Gauge({
    name: 'exai_active_sessions',
    help: 'Open MCP sessions on the HTTP server',
    registers: [registry],
    collect() {
      this.set(current()?.activeSessions() ?? 0);
    },
  });

  return { registry, callDuration, retries, stalls, timeouts, fallbacks, cost, toolDuration };
}
