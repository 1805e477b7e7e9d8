/**
 * The shared dependencies of one server process, built once: the model gateway (its connection pool,
 * breakers and stats live as long as the process), the conversation store, the file policy and the logger.
 * Every MCP server instance (one per stdio connection, HTTP session or stateless HTTP request) gets these.
 */
import { setMaxListeners } from 'node:events';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sharedHealthFromConfig } from '../cluster/shared-health.js';
import { type Config, secondsToMs } from '../config/load.js';
import { ExaiError } from '../errors.js';
import { createFilePolicy, type FilePolicy } from '../files/policy.js';
import { rootsInForce } from '../files/roots.js';
import { createJobRegistry, type JobRegistry } from '../jobs/registry.js';
import { type ConversationStore, createStore, defaultDataDir, type StoreKind } from '../memory/index.js';
import { type Activity, createActivity } from '../observability/activity.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { createGateway, type ModelGateway } from '../providers/gateway.js';
import { TURNS_PER_EXCHANGE } from '../toolkit/conversation.js';
import { packageVersion } from './version.js';

const HOUR_MS = 3_600_000;

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly gateway: ModelGateway;
  readonly store: ConversationStore;
  readonly files: FilePolicy;
  readonly version: string;
  readonly startedAt: number;
  /** Aborts when close() starts, which cancels every model call in flight. */
  readonly shutdownSignal: AbortSignal;
  /** Prometheus metrics of this process (GET /metrics). */
  readonly metrics: Metrics;
  /** Recent tool calls and per-provider latency buckets (the live status page). */
  readonly activity: Activity;
  /** The model jobs (chat, expert analysis, consensus models) of every MCP server instance of this process. */
  readonly jobs: JobRegistry;
  /**
   * Aborts every model call in flight (shutdownSignal), so their tools answer with a clear "shutting down"
   * error while the transport can still deliver it. Idempotent.
   */
  stopCalls(): void;
  /** Resolves once no model call is in flight or queued, or after maxMs; true when idle. */
  idle(maxMs: number): Promise<boolean>;
  /** Aborts in-flight calls, closes the provider connections and the store. Idempotent. */
  close(): Promise<void>;
}

export interface AppOptions {
  logger: Logger;
  /** Default process.cwd(): the allowed root when EXAI_ALLOWED_ROOTS is unset (unless it is / or home). */
  cwd?: string;
  /** Injected by tests. */
  gateway?: ModelGateway;
  store?: ConversationStore;
}

const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'memory', 'redis'];

/** The settings table types EXAI_STORE as a string; its schema already limited it to these. */
function storeKind(value: string): StoreKind {
  return STORE_KINDS.find(kind => kind === value) ?? 'sqlite';
}

export function createApp(config: Config, options: AppOptions): App {
  const { logger } = options;
  const cwd = options.cwd ?? process.cwd();
  const store =
    options.store ??
    createStore(storeKind(config.store), {
      ttlMs: config.conversationTimeoutHours * HOUR_MS,
      maxTurns: config.maxConversationTurns * TURNS_PER_EXCHANGE,
      path: join(config.dataDir ?? defaultDataDir(process.env), 'conversations.db'),
      ...(config.redisUrl !== undefined && { url: config.redisUrl }),
      keyPrefix: config.redisKeyPrefix,
      logger,
    });
  // Provider health shared with other replicas when REDIS_URL is set; an injected gateway brings its own.
  const sharedHealth = options.gateway ? undefined : sharedHealthFromConfig(config, logger);
  const metrics = createMetrics();
  const activity = createActivity();
  const observer = {
    ...metrics,
    callEnded(provider: string, model: string, outcome: string, seconds: number) {
      metrics.callEnded(provider, model, outcome, seconds);
      activity.recordProviderCall(provider, seconds * 1000, outcome === 'ok');
    },
  };
  const gateway =
    options.gateway ?? createGateway(config, { logger, observer, ...(sharedHealth && { sharedHealth }) });
  metrics.bindLiveState({
    providers: () =>
      gateway.status().map(p => ({
        provider: p.provider,
        breakerState: p.breaker.state,
        inFlight: p.inFlight,
        queued: p.queued,
        concurrencyLimit: p.concurrency.limit,
      })),
    activeSessions: () => 0,
  });
  const rootsSetting = rootsInForce(config.allowedRoots, cwd, homedir());
  const files = createFilePolicy({
    roots: rootsSetting.roots,
    unshared: rootsSetting.unshared,
    rootProblems: rootsSetting.problems,
    maxFileBytes: config.maxFileBytes,
    maxRequestBytes: config.maxRequestFileBytes,
    maxImageBytes: config.maxImageBytes,
    maxRequestFiles: config.maxRequestFiles,
    maxRequestImages: config.maxRequestImages,
    maxRequestImageBytes: config.maxRequestImageBytes,
    deniedFiles: config.deniedFiles,
    protectedFiles: config.envFile ? [config.envFile] : [],
  });
  if (files.unshared) {
    logger.warn({ event: 'no_allowed_roots', setting: config.allowedRoots }, files.unshared);
  } else if (rootsSetting.problems.length > 0) {
    logger.warn(
      { event: 'allowed_roots_problems', problems: rootsSetting.problems, roots: files.roots },
      `EXAI_ALLOWED_ROOTS: ${rootsSetting.problems.join('; ')}`,
    );
  }
  const shutdown = new AbortController();
  // Every call in flight listens to it (and removes its listener when done): many at once is not a leak.
  setMaxListeners(0, shutdown.signal);
  const stopCalls = () => {
    if (!shutdown.signal.aborted) {
      shutdown.abort(new ExaiError('cancelled', 'The server is shutting down; retry once it is back'));
    }
  };
  const jobs = createJobRegistry({
    graceMs: secondsToMs(config.jobGraceSecs),
    resultTtlMs: secondsToMs(config.jobResultTtlSecs),
    logger,
    records: store.jobRecords,
    shutdownSignal: shutdown.signal,
  });
  let closing: Promise<void> | undefined;

  return {
    config,
    logger,
    gateway,
    store,
    files,
    version: packageVersion(),
    startedAt: Date.now(),
    shutdownSignal: shutdown.signal,
    jobs,
    metrics,
    activity,
    stopCalls,
    async idle(maxMs) {
      const until = performance.now() + maxMs;
      const busy = () => gateway.status().some(p => p.inFlight + p.queued > 0);
      while (busy() && performance.now() < until) await new Promise(resolve => setTimeout(resolve, 20));
      return !busy();
    },
    close() {
      closing ??= (async () => {
        stopCalls();
        jobs.close();
        gateway.close();
        await sharedHealth?.close();
        try {
          await store.close();
        } catch (error) {
          logger.warn({ event: 'store_close_failed', err: error }, 'closing the conversation store failed');
        }
      })();
      return closing;
    },
  };
}
