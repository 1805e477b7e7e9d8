/**
 * Opening the SQLite file: folder, pragmas, schema migrations. Every failure names the file and leaves it
 * untouched — it holds the user's conversations, so we never delete or "repair" it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { ExaiError, isExaiError } from '../errors.js';

/** Index i upgrades schema version i to i + 1. Append only; never edit a shipped entry. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE threads (
     id              TEXT PRIMARY KEY,
     parent_id       TEXT,
     tool_name       TEXT NOT NULL,
     created_at      TEXT NOT NULL,
     updated_at      TEXT NOT NULL,
     expires_at      INTEGER NOT NULL,  -- epoch ms; the TTL lives in the row so every process agrees on it
     turn_count      INTEGER NOT NULL DEFAULT 0,
     initial_context TEXT NOT NULL,     -- JSON
     state           TEXT NOT NULL      -- JSON, per-thread workflow state
   ) STRICT;
   CREATE INDEX threads_by_expiry ON threads (expires_at);
   CREATE TABLE turns (
     thread_id      TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
     seq            INTEGER NOT NULL,   -- 1-based position; the primary key makes a lost race fail loudly
     role           TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
     content        TEXT NOT NULL,
     timestamp      TEXT NOT NULL,
     files          TEXT,               -- JSON array
     images         TEXT,               -- JSON array
     tool_name      TEXT,
     model_provider TEXT,
     model_name     TEXT,
     metadata       TEXT,               -- JSON object
     PRIMARY KEY (thread_id, seq)
   ) STRICT, WITHOUT ROWID;`,
  `CREATE TABLE job_records (
     key        TEXT PRIMARY KEY,
     value      TEXT NOT NULL,     -- JSON: a finished model answer, or a running job's marker
     expires_at INTEGER NOT NULL   -- epoch ms
   ) STRICT, WITHOUT ROWID;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Translates a SQLite failure into an ExaiError naming the file; ExaiErrors and caller errors pass through. */
export function storeError(dbPath: string, operation: string, error: unknown): unknown {
  if (isExaiError(error) || !(error instanceof Database.SqliteError)) return error;
  if (error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED')) {
    return new ExaiError(
      'overloaded',
      `Conversation store ${dbPath}: ${operation} could not get the database lock within the busy timeout; ` +
        `another exai-mcp process holds it (${error.code}).`,
      { cause: error },
    );
  }
  return new ExaiError(
    'upstream_error',
    `Conversation store ${dbPath}: ${operation} failed: ${error.message} (${error.code}).`,
    {
      cause: error,
      retryable: false,
      code: error.code,
    },
  );
}

/**
 * better-sqlite3's compiled addon fits one Node ABI: run with another Node than the one `npm ci` used and
 * loading it fails with ERR_DLOPEN_FAILED naming both NODE_MODULE_VERSIONs
 * (https://nodejs.org/api/errors.html#err_dlopen_failed). The file is fine; the addon needs rebuilding.
 */
export function nativeModuleMismatch(error: unknown): ExaiError | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code !== 'ERR_DLOPEN_FAILED' && !/NODE_MODULE_VERSION/.test(message)) return undefined;
  const versions = /NODE_MODULE_VERSION (\d+)[\s\S]*NODE_MODULE_VERSION (\d+)/.exec(message);
  const why = versions
    ? `was built for another Node.js (NODE_MODULE_VERSION ${versions[1]}; this Node ${process.version} needs ${versions[2]})`
    : `does not load in this Node ${process.version} (${message.split('\n', 1)[0]})`;
  return new ExaiError(
    'not_configured',
    `better-sqlite3 (the conversation store's native module) ${why}: ` +
      'run `npm rebuild better-sqlite3` with this Node, or set EXAI_STORE=memory.',
    { cause: error },
  );
}

function openFailure(dbPath: string, error: unknown): ExaiError {
  if (isExaiError(error)) return error;
  const mismatch = nativeModuleMismatch(error);
  if (mismatch) return mismatch;
  const detail = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  return new ExaiError(
    'not_configured',
    `Cannot open the conversation store at ${dbPath}: ${detail}${typeof code === 'string' ? ` (${code})` : ''}. ` +
      'The file was left untouched. If it is damaged, move it aside (it is yours to inspect), or set ' +
      'EXAI_DATA_DIR to another folder, or EXAI_STORE=memory to run without persistence.',
    { cause: error },
  );
}

function migrate(db: Database.Database, dbPath: string): void {
  // IMMEDIATE: two processes starting together must not both run the same migration.
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT');
    const row = db
      .prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'schema_version'")
      .get();
    const current = row === undefined ? 0 : Number(row.value);
    if (!Number.isInteger(current) || current < 0 || current > SCHEMA_VERSION) {
      throw new ExaiError(
        'not_configured',
        `The conversation store at ${dbPath} has schema version ${row?.value}, but this exai-mcp knows up to ` +
          `${SCHEMA_VERSION}. It was probably written by a newer exai-mcp: upgrade, or set EXAI_DATA_DIR to another folder.`,
      );
    }
    for (const sql of MIGRATIONS.slice(current)) db.exec(sql);
    db.prepare(
      "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(String(SCHEMA_VERSION));
  }).immediate();
}

/** Opens (creating if needed) and migrates the database; throws ExaiError not_configured naming the path. */
export function openDatabase(dbPath: string, busyTimeoutMs: number): Database.Database {
  const inMemory = dbPath === ':memory:';
  let existed = true;
  if (!inMemory) {
    try {
      fs.mkdirSync(path.dirname(dbPath), { recursive: true, mode: 0o700 });
      existed = fs.existsSync(dbPath);
    } catch (error) {
      throw openFailure(dbPath, error);
    }
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath, { timeout: busyTimeoutMs });
    // A new file gets owner-only access: turns hold prompts and code. SQLite gives -wal/-shm the same mode.
    if (!existed && process.platform !== 'win32') fs.chmodSync(dbPath, 0o600);
    // journal_mode is the first statement that reads the header, so a corrupt file fails here.
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, dbPath);
    return db;
  } catch (error) {
    db?.close();
    throw openFailure(dbPath, error);
  }
}
