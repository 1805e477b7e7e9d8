/** The conversation memory layer: pick a store by configuration, build history text for a continuation. */
import { createMemoryStore } from './memory-store.js';
import { createSqliteStore, defaultDbPath } from './sqlite-store.js';
import type { ConversationStore, StoreOptions } from './types.js';

export {
  type BuiltHistory,
  buildConversationHistory,
  estimateTokens,
  type HistoryOptions,
  referencedFiles,
  type TokenBudget,
  tokenBudget,
} from './history.js';
export { createMemoryStore } from './memory-store.js';
export { createSqliteStore, defaultDataDir, defaultDbPath, type SqliteStoreOptions } from './sqlite-store.js';
export type {
  ConversationStore,
  ConversationTurn,
  CreateThreadInput,
  StoreOptions,
  Thread,
} from './types.js';

export interface CreateStoreOptions extends StoreOptions {
  /** SQLite only: the database file; defaults to `conversations.db` in {@link defaultDataDir}(process.env). */
  path?: string;
  /** SQLite only: how long a write waits for another process's lock. Default 5000 ms. */
  busyTimeoutMs?: number;
}

export function createStore(kind: 'sqlite' | 'memory', options: CreateStoreOptions): ConversationStore {
  const { path, busyTimeoutMs, ...common } = options;
  if (kind === 'memory') return createMemoryStore(common);
  return createSqliteStore({
    ...common,
    path: path ?? defaultDbPath(),
    ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }),
  });
}
