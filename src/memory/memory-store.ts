/**
 * In-process conversation store. Every method runs synchronously to completion before its promise settles,
 * so appends and state updates are atomic by construction (one event loop, no awaits inside). Values are
 * copied through JSON on the way in and out, so a caller never holds the store's own objects and behaviour
 * matches the SQLite store exactly. Expiry is checked on read; expired threads stay until sweep().
 */
import { randomUUID } from 'node:crypto';
import {
  cancelledBeforeStart,
  canonicalId,
  checkCreate,
  checkNewState,
  checkTurns,
  jsonCopy,
  resolveOptions,
  storeClosed,
  sweepIntervalMs,
  threadNotFound,
  tooManyTurns,
} from './common.js';
import type {
  ConversationStore,
  ConversationTurn,
  CreateThreadInput,
  StoreOptions,
  Thread,
} from './types.js';

interface Entry {
  thread: Thread;
  expiresAt: number;
}

export function createMemoryStore(options: StoreOptions): ConversationStore {
  const { ttlMs, maxTurns, now } = resolveOptions(options);
  const threads = new Map<string, Entry>();
  let closed = false;
  let lastSweep = Number.NEGATIVE_INFINITY;

  function live(rawId: string): Entry {
    if (closed) throw storeClosed('memory');
    const id = canonicalId(rawId);
    const entry = threads.get(id);
    if (entry === undefined || entry.expiresAt <= now()) throw threadNotFound(id, ttlMs);
    return entry;
  }

  function touch(entry: Entry): void {
    const at = now();
    entry.thread.updatedAt = new Date(at).toISOString();
    entry.expiresAt = at + ttlMs;
  }

  function append(id: string, turns: ConversationTurn[]): Thread {
    const entry = live(id);
    checkTurns(turns, false);
    if (entry.thread.turns.length + turns.length > maxTurns) {
      throw tooManyTurns(entry.thread.id, maxTurns, turns.length);
    }
    entry.thread.turns.push(...jsonCopy(turns));
    touch(entry);
    return jsonCopy(entry.thread);
  }

  function sweepNow(): number {
    const at = now();
    lastSweep = at;
    let removed = 0;
    for (const [id, entry] of threads) {
      if (entry.expiresAt <= at) {
        threads.delete(id);
        removed++;
      }
    }
    return removed;
  }

  return {
    kind: 'memory',

    async create(input: CreateThreadInput, signal?: AbortSignal): Promise<Thread> {
      if (closed) throw storeClosed('memory');
      cancelledBeforeStart(signal);
      const turns = checkCreate(input, maxTurns);
      if (now() - lastSweep >= sweepIntervalMs(ttlMs)) sweepNow();
      const at = now();
      const iso = new Date(at).toISOString();
      const thread: Thread = {
        id: randomUUID(),
        toolName: input.toolName,
        createdAt: iso,
        updatedAt: iso,
        turns: jsonCopy(turns),
        initialContext: jsonCopy(input.initialContext ?? {}),
        state: {},
      };
      if (input.parentId !== undefined) thread.parentId = input.parentId.toLowerCase();
      threads.set(thread.id, { thread, expiresAt: at + ttlMs });
      return jsonCopy(thread);
    },

    async get(id: string): Promise<Thread> {
      return jsonCopy(live(id).thread);
    },

    async appendTurns(id: string, turns: ConversationTurn[]): Promise<Thread> {
      return append(id, turns);
    },

    async appendTurn(id: string, turn: ConversationTurn): Promise<Thread> {
      return append(id, [turn]);
    },

    async updateState(id, update): Promise<Thread> {
      const entry = live(id);
      // Copy first: an updater that mutates its argument and then throws must leave the stored state intact.
      const next = checkNewState(update(jsonCopy(entry.thread.state)));
      entry.thread.state = jsonCopy(next);
      touch(entry);
      return jsonCopy(entry.thread);
    },

    async listRecent(limit: number): Promise<Thread[]> {
      if (closed) throw storeClosed('memory');
      const at = now();
      return [...threads.values()]
        .filter(entry => entry.expiresAt > at)
        .sort((a, b) => b.expiresAt - a.expiresAt)
        .slice(0, Math.max(0, limit))
        .map(entry => jsonCopy(entry.thread));
    },

    async sweep(): Promise<number> {
      if (closed) throw storeClosed('memory');
      return sweepNow();
    },

    async close(): Promise<void> {
      closed = true;
      threads.clear();
    },
  };
}
