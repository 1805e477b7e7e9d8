/**
 * How exai-mcp talks to Redis, shared by the conversation store and shared provider health.
 *
 * - No offline queue: while the connection is down a command fails at once (a conversation write must not
 *   wait minutes behind a dead socket; shared health must fall back to the local breaker at once).
 * - Every command has a timeout, so a Redis that accepts the socket but never answers cannot hang a call.
 * - Reconnects forever with a capped, jittered backoff; listeners hear about every (re)connection so they
 *   can resynchronise (resubscribe, reload shared state).
 * - Transitions are logged once per outage, not once per failed reconnect.
 * - URLs in messages and logs carry no password.
 */
import { createClient, ErrorReply, type RedisClientType } from '@redis/client';
import { ExaiError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { redactUrl } from '../observability/redact.js';

export type RedisClient = RedisClientType;
type Reply = Awaited<ReturnType<RedisClient['sendCommand']>>;

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 3_000;
const MAX_RECONNECT_DELAY_MS = 2_000;

export interface RedisLinkOptions {
  url: string;
  /** Names the link in logs and CLIENT LIST (e.g. `exai-store`, `exai-health-sub`). */
  name: string;
  logger: Logger;
  /** TCP connect timeout of each (re)connection attempt. Default 5000. */
  connectTimeoutMs?: number;
  /** Longest wait for one command's reply. Default 3000. */
  commandTimeoutMs?: number;
}

export interface RedisLink {
  readonly client: RedisClient;
  /** The URL without its password, for messages. */
  readonly displayUrl: string;
  isConnected(): boolean;
  /** The last connection error, while disconnected. */
  lastError(): string | undefined;
  /** Resolves once connected; rejects with ExaiError not_configured naming the URL after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Called on every successful (re)connection. Returns an unsubscribe function. */
  onReady(listener: () => void): () => void;
  /** Called when an established connection is lost. Returns an unsubscribe function. */
  onDown(listener: (error: string) => void): () => void;
  /** One command with the link's timeout; connection failures become ExaiError `network` naming the URL. */
  send(args: string[]): Promise<Reply>;
  close(): Promise<void>;
}

export function openRedisLink(options: RedisLinkOptions): RedisLink {
  const displayUrl = redactUrl(options.url);
  const log = options.logger.child({ component: options.name, redis: displayUrl });
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const client = createClient({
    url: options.url,
    name: options.name,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) =>
        Math.round(Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** retries) * (0.5 + Math.random() / 2)),
    },
  });
  const readyListeners = new Set<() => void>();
  const downListeners = new Set<(error: string) => void>();
  /** An outage is in progress (logged once, listeners told once). */
  let down = false;
  let everReady = false;
  let lastError: string | undefined;
  let closed = false;

  // Without an 'error' listener an EventEmitter throws, and a Redis restart would take the process down.
  // The client's own isReady is the truth about the connection; errors only say why it is not ready.
  client.on('error', (error: Error) => {
    const message = error.message || error.constructor.name;
    lastError = message;
    if (down || client.isReady) return;
    down = true;
    log.warn({ event: 'redis_down', err: message }, `Redis at ${displayUrl} is unreachable: ${message}`);
    if (everReady) notify(downListeners, message);
  });
  client.on('ready', () => {
    if (down) log.info({ event: 'redis_up' }, `Redis at ${displayUrl} is reachable again`);
    down = false;
    everReady = true;
    lastError = undefined;
    notify(readyListeners);
  });
  const connecting = client.connect().then(
    () => undefined,
    (error: unknown) => error,
  );

  function notify<A extends unknown[]>(listeners: Set<(...args: A) => void>, ...args: A): void {
    for (const listener of listeners) {
      try {
        listener(...args);
      } catch (error) {
        log.error({ event: 'redis_listener_failed', err: error }, 'a Redis connection listener threw');
      }
    }
  }

  function isConnected(): boolean {
    return !closed && client.isReady;
  }

  function unreachable(detail: string): ExaiError {
    return new ExaiError('network', `Redis at ${displayUrl} is unreachable (${detail}); retry shortly.`, {
      retryable: true,
    });
  }

  return {
    client,
    displayUrl,
    isConnected,
    lastError: () => (isConnected() ? undefined : lastError),

    async ready(timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<void> {
      if (isConnected()) return;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>(resolve => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([connecting, timedOut]).finally(() => clearTimeout(timer));
      if (outcome === undefined && isConnected()) return;
      const why =
        outcome === 'timeout'
          ? `no connection within ${timeoutMs / 1000} s${lastError ? `; last error: ${lastError}` : ''}`
          : String((outcome as Error | undefined)?.message ?? lastError ?? 'closed');
      throw new ExaiError(
        'not_configured',
        `Redis at ${displayUrl} is unreachable (${why}). Check REDIS_URL and that Redis is running.`,
        { retryable: false },
      );
    },

    onReady(listener) {
      readyListeners.add(listener);
      return () => readyListeners.delete(listener);
    },

    onDown(listener) {
      downListeners.add(listener);
      return () => downListeners.delete(listener);
    },

    async send(args: string[]): Promise<Reply> {
      if (closed) throw new ExaiError('protocol', `The Redis link to ${displayUrl} is closed.`);
      if (!isConnected()) throw unreachable(lastError ?? 'not connected yet');
      try {
        return await client.sendCommand(args, { timeout: commandTimeoutMs });
      } catch (error) {
        // A reply error (a script's error_reply, WRONGTYPE, ...) is the caller's to interpret.
        if (error instanceof ErrorReply) throw error;
        throw unreachable(error instanceof Error ? error.message : String(error));
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      readyListeners.clear();
      downListeners.clear();
      if (client.isOpen) {
        // A graceful QUIT when the server answers; otherwise drop the socket rather than wait.
        await Promise.race([
          client.close().catch(() => client.destroy()),
          new Promise<void>(resolve => setTimeout(resolve, 500).unref()),
        ]);
        if (client.isOpen) client.destroy();
      }
      await connecting;
    },
  };
}
