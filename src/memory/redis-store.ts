/**
 * The conversation store for several server replicas: threads live in one Redis, so a thread started on one
 * replica continues on any other. Same guarantees as the SQLite store:
 *
 * - create, get and appendTurns are single Lua scripts (redis-scripts.ts): the expiry check, the turn limit and
 *   the write are one atomic step, so two replicas appending to one thread at once both land, each batch of
 *   turns whole and contiguous.
 * - updateState takes a synchronous JS updater, which cannot run inside Redis. It is an optimistic
 *   compare-and-set on the state's version: read state + version, run the updater, write only if the version
 *   is unchanged (one script), else re-read and run the updater again — up to MAX_STATE_ATTEMPTS times, then
 *   ExaiError `overloaded` (retryable). Appends do not bump the version, so they never force a retry. Updates
 *   to one thread from this process are queued locally first, so only other replicas can cause a conflict.
 *   This is WATCH/MULTI's semantics without a dedicated connection per transaction.
 * - Expiry is logical (expiresAt from the writer's clock, checked by every script, as SQLite's expires_at);
 *   PEXPIRE, refreshed on every write, removes the keys a minute after that. Replicas' clocks should agree
 *   (NTP): skew only moves the expiry by that much.
 *
 * While Redis is unreachable every operation fails at once with ExaiError `network` (retryable) naming the URL;
 * the connection comes back on its own.
 */
import { randomUUID } from 'node:crypto';
import { ExaiError, isExaiError } from '../errors.js';
import { type Logger, silentLogger } from '../observability/logger.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, isErrorReply, openRedisLink } from '../redis/link.js';
import {
  cancelledBeforeStart,
  canonicalId,
  checkCreate,
  checkNewState,
  checkTurns,
  resolveOptions,
  storeClosed,
  sweepIntervalMs,
  threadNotFound,
  tooManyTurns,
} from './common.js';
import { APPEND, CREATE, GET, runScript, type Script, SET_STATE, SWEEP } from './redis-scripts.js';
import type {
  ConversationStore,
  ConversationTurn,
  CreateThreadInput,
  StoreHealth,
  StoreOptions,
  Thread,
} from './types.js';

export interface RedisStoreOptions extends StoreOptions {
  /** redis:// or rediss:// URL; a password in it never appears in messages. */
  url: string;
  /** Prefix of every key, so deployments can share one Redis. Default `exai:`. */
  keyPrefix?: string;
  logger?: Logger;
  /** How long ready() waits for the first connection. Default 5000. */
  connectTimeoutMs?: number;
}

/** Keys outlive the logical expiry by this much, so a key never vanishes while a script still counts it live. */
const KEY_GRACE_MS = 60_000;
const MAX_STATE_ATTEMPTS = 10;
const SWEEP_BATCH = 500;

interface Head {
  id: string;
  parentId?: string;
  toolName: string;
  createdAt: string;
  initialContext: Record<string, unknown>;
}

type Snapshot = { thread: Thread; version: string };

