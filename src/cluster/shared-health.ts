/**
 * Provider health shared between replicas through Redis, so one replica's hard-won knowledge ("GLM is down",
 * "Kimi says wait 20 s", "the GLM balance is empty") spares the others the same failures.
 *
 * - State: one hash `<prefix>health` with a field per provider and report (`glm:open`, `glm:retry_after`), each
 *   `{from, until, reason}`; the hash expires with the latest `until`. A replica that starts later, or whose
 *   connection dropped, reads it (and re-reads it every few seconds, in case a message was missed).
 * - News: the same script that writes the hash publishes on `<prefix>health:events`, so subscribers hear it
 *   within milliseconds. A replica ignores its own messages: its local breaker already knows.
 * - `until` is the publisher's wall clock (epoch ms); replicas' clocks should agree (NTP).
 * - Redis down: publish() keeps the report and sends it once the connection is back; remote() serves what was
 *   known (reports still expire by `until`); snapshot() says `degraded` and why. Nothing here throws into a
 *   provider call: shared health can only make a replica fail faster, never fail for its own reasons.
 */
import { hostname } from 'node:os';
import type { Logger } from '../observability/logger.js';
import { openRedisLink } from '../redis/link.js';
import { defineScript, runScript } from '../redis/script.js';

export type HealthEvent =
  | { type: 'open'; until: number; reason: string }
  | { type: 'closed' }
  | { type: 'retry_after'; until: number };

export interface RemoteReport {
  /** Epoch ms. */
  until: number;
  /** Replica id of the reporter. */
  from: string;
  reason?: string;
}

export interface RemoteHealth {
  open?: RemoteReport;
  retryAfter?: RemoteReport;
}

export interface SharedHealthSnapshot {
  replicaId: string;
  /** Both Redis connections are up and subscribed. */
  connected: boolean;
  /** Not connected: this replica decides on its local breakers alone, and what it learns stays local. */
  degraded: boolean;
  lastError?: string;
  /** Live reports of other replicas per provider (ISO times). Empty when all is well. */
  remote: Record<
    string,
    { openUntil?: string; reason?: string; from?: string; retryAfterUntil?: string; retryAfterFrom?: string }
  >;
}

