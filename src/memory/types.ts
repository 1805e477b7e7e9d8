/**
 * The conversation store port. SQLite (default, shared by every server process on one machine), in-memory
 * (tests, EXAI_STORE=memory) and Redis (several replicas, EXAI_STORE=redis) implement it with the same
 * guarantees: appends and state updates are atomic per thread (a batch of turns lands whole, contiguous and in
 * order, or not at all), expiry is `ttlMs` after the last write, and every failure is an ExaiError (`not_found` for unknown/malformed/expired ids, `bad_request` past `maxTurns`).
 */

export interface ConversationTurn {
  role: 'user' | 'assistant';
  content: string;
  /** ISO 8601. */
  timestamp: string;
  files?: string[];
  images?: string[];
  toolName?: string;
  modelProvider?: string;
  modelName?: string;
  /** Must be JSON-serialisable: stores persist it as JSON. */
  metadata?: Record<string, unknown>;
}

export interface Thread {
  /** UUID v4. */
  id: string;
  parentId?: string;
  toolName: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; the time of the last append or state update. */
  updatedAt: string;
  /** Oldest first. */
  turns: ConversationTurn[];
  initialContext: Record<string, unknown>;
  /** per-thread workflow state (step history, consolidated findings) keyed by the tool; never shared across threads */
  state: Record<string, unknown>;
}

export interface CreateThreadInput {
  toolName: string;
  initialContext?: Record<string, unknown>;
  parentId?: string;
  /** Stored with the thread in the same write, in order (a first exchange: the user's turn and the answer). */
  turns?: ConversationTurn[];
}

export interface ConversationStore {
  create(input: CreateThreadInput, signal?: AbortSignal): Promise<Thread>;
  /** Throws ExaiError not_found (unknown, malformed UUID, or expired) with a message telling the agent what to do. */
  get(id: string): Promise<Thread>;
  /**
   * Appends the turns in one atomic write: they land contiguously and in order (two concurrent batches both
   * land, one after the other, never interleaved), or — when the thread cannot hold them all within maxTurns,
   * or a turn is invalid — none does (ExaiError bad_request). Refreshes the TTL. Returns the updated thread.
   */
  appendTurns(id: string, turns: ConversationTurn[]): Promise<Thread>;
  /** appendTurns(id, [turn]). */
  appendTurn(id: string, turn: ConversationTurn): Promise<Thread>;
  /**
   * Atomic read-modify-write of thread.state (the updater runs inside the store's transaction/lock; it must be
   * synchronous). The Redis store runs it optimistically and calls it again when another replica updated the
   * state in between, so it must be a pure function of its argument. Refreshes the TTL.
   */
  updateState(
    id: string,
    update: (state: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<Thread>;
  /**
   * The live threads most recently written first, at most `limit` of them, as full threads (a thread that
   * expires between the listing and its read is left out).
   */
  listRecent(limit: number): Promise<Thread[]>;
  /** Removes expired threads; returns how many. */
  sweep(): Promise<number>;
  close(): Promise<void>;
  /**
   * Job records shared with the other processes of this store (SQLite: one machine; Redis: every replica).
   * Absent for the in-memory store, whose process keeps its jobs' answers itself.
   */
  readonly jobRecords?: JobRecords;
  readonly kind: 'sqlite' | 'memory' | 'redis';
  /**
   * Network stores only: resolves once the backend answers, rejects with ExaiError not_configured naming it
   * (without credentials). Startup awaits it so a wrong REDIS_URL fails at once, not on the first call.
   */
  ready?(): Promise<void>;
  /** Network stores only: whether the backend is reachable now, for status and /readyz. */
  health?(): StoreHealth;
}

/**
 * Short-lived records of model jobs that every process sharing the store can read: a finished answer
 * waiting to be collected, and a marker saying a job is running somewhere. Values are opaque JSON text.
 */
export interface JobRecords {
  /** Writes or replaces the record; it disappears `ttlMs` later. */
  put(key: string, value: string, ttlMs: number): Promise<void>;
  /** The live record, or undefined when there is none or it has expired. */
  get(key: string): Promise<string | undefined>;
  delete(key: string): Promise<void>;
}

export interface StoreHealth {
  connected: boolean;
  /** The backend's address without credentials. */
  url: string;
  /** The last connection error while disconnected. */
  lastError?: string;
}

export interface StoreOptions {
  /** A thread expires this long after its last write (create, append, state update). */
  ttlMs: number;
  /** Most turns one thread may hold, the first turn included. */
  maxTurns: number;
  /** Epoch milliseconds; injected by tests to move time. */
  now?: () => number;
}