export function createRedisStore(options: RedisStoreOptions): ConversationStore {
  const { ttlMs, maxTurns, now } = resolveOptions(options);
  const prefix = options.keyPrefix ?? 'exai:';
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const link = openRedisLink({
    url: options.url,
    name: 'exai-store',
    logger: options.logger ?? silentLogger(),
    connectTimeoutMs,
  });
  const indexKey = `${prefix}threads:expiry`;
  const threadPrefix = `${prefix}thread:`;
  const jobPrefix = `${prefix}job:`;
  const keysOf = (id: string) => [`${threadPrefix}${id}`, `${threadPrefix}${id}:turns`, indexKey];
  const pexpire = String(Math.ceil(ttlMs) + KEY_GRACE_MS);
  /** Tail of the state-update queue per thread id: this process's updates to one thread run one at a time. */
  const stateQueues = new Map<string, Promise<unknown>>();
  let closed = false;
  let lastSweep = Number.NEGATIVE_INFINITY;

  /** now, then what every write stamps: ISO time, logical expiry. */
  function clock(): { at: string; iso: string; expiresAt: string } {
    const at = now();
    return { at: String(at), iso: new Date(at).toISOString(), expiresAt: String(at + ttlMs) };
  }

  async function call(which: Script, id: string, args: string[]): Promise<Snapshot | 'full' | 'conflict'> {
    const reply = await runScript(link, which, keysOf(id), args);
    const [status, ...rest] = reply as [string, ...unknown[]];
    if (status === 'not_found') throw threadNotFound(id, ttlMs);
    if (status === 'full' || status === 'conflict') return status;
    return readSnapshot(rest);
  }

  async function sweepNow(): Promise<number> {
    const at = now();
    lastSweep = at;
    let removed = 0;
    for (;;) {
      const batch = Number(
        await runScript(link, SWEEP, [indexKey], [String(at), threadPrefix, String(SWEEP_BATCH)]),
      );
      removed += batch;
      if (batch < SWEEP_BATCH) return removed;
    }
  }

  /** Closed check, then any failure that is not already an ExaiError named as the store's. */
  async function run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    if (closed) throw storeClosed('redis');
    try {
      return await body();
    } catch (error) {
      if (isExaiError(error)) {
        if (error.kind !== 'network') throw error;
        throw new ExaiError('network', `Conversation store ${operation} failed: ${error.message}`, {
          retryable: true,
          cause: error,
        });
      }
      // The updater's own exception is the caller's, passed through untouched (as the other stores do).
      if (!isErrorReply(error)) throw error;
      throw new ExaiError('protocol', `Conversation store ${operation}: Redis answered ${error.message}`, {
        cause: error,
      });
    }
  }

  async function append(id: string, turns: ConversationTurn[]): Promise<Thread> {
    const key = canonicalId(id);
    checkTurns(turns, false);
    const { at, iso, expiresAt } = clock();
    const args = [at, key, iso, expiresAt, pexpire, String(maxTurns), ...turns.map(t => JSON.stringify(t))];
    const appended = await call(APPEND, key, args);
    if (appended === 'full') throw tooManyTurns(key, maxTurns, turns.length);
    if (appended === 'conflict') throw new ExaiError('protocol', 'unexpected conflict from append');
    return appended.thread;
  }

  async function setState(
    id: string,
    update: (state: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<Thread> {
    for (let attempt = 1; attempt <= MAX_STATE_ATTEMPTS; attempt++) {
      const current = await call(GET, id, [String(now())]);
      if (typeof current === 'string') throw new ExaiError('protocol', `unexpected ${current} from get`);
      // A fresh parse each time: an updater that mutates its argument and throws leaves nothing behind.
      const next = checkNewState(update(current.thread.state));
      const { at, iso, expiresAt } = clock();
      const written = await call(SET_STATE, id, [
        at,
        id,
        iso,
        expiresAt,
        pexpire,
        current.version,
        JSON.stringify(next),
      ]);
      if (typeof written !== 'string') return written.thread;
      // Another replica updated the state between our read and write: back off a little and redo.
      await new Promise(resolve => setTimeout(resolve, Math.random() * 5 * attempt));
    }
    throw new ExaiError(
      'overloaded',
      `Conversation thread ${id}: its state kept changing under ${MAX_STATE_ATTEMPTS} concurrent updates from ` +
        'other replicas; retry.',
      { retryable: true },
    );
  }

  return {
    kind: 'redis',

    create(input: CreateThreadInput, signal?: AbortSignal): Promise<Thread> {
      return run('create', async () => {
        cancelledBeforeStart(signal);
        const turns = checkCreate(input, maxTurns);
        if (now() - lastSweep >= sweepIntervalMs(ttlMs)) await sweepNow();
        const id = randomUUID();
        const { iso, expiresAt } = clock();
        const head: Head = {
          id,
          ...(input.parentId !== undefined && { parentId: input.parentId.toLowerCase() }),
          toolName: input.toolName,
          createdAt: iso,
          initialContext: input.initialContext ?? {},
        };
        const args = [
          id,
          iso,
          expiresAt,
          pexpire,
          JSON.stringify(head),
          ...turns.map(t => JSON.stringify(t)),
        ];
        const created = await call(CREATE, id, args);
        if (typeof created === 'string') throw new ExaiError('protocol', `unexpected ${created} from create`);
        return created.thread;
      });
    },

    get(id: string): Promise<Thread> {
      return run('get', async () => {
        const found = await call(GET, canonicalId(id), [String(now())]);
        if (typeof found === 'string') throw new ExaiError('protocol', `unexpected ${found} from get`);
        return found.thread;
      });
    },

    listRecent(limit: number): Promise<Thread[]> {
      return run('listRecent', async () => {
        if (limit <= 0) return [];
        // The expiry index scores each thread by its logical expiry, its last write plus the TTL.
        const ids = (await link.send([
          'ZRANGE',
          indexKey,
          '+inf',
          `(${now()}`,
          'BYSCORE',
          'REV',
          'LIMIT',
          '0',
          String(limit),
        ])) as string[];
        const threads: Thread[] = [];
        for (const id of ids) {
          const found = await call(GET, id, [String(now())]).catch((error: unknown) => {
            if (isExaiError(error) && error.kind === 'not_found') return undefined;
            throw error;
          });
          if (found !== undefined && typeof found !== 'string') threads.push(found.thread);
        }
        return threads;
      });
    },

    appendTurns(id: string, turns: ConversationTurn[]): Promise<Thread> {
      return run('appendTurns', () => append(id, turns));
    },

    appendTurn(id: string, turn: ConversationTurn): Promise<Thread> {
      return run('appendTurn', () => append(id, [turn]));
    },

    updateState(id, update): Promise<Thread> {
      return run('updateState', async () => {
        const key = canonicalId(id);
        const previous = stateQueues.get(key) ?? Promise.resolve();
        const mine = previous.catch(() => {}).then(() => setState(key, update));
        stateQueues.set(key, mine);
        try {
          return await mine;
        } finally {
          if (stateQueues.get(key) === mine) stateQueues.delete(key);
        }
      });
    },

    sweep(): Promise<number> {
      return run('sweep', sweepNow);
    },

    // Plain keys with Redis's own expiry: a record is one value, read and written whole.
    jobRecords: {
      put: (key, value, ttlMs) =>
        run('putJobRecord', async () => {
          await link.send(['SET', `${jobPrefix}${key}`, value, 'PX', String(Math.max(1, Math.ceil(ttlMs)))]);
        }),
      get: key =>
        run('getJobRecord', async () => {
          const value = await link.send(['GET', `${jobPrefix}${key}`]);
          return typeof value === 'string' ? value : undefined;
        }),
      delete: key =>
        run('deleteJobRecord', async () => {
          await link.send(['DEL', `${jobPrefix}${key}`]);
        }),
    },

    ready(): Promise<void> {
      return link.ready(connectTimeoutMs).catch(error => {
        throw isExaiError(error)
          ? new ExaiError('not_configured', `EXAI_STORE=redis: ${error.message}`, { retryable: false })
          : error;
      });
    },

    health(): StoreHealth {
      const lastError = link.lastError();
      return {
        connected: link.isConnected(),
        url: link.displayUrl,
        ...(lastError !== undefined && { lastError }),
      };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await link.close();
    },
  };
}

/** [head, updatedAt, state, version, turns[]] as the scripts' snapshot() returns it. */
function readSnapshot(fields: unknown[]): Snapshot {
  const [head, updatedAt, state, version, turns] = fields as [string, string, string, string, string[]];
  const parsed = JSON.parse(head) as Head;
  const thread: Thread = {
    id: parsed.id,
    toolName: parsed.toolName,
    createdAt: parsed.createdAt,
    updatedAt,
    turns: turns.map(t => JSON.parse(t) as ConversationTurn),
    initialContext: parsed.initialContext,
    state: JSON.parse(state) as Record<string, unknown>,
  };
  if (parsed.parentId !== undefined) thread.parentId = parsed.parentId;
  return { thread, version };
}
