/** The conversation memory layer: pick a store by configuration, build history text for a continuation. */

import { ExaiError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { createMemoryStore } from './memory-store.js';
import { createRedisStore } from './redis-store.js';
import { createSqliteStore, defaultDbPath } from './sqlite-store.js';
import type { ConversationStore, StoreOptions } from './types.js';

export {
  type BuiltConversation,
  buildConversation,
  estimateTokens,
  fileBlock,
  type HistoryOptions,
  keptFrom,
  numberLines,
  type PromptMessage,
  referencedFiles,
  type TokenBudget,
  tokenBudget,
} from './history.js';
export { createMemoryStore } from './memory-store.js';
export { createRedisStore, type RedisStoreOptions } from './redis-store.js';
export { createSqliteStore, defaultDataDir, defaultDbPath, type SqliteStoreOptions } from './sqlite-store.js';
export type {
  ConversationStore,
  ConversationTurn,
  CreateThreadInput,
  StoreHealth,
  StoreOptions,
  Thread,
} from './types.js';

export type StoreKind = ConversationStore['kind'];

export interface CreateStoreOptions extends StoreOptions {
  /** SQLite only: the database file; defaults to `conversations.db` in {@link defaultDataDir}(process.env). */
  path?: string;
  /** SQLite only: how long a write waits for another process's lock. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Redis only (required): redis:// or rediss:// URL. */
  url?: string;
  /** Redis only: prefix of every key. Default `exai:`. */
  keyPrefix?: string;
  /** Redis only: connection state changes are logged here. */
  logger?: Logger;
}

/** For 'redis', await `store.ready?.()` before serving: construction does not wait for the connection. */
export function createStore(kind: StoreKind, options: CreateStoreOptions): ConversationStore {
  const { path, busyTimeoutMs, url, keyPrefix, logger, ...common } = options;
  if (kind === 'memory') return createMemoryStore(common);
  if (kind === 'redis') {
    if (url === undefined) {
      throw new ExaiError('not_configured', 'EXAI_STORE=redis needs REDIS_URL (e.g. redis://redis:6379).');
    }
    return createRedisStore({
      ...common,
      url,
      ...(keyPrefix !== undefined && { keyPrefix }),
      ...(logger !== undefined && { logger }),
    });
  }
  return createSqliteStore({
    ...common,
    path: path ?? defaultDbPath(),
    ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }),
  });
}
