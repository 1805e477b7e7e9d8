/**
 * The default conversation store: one SQLite file in WAL mode, shared by every exai-mcp process on the
 * machine (each MCP client starts its own server). Every write is a `BEGIN IMMEDIATE` transaction that
 * re-reads the thread row, checks expiry and the turn limit, writes, and bumps updated_at/expires_at — so
 * concurrent appenders in different processes serialise on SQLite's lock and never lose a turn.
 *
 * better-sqlite3 is synchronous: a call blocks the event loop for its duration (microseconds, or up to the
 * busy timeout while another process holds the write lock). The async signatures are for the port's sake.
 */
import { randomUUID } from 'node:crypto';
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
import { type Checkpointer, startCheckpointer } from './sqlite-checkpoint.js';
import { openDatabase, storeError } from './sqlite-schema.js';
import type {
  ConversationStore,
  ConversationTurn,
  CreateThreadInput,
  StoreOptions,
  Thread,
} from './types.js';

export { defaultDataDir, defaultDbPath } from './data-dir.js';

export interface SqliteStoreOptions extends StoreOptions {
  /** Database file path (its folder is created with mode 0o700), or ':memory:'. */
  path: string;
  /** How long a write waits for another process's lock before failing as `overloaded`. Default 5000. */
  busyTimeoutMs?: number;
}

interface ThreadRow {
  id: string;
  parent_id: string | null;
  tool_name: string;
  created_at: string;
  updated_at: string;
  expires_at: number;
  turn_count: number;
  initial_context: string;
  state: string;
}

interface TurnRow {
  role: 'user' | 'assistant';
  content: string;
  timestamp: string;
  files: string | null;
  images: string | null;
  tool_name: string | null;
  model_provider: string | null;
  model_name: string | null;
  metadata: string | null;
}

type TurnParams = TurnRow & { thread_id: string; seq: number };

function toTurnParams(threadId: string, seq: number, turn: ConversationTurn): TurnParams {
  const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
  return {
    thread_id: threadId,
    seq,
    role: turn.role,
    content: turn.content,
    timestamp: turn.timestamp,
    files: json(turn.files),
    images: json(turn.images),
    tool_name: turn.toolName ?? null,
    model_provider: turn.modelProvider ?? null,
    model_name: turn.modelName ?? null,
    metadata: json(turn.metadata),
  };
}

function fromTurnRow(row: TurnRow): ConversationTurn {
  const turn: ConversationTurn = { role: row.role, content: row.content, timestamp: row.timestamp };
  if (row.files !== null) turn.files = JSON.parse(row.files) as string[];
  if (row.images !== null) turn.images = JSON.parse(row.images) as string[];
  if (row.tool_name !== null) turn.toolName = row.tool_name;
  if (row.model_provider !== null) turn.modelProvider = row.model_provider;
  if (row.model_name !== null) turn.modelName = row.model_name;
  if (row.metadata !== null) turn.metadata = JSON.parse(row.metadata) as Record<string, unknown>;
  return turn;
}

