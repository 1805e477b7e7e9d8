/**
 * How exai-mcp talks to Redis, shared by the conversation store and shared provider health.
 *
 * - No offline queue: while the connection is down a command fails at once (a conversation write must not
 *   wait minutes behind a dead socket; shared health must fall back to the local breaker at once).
 * - Every command has our own deadline (send()), so a Redis that keeps the socket open but never answers
 *   (frozen, swapping, a half-open TCP link) cannot hang a call. node-redis's own per-command timeout does not
 *   do this: it stops applying once the command is written to the socket. When the deadline fires, the link
 *   counts as down: the socket is destroyed (every command waiting on it fails at once, and a late reply can
 *   never be matched to a later command, since replies are matched by order) and a new one is opened.
 * - Reconnects forever with a capped, jittered backoff; listeners hear about every (re)connection so they
 *   can resynchronise (resubscribe, reload shared state).
 * - Transitions are logged once per outage, not once per failed reconnect.
 * - URLs in messages and logs carry no password.
 */
import type { ErrorReply, RedisClientType } from '@redis/client';
import { ExaiError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { redactUrl } from '../observability/redact.js';

type RedisClient = RedisClientType;
type Reply = Awaited<ReturnType<RedisClient['sendCommand']>>;
type RedisModule = typeof import('@redis/client');

/**
 * @redis/client is loaded when the first link opens, not with this file: it is about 500 modules that a
 * process without REDIS_URL never uses, and a stdio server would load them before answering `initialize`.
 */
let redisModule: RedisModule | undefined;
function loadRedis(): Promise<RedisModule> {
  return import('@redis/client').then(loaded => {
    redisModule = loaded;
    return loaded;
  });
}

/** A Redis error reply (a script's error_reply, NOSCRIPT, WRONGTYPE, ...); none exists before a link opened. */
export function isErrorReply(error: unknown): error is ErrorReply {
  return redisModule !== undefined && error instanceof redisModule.ErrorReply;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 3_000;
const MISSED_DEADLINE = Symbol('missed deadline');
const MAX_RECONNECT_DELAY_MS = 2_000;

export interface RedisLinkOptions {
  url: string;
  /** Names the link in logs and CLIENT LIST (e.g. `exai-store`, `exai-health-sub`). */
  name: string;
  logger: Logger;
  /** TCP connect timeout of each (re)connection attempt. Default 5000. */
  connectTimeoutMs?: number;
  /** Longest wait for one command's reply; past it the connection is reset. Default 3000. */
  commandTimeoutMs?: number;
}

export interface RedisLink {
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
  /**
   * One command within the link's deadline; connection failures and a missed deadline become ExaiError
   * `network` naming the URL (a missed deadline also resets the connection).
   */
  send(args: string[]): Promise<Reply>;
  /**
   * SUBSCRIBE on this link (which then serves nothing else); node-redis subscribes again by itself after a
   * reconnection. Call it once connected (from onReady).
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}

export function openRedisLink(options: RedisLinkOptions): RedisLink {
  const displayUrl = redactUrl(options.url);
  const log = options.logger.child({ component: options.name, redis: displayUrl });
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const readyListeners = new Set<() => void>();
  const downListeners = new Set<(error: string) => void>();
  /** Set once @redis/client is loaded (unless the link was closed first). */
  let client: RedisClient | undefined;
  /** An outage is in progress (logged once, listeners told once). */
  let down = false;
  let everReady = false;
  let lastError: string | undefined;
  let closed = false;
  /** Connections dropped for a missed deadline, and why the last one was. */
  let resets = 0;
  let resetReason: string | undefined;

  function connect(redis: RedisModule): Promise<unknown> {
    if (closed) return Promise.resolve(undefined);
    const created: RedisClient = redis.createClient({
      url: options.url,
      name: options.name,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries: number) =>
          Math.round(Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** retries) * (0.5 + Math.random() / 2)),
      },
    });
    client = created;
    // Without an 'error' listener an EventEmitter throws, and a Redis restart would take the process down.
    // The client's own isReady is the truth about the connection; errors only say why it is not ready.
    created.on('error', (error: Error) => {
      const message = error.message || error.constructor.name;
      lastError = message;
      if (down || created.isReady) return;
      down = true;
      log.warn({ event: 'redis_down', err: message }, `Redis at ${displayUrl} is unreachable: ${message}`);
      if (everReady) notify(downListeners, message);
    });
    created.on('ready', () => {
      if (down) log.info({ event: 'redis_up' }, `Redis at ${displayUrl} is reachable again`);
      down = false;
      everReady = true;
      lastError = undefined;
      notify(readyListeners);
    });
    return created.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
  }
  /** Settles (never rejects) once the first connection attempt ended: undefined, or why it failed. */
  const connecting: Promise<unknown> = loadRedis().then(connect, (error: unknown) => {
    lastError = `cannot load @redis/client: ${error instanceof Error ? error.message : String(error)}`;
    return error;
  });

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
    return !closed && client?.isReady === true;
  }

  function addListener<L>(listeners: Set<L>, listener: L): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * The server stopped answering on an open socket: treat the link as down, drop the socket (failing every
   * command still waiting for a reply) and open a new one, which becomes ready once the server answers again.
   */
  function reset(why: string): void {
    const dropped = client;
    if (closed || !dropped?.isReady) return;
    resets++;
    resetReason = why;
    lastError = why;
    if (!down) {
      down = true;
      log.warn(
        { event: 'redis_down', err: why },
        `Redis at ${displayUrl} stopped answering (${why}); reconnecting`,
      );
      notify(downListeners, why);
    }
    dropped.destroy();
    dropped.connect().catch((error: unknown) => {
      if (!closed) lastError = error instanceof Error ? error.message : String(error);
    });
  }

  function unreachable(detail: string): ExaiError {
    return new ExaiError('network', `Redis at ${displayUrl} is unreachable (${detail}); retry shortly.`, {
      retryable: true,
    });
  }

  return {
    displayUrl,
    isConnected,
    lastError: () => (isConnected() ? undefined : lastError),

    async ready(timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<void> {
      if (isConnected()) return;
      let timer: NodeJS.Timeout | undefined;
      let stopListening = () => {};
      const connected = new Promise<undefined>(resolve => {
        // A later (re)connection counts too: the first attempt may have been reset.
        stopListening = addListener(readyListeners, () => resolve(undefined));
      });
      const timedOut = new Promise<'timeout'>(resolve => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([connecting, connected, timedOut]).finally(() => {
        clearTimeout(timer);
        stopListening();
      });
      if (isConnected()) return;
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

    onReady: listener => addListener(readyListeners, listener),
    onDown: listener => addListener(downListeners, listener),

    async send(args: string[]): Promise<Reply> {
      if (closed) throw new ExaiError('protocol', `The Redis link to ${displayUrl} is closed.`);
      if (!client || !isConnected()) throw unreachable(lastError ?? 'not connected yet');
      const resetsBefore = resets;
      const reply = client.sendCommand(args);
      // Settled by the deadline below or by the reset it causes; either way nobody may be left unhandled.
      reply.catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<typeof MISSED_DEADLINE>(resolve => {
        timer = setTimeout(() => resolve(MISSED_DEADLINE), commandTimeoutMs);
      });
      try {
        const outcome = await Promise.race([reply, expired]);
        if (outcome !== MISSED_DEADLINE) return outcome;
      } catch (error) {
        // A reply error (a script's error_reply, WRONGTYPE, ...) is the caller's to interpret.
        if (isErrorReply(error)) throw error;
        // Failed by a reset that another command's missed deadline caused: the same silence, the same story.
        if (resets !== resetsBefore && resetReason !== undefined) throw unreachable(resetReason);
        throw unreachable(error instanceof Error ? error.message : String(error));
      } finally {
        clearTimeout(timer);
      }
      const why = `no reply within ${commandTimeoutMs / 1000} s`;
      reset(why);
      throw unreachable(why);
    },

    async subscribe(channel, listener): Promise<void> {
      if (!client) throw unreachable(lastError ?? 'not connected yet');
      await client.subscribe(channel, message => listener(message));
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      readyListeners.clear();
      downListeners.clear();
      const open = client;
      if (open?.isOpen) {
        // A graceful QUIT when the server answers; otherwise drop the socket rather than wait.
        await Promise.race([
          open.close().catch(() => open.destroy()),
          new Promise<void>(resolve => setTimeout(resolve, 500).unref()),
        ]);
        if (open.isOpen) open.destroy();
      }
      await connecting;
    },
  };
}