export interface SharedHealth {
  readonly replicaId: string;
  /** Fire and forget; kept and re-sent after an outage while still relevant. Never throws. */
  publish(provider: string, event: HealthEvent): void;
  /** Hears other replicas' events as they arrive. Returns an unsubscribe function. */
  subscribe(listener: (provider: string, event: HealthEvent, from: string) => void): () => void;
  /** Other replicas' reports for a provider that have not expired yet. */
  remote(provider: string): RemoteHealth | undefined;
  snapshot(): SharedHealthSnapshot;
  /** Resolves true once connected and subscribed, false after `timeoutMs`. Never rejects. */
  ready(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface SharedHealthOptions {
  url: string;
  /** Names this replica in other replicas' errors and status ("open on replica <id>"). */
  replicaId: string;
  logger: Logger;
  /** One per deployment sharing a Redis. Default `exai:`. */
  keyPrefix?: string;
  /** How often the shared state is re-read as a safety net for missed messages. Default 5000 ms. */
  resyncMs?: number;
  now?: () => number;
}

// KEYS[1] state hash. ARGV: field, value ('' deletes), ttl ms, channel, message.
const PUBLISH = defineScript(
  'health_publish',
  `
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
end
return redis.call('PUBLISH', ARGV[4], ARGV[5])`,
);
// HGETALL as a flat array whatever the connection's RESP version.
const READ = defineScript('health_read', `return redis.call('HGETALL', KEYS[1])`);

interface Message {
  v: 1;
  from: string;
  provider: string;
  event: HealthEvent;
}

type Kind = 'open' | 'retryAfter';
interface Known extends RemoteReport {
  /** When this replica learnt it: a resync that started earlier must not erase it. */
  learnt: number;
}

export function createSharedHealth(options: SharedHealthOptions): SharedHealth {
  const { replicaId, logger } = options;
  const now = options.now ?? Date.now;
  const prefix = options.keyPrefix ?? 'exai:';
  const stateKey = `${prefix}health`;
  const channel = `${prefix}health:events`;
  const log = logger.child({ component: 'shared-health', replica: replicaId });
  const cmd = openRedisLink({ url: options.url, name: 'exai-health', logger, commandTimeoutMs: 1_000 });
  const sub = openRedisLink({ url: options.url, name: 'exai-health-sub', logger });
  const known = new Map<string, Map<Kind, Known>>();
  /** Reports that could not be sent, by hash field; re-sent on reconnection while still relevant. */
  const unsent = new Map<string, { provider: string; event: HealthEvent }>();
  const listeners = new Set<(provider: string, event: HealthEvent, from: string) => void>();
  let subscribed = false;
  let publishError: string | undefined;
  let closed = false;

  const fieldOf = (provider: string, event: HealthEvent) =>
    `${provider}:${event.type === 'retry_after' ? 'retry_after' : 'open'}`;

  function remember(provider: string, kind: Kind, report: RemoteReport): void {
    const entry = known.get(provider) ?? new Map<Kind, Known>();
    known.set(provider, entry);
    const existing = entry.get(kind);
    // Two rate-limit hints: the later wait wins. A new open report replaces the old one.
    if (kind === 'retryAfter' && existing && existing.until >= report.until) return;
    entry.set(kind, { ...report, learnt: now() });
  }

  function apply(provider: string, event: HealthEvent, from: string): void {
    if (event.type === 'closed') known.get(provider)?.delete('open');
    else if (event.type === 'open')
      remember(provider, 'open', { until: event.until, from, reason: event.reason });
    else remember(provider, 'retryAfter', { until: event.until, from });
    for (const listener of listeners) {
      try {
        listener(provider, event, from);
      } catch (error) {
        log.error({ event: 'shared_health_listener_failed', err: error }, 'a shared-health listener threw');
      }
    }
  }

  function onMessage(raw: string): void {
    let message: Message;
    try {
      message = JSON.parse(raw) as Message;
    } catch {
      return;
    }
    if (message?.v !== 1 || typeof message.provider !== 'string' || message.from === replicaId) return;
    const type = message.event?.type;
    if (type !== 'open' && type !== 'closed' && type !== 'retry_after') return;
    if (type !== 'closed' && !Number.isFinite((message.event as { until: unknown }).until)) return;
    log.debug(
      { event: 'shared_health_event', provider: message.provider, from: message.from, type },
      'remote report',
    );
    apply(message.provider, message.event, message.from);
  }

  async function resync(): Promise<void> {
    if (closed || !cmd.isConnected()) return;
    const started = now();
    let flat: string[];
    try {
      flat = (await runScript(cmd, READ, [stateKey], [])) as string[];
    } catch {
      return; // The link logged the outage; the next resync or reconnection tries again.
    }
    const seen = new Set<string>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const field = flat[i] as string;
      const cut = field.lastIndexOf(':');
      const provider = field.slice(0, cut);
      const kind: Kind | undefined =
        field.slice(cut + 1) === 'open'
          ? 'open'
          : field.slice(cut + 1) === 'retry_after'
            ? 'retryAfter'
            : undefined;
      let report: RemoteReport;
      try {
        report = JSON.parse(flat[i + 1] as string) as RemoteReport;
      } catch {
        continue;
      }
      if (!kind || report.from === replicaId || !(report.until > now())) continue;
      seen.add(`${provider}:${kind}`);
      const current = known.get(provider)?.get(kind);
      if (!current || current.until !== report.until || current.from !== report.from)
        remember(provider, kind, report);
    }
    // Gone from Redis (closed, expired): forget it, unless a message brought it after this read began.
    for (const [provider, entry] of known) {
      for (const [kind, report] of entry) {
        if (!seen.has(`${provider}:${kind}`) && report.learnt < started) entry.delete(kind);
      }
    }
  }

  function send(provider: string, event: HealthEvent): void {
    const field = fieldOf(provider, event);
    if (closed) return;
    if (!cmd.isConnected()) {
      unsent.set(field, { provider, event });
      return;
    }
    unsent.delete(field);
    const value =
      event.type === 'closed'
        ? ''
        : JSON.stringify({
            from: replicaId,
            until: event.until,
            ...(event.type === 'open' && { reason: event.reason }),
          });
    const ttl = event.type === 'closed' ? 0 : Math.max(1, Math.ceil(event.until - now()));
    const message: Message = { v: 1, from: replicaId, provider, event };
    runScript(cmd, PUBLISH, [stateKey], [field, value, String(ttl), channel, JSON.stringify(message)]).then(
      () => {
        publishError = undefined;
      },
      (error: unknown) => {
        publishError = error instanceof Error ? error.message : String(error);
        if (!unsent.has(field)) unsent.set(field, { provider, event });
      },
    );
  }

  function flushUnsent(): void {
    for (const [field, { provider, event }] of [...unsent]) {
      unsent.delete(field);
      if (event.type === 'closed' || event.until > now()) send(provider, event);
    }
  }

  cmd.onReady(() => {
    flushUnsent();
    void resync();
  });
  cmd.onDown(error =>
    log.warn(
      { event: 'shared_health_degraded', err: error },
      'shared provider health degraded: this replica decides on its local breakers until Redis is back',
    ),
  );
  sub.onReady(() => {
    // node-redis resubscribes by itself after a reconnection; the first subscription is ours to make.
    if (!subscribed) {
      sub.subscribe(channel, onMessage).then(
        () => {
          subscribed = true;
          void resync();
        },
        (error: unknown) =>
          log.warn({ event: 'shared_health_subscribe_failed', err: error }, 'subscribe failed'),
      );
    } else {
      void resync();
    }
  });
  const timer = setInterval(() => void resync(), options.resyncMs ?? 5_000);
  timer.unref();

  function isConnected(): boolean {
    return subscribed && cmd.isConnected() && sub.isConnected();
  }

  function remoteOf(provider: string): RemoteHealth | undefined {
    const entry = known.get(provider);
    if (!entry) return undefined;
    const at = now();
    const health: RemoteHealth = {};
    for (const [kind, { learnt: _learnt, ...report }] of entry) {
      if (report.until > at) health[kind] = report;
      else entry.delete(kind);
    }
    return health.open || health.retryAfter ? health : undefined;
  }

  return {
    replicaId,
    publish: send,

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    remote: remoteOf,

    snapshot() {
      const connected = isConnected();
      const lastError = cmd.lastError() ?? sub.lastError() ?? publishError;
      const remote: SharedHealthSnapshot['remote'] = {};
      for (const provider of known.keys()) {
        const health = remoteOf(provider);
        if (!health) continue;
        remote[provider] = {
          ...(health.open && {
            openUntil: new Date(health.open.until).toISOString(),
            from: health.open.from,
            ...(health.open.reason !== undefined && { reason: health.open.reason }),
          }),
          ...(health.retryAfter && {
            retryAfterUntil: new Date(health.retryAfter.until).toISOString(),
            retryAfterFrom: health.retryAfter.from,
          }),
        };
      }
      return {
        replicaId,
        connected,
        degraded: !connected,
        ...(lastError !== undefined && !connected && { lastError }),
        remote,
      };
    },

    async ready(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!isConnected()) {
        if (closed || Date.now() >= deadline) return false;
        await new Promise(resolve => setTimeout(resolve, 20));
      }
      return true;
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      listeners.clear();
      await Promise.all([sub.close(), cmd.close()]);
    },
  };
}

/** Shared health as configured: on whenever REDIS_URL is set, off (undefined) otherwise. */
export function sharedHealthFromConfig(
  config: { redisUrl?: string | undefined; redisKeyPrefix: string; replicaId?: string | undefined },
  logger: Logger,
): SharedHealth | undefined {
  if (config.redisUrl === undefined) return undefined;
  return createSharedHealth({
    url: config.redisUrl,
    replicaId: config.replicaId ?? `${hostname()}:${process.pid}`,
    keyPrefix: config.redisKeyPrefix,
    logger,
  });
}