export function createSqliteStore(options: SqliteStoreOptions): ConversationStore {
  const { ttlMs, maxTurns, now } = resolveOptions(options);
  const dbPath = options.path;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const db = openDatabase(dbPath, busyTimeoutMs);
  // An in-memory database has no write-ahead log to checkpoint.
  const checkpoints: Checkpointer | undefined =
    dbPath === ':memory:' ? undefined : startCheckpointer(db, dbPath, { busyTimeoutMs });

  const sql = {
    thread: db.prepare<[string], ThreadRow>('SELECT * FROM threads WHERE id = ?'),
    turns: db.prepare<[string], TurnRow>(
      `SELECT role, content, timestamp, files, images, tool_name, model_provider, model_name, metadata
         FROM turns WHERE thread_id = ? ORDER BY seq`,
    ),
    insertThread: db.prepare<[Omit<ThreadRow, 'state'>]>(
      `INSERT INTO threads (id, parent_id, tool_name, created_at, updated_at, expires_at, turn_count, initial_context, state)
       VALUES (@id, @parent_id, @tool_name, @created_at, @updated_at, @expires_at, @turn_count, @initial_context, '{}')`,
    ),
    insertTurn: db.prepare<[TurnParams]>(
      `INSERT INTO turns (thread_id, seq, role, content, timestamp, files, images, tool_name, model_provider, model_name, metadata)
       VALUES (@thread_id, @seq, @role, @content, @timestamp, @files, @images, @tool_name, @model_provider, @model_name, @metadata)`,
    ),
    bumpTurns: db.prepare<[number, string, number, string]>(
      'UPDATE threads SET turn_count = ?, updated_at = ?, expires_at = ? WHERE id = ?',
    ),
    setState: db.prepare<[string, string, number, string]>(
      'UPDATE threads SET state = ?, updated_at = ?, expires_at = ? WHERE id = ?',
    ),
    sweep: db.prepare<[number]>('DELETE FROM threads WHERE expires_at <= ?'),
    putRecord: db.prepare<[string, string, number]>(
      `INSERT INTO job_records (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ),
    getRecord: db.prepare<[string, number], { value: string }>(
      'SELECT value FROM job_records WHERE key = ? AND expires_at > ?',
    ),
    deleteRecord: db.prepare<[string]>('DELETE FROM job_records WHERE key = ?'),
    sweepRecords: db.prepare<[number]>('DELETE FROM job_records WHERE expires_at <= ?'),
    // expires_at is updated_at + the TTL, so its index orders threads by their last write.
    recent: db.prepare<[number, number], ThreadRow>(
      'SELECT * FROM threads WHERE expires_at > ? ORDER BY expires_at DESC LIMIT ?',
    ),
  };
  let closed = false;
  let lastSweep = Number.NEGATIVE_INFINITY;

  function readThread(row: ThreadRow): Thread {
    const thread: Thread = {
      id: row.id,
      toolName: row.tool_name,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      turns: sql.turns.all(row.id).map(fromTurnRow),
      initialContext: JSON.parse(row.initial_context) as Record<string, unknown>,
      state: JSON.parse(row.state) as Record<string, unknown>,
    };
    if (row.parent_id !== null) thread.parentId = row.parent_id;
    return thread;
  }

  /** The live row, read inside the caller's transaction so the checks and the write see the same data. */
  function liveRow(id: string, at: number): ThreadRow {
    const row = sql.thread.get(id);
    if (row === undefined || row.expires_at <= at) throw threadNotFound(id, ttlMs);
    return row;
  }

  /** Turns get seq after, after + 1, …: contiguous, since the caller's transaction holds the write lock. */
  function insertTurns(id: string, after: number, turns: ConversationTurn[]): void {
    for (const [i, turn] of turns.entries()) sql.insertTurn.run(toTurnParams(id, after + i + 1, turn));
  }

  function sweepNow(): number {
    const at = now();
    lastSweep = at;
    // Turns go with their thread through ON DELETE CASCADE (foreign_keys is on for this connection).
    return db
      .transaction(() => {
        sql.sweepRecords.run(at);
        return sql.sweep.run(at).changes;
      })
      .immediate();
  }

  /** Runs one store operation: closed check, then SQLite failures translated to ExaiErrors naming the file. */
  function run<T>(operation: string, body: () => T): Promise<T> {
    try {
      if (closed) throw storeClosed('sqlite');
      return Promise.resolve(body());
    } catch (error) {
      return Promise.reject(storeError(dbPath, operation, error));
    }
  }

  /** A store operation that commits a write: it counts towards the next WAL checkpoint. */
  function write<T>(operation: string, body: () => T): Promise<T> {
    return run(operation, () => {
      const result = body();
      checkpoints?.wrote();
      return result;
    });
  }

  const createTx = db.transaction((input: CreateThreadInput, turns: ConversationTurn[]): Thread => {
    const at = now();
    const id = randomUUID();
    const iso = new Date(at).toISOString();
    sql.insertThread.run({
      id,
      parent_id: input.parentId?.toLowerCase() ?? null,
      tool_name: input.toolName,
      created_at: iso,
      updated_at: iso,
      expires_at: at + ttlMs,
      turn_count: turns.length,
      initial_context: JSON.stringify(input.initialContext ?? {}),
    });
    insertTurns(id, 0, turns);
    return readThread(liveRow(id, at));
  });

  // The count check and every insert share one transaction, so a batch lands whole and contiguous: another
  // process's batch waits for the lock and reads the new turn_count.
  const appendTx = db.transaction((id: string, turns: ConversationTurn[]): Thread => {
    // The clock is read after the lock is held: a wait for another process must not shorten the TTL.
    const at = now();
    const row = liveRow(id, at);
    const count = row.turn_count + turns.length;
    if (count > maxTurns) throw tooManyTurns(id, maxTurns, turns.length);
    insertTurns(id, row.turn_count, turns);
    sql.bumpTurns.run(count, new Date(at).toISOString(), at + ttlMs, id);
    return readThread(liveRow(id, at));
  });

  const updateStateTx = db.transaction(
    (id: string, update: (state: Record<string, unknown>) => Record<string, unknown>): Thread => {
      const at = now();
      const row = liveRow(id, at);
      const next = checkNewState(update(JSON.parse(row.state) as Record<string, unknown>));
      sql.setState.run(JSON.stringify(next), new Date(at).toISOString(), at + ttlMs, id);
      return readThread(liveRow(id, at));
    },
  );

  function append(id: string, turns: ConversationTurn[]): Thread {
    const key = canonicalId(id);
    checkTurns(turns, false);
    return appendTx.immediate(key, turns);
  }

  // A deferred (read) transaction gives get() one consistent snapshot of the thread row and its turns.
  const getTx = db.transaction((id: string): Thread => readThread(liveRow(id, now())));
  const recentTx = db.transaction((limit: number): Thread[] =>
    sql.recent.all(now(), Math.max(0, limit)).map(readThread),
  );

  return {
    kind: 'sqlite',

    create(input: CreateThreadInput, signal?: AbortSignal): Promise<Thread> {
      return write('create', () => {
        cancelledBeforeStart(signal);
        const turns = checkCreate(input, maxTurns);
        if (now() - lastSweep >= sweepIntervalMs(ttlMs)) sweepNow();
        return createTx.immediate(input, turns);
      });
    },

    get(id: string): Promise<Thread> {
      return run('get', () => getTx.deferred(canonicalId(id)));
    },

    listRecent(limit: number): Promise<Thread[]> {
      return run('listRecent', () => recentTx.deferred(limit));
    },

    appendTurns(id: string, turns: ConversationTurn[]): Promise<Thread> {
      return write('appendTurns', () => append(id, turns));
    },

    appendTurn(id: string, turn: ConversationTurn): Promise<Thread> {
      return write('appendTurn', () => append(id, [turn]));
    },

    updateState(id, update): Promise<Thread> {
      return write('updateState', () => updateStateTx.immediate(canonicalId(id), update));
    },

    sweep(): Promise<number> {
      return write('sweep', sweepNow);
    },

    jobRecords: {
      put: (key, value, ttlMs) =>
        write('putJobRecord', () => {
          sql.putRecord.run(key, value, now() + Math.ceil(ttlMs));
        }),
      get: key => run('getJobRecord', () => sql.getRecord.get(key, now())?.value),
      delete: key =>
        write('deleteJobRecord', () => {
          sql.deleteRecord.run(key);
        }),
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // The worker's connection goes first, so this one, the last, checkpoints what is left and removes the log.
      await checkpoints?.close();
      db.close();
    },
  };
}
