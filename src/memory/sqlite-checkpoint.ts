/**
 * WAL checkpoints on a worker thread, off the event loop.
 *
 * By default SQLite checkpoints inside the commit that takes the write-ahead log past 1,000 pages
 * (https://www.sqlite.org/wal.html#automatic_checkpoint), and with synchronous=NORMAL a checkpoint waits for
 * two fsyncs (https://www.sqlite.org/pragma.html#pragma_synchronous). better-sqlite3 is synchronous, so that
 * wait froze every call in flight: a thread create cost ~500 µs of wall time for ~200 µs of CPU on a shared
 * VM disk. Here the serving connection's automatic checkpoints are off and a worker thread with its own
 * connection runs a PASSIVE checkpoint after every `everyWrites` write transactions: the same kind SQLite
 * would run itself (it never waits for a reader or a writer), so nothing committed changes or is lost, and
 * SQLite still checkpoints the rest when the last connection closes.
 *
 * The worker starts at the first checkpoint (most stdio sessions never write that much) and never keeps the
 * process alive. If it cannot start or fails, the connection gets its automatic checkpoints back.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

export interface Checkpointer {
  /** One write transaction committed. */
  wrote(): void;
  /** Checkpoints the worker has finished. */
  readonly completed: number;
  /** Stops the worker (after its checkpoint in flight, if any); call before closing the connection. */
  close(): Promise<void>;
}

export interface CheckpointerOptions {
  /** Write transactions between two checkpoints. Default 100 (SQLite's 1,000 pages at ~10 pages each). */
  everyWrites?: number;
  busyTimeoutMs: number;
}

/** SQLite's own default, restored when the worker is unavailable. */
const AUTO_CHECKPOINT_PAGES = 1000;
/** Checkpoints the worker may fall behind by before the serving connection runs one itself. */
const MAX_PENDING = 4;
/** How long close() waits for a checkpoint in flight before stopping the worker regardless. */
const CLOSE_WAIT_MS = 5_000;

// Plain CommonJS evaluated in the worker: no loader (tsx, vitest) has to reach the thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs });
db.pragma('wal_autocheckpoint = 0');
parentPort.on('message', message => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage('done');
  } catch (error) {
    // Another process checkpointing the same file at this moment: its checkpoint does the work.
    const busy = /^SQLITE_(BUSY|LOCKED)/.test(String(error && error.code));
    parentPort.postMessage(busy ? 'done' : String(error && error.message));
  }
});
`;

export function startCheckpointer(
  db: Database.Database,
  dbPath: string,
  options: CheckpointerOptions,
): Checkpointer {
  const everyWrites = options.everyWrites ?? 100;
  let writes = 0;
  let worker: Worker | undefined;
  /** Checkpoints asked of the worker and not yet done. */
  let pending = 0;
  let completed = 0;
  let failed = false;
  let closed = false;
  db.pragma('wal_autocheckpoint = 0');

  /** The worker is gone for good: SQLite checkpoints in the commits again, as it does by default. */
  function fallBack(): void {
    failed = true;
    worker = undefined;
    if (!closed && db.open) db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  }

  function spawn(): Worker | undefined {
    try {
      const module = createRequire(import.meta.url).resolve('better-sqlite3');
      const started = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, path: dbPath, busyTimeoutMs: options.busyTimeoutMs },
      });
      started.unref();
      // 'done' after each checkpoint, or the error's message.
      started.on('message', (reply: string) => {
        if (reply === 'done') {
          pending = Math.max(0, pending - 1);
          completed++;
          return;
        }
        started.terminate().catch(() => {});
        fallBack();
      });
      started.on('error', fallBack);
      started.on('exit', () => {
        if (!closed && worker === started) fallBack();
      });
      return started;
    } catch {
      fallBack();
      return undefined;
    }
  }

  return {
    get completed() {
      return completed;
    },
    wrote() {
      if (closed || failed || ++writes < everyWrites) return;
      writes = 0;
      if (pending >= MAX_PENDING) {
        // The worker is behind (a busy machine, or a loop that never lets its answers in): checkpoint here,
        // as SQLite would have, so the log never grows without bound.
        try {
          db.pragma('wal_checkpoint(PASSIVE)');
        } catch {
          // Another process is checkpointing the file; the write itself has committed either way.
        }
        return;
      }
      worker ??= spawn();
      if (!worker) return;
      // Not waiting for the previous one: the worker runs them in turn, and one with nothing new is cheap.
      pending++;
      worker.postMessage('checkpoint');
    },
    async close() {
      if (closed) return;
      closed = true;
      const running = worker;
      worker = undefined;
      if (!running) return;
      const exited = new Promise<void>(resolve => running.once('exit', () => resolve()));
      // Messages are handled in order: a checkpoint in flight finishes, then the worker closes its connection.
      running.postMessage('close');
      const timer = setTimeout(() => running.terminate().catch(() => {}), CLOSE_WAIT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
