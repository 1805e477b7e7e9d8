import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Checkpointer, startCheckpointer } from '../../src/memory/sqlite-checkpoint.js';
import { openDatabase } from '../../src/memory/sqlite-schema.js';
import { createSqliteStore } from '../../src/memory/sqlite-store.js';

const HOUR = 3_600_000;

describe('WAL checkpoints on a worker thread', () => {
  let dir: string;
  let dbPath: string;
  let db: Database.Database | undefined;
  let checkpoints: Checkpointer | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exai-checkpoint-'));
    dbPath = path.join(dir, 'conversations.db');
  });
  afterEach(async () => {
    await checkpoints?.close();
    db?.close();
    checkpoints = undefined;
    db = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function writeRecords(from: number, count: number): void {
    const put = db!.prepare('INSERT INTO job_records (key, value, expires_at) VALUES (?, ?, ?)');
    for (let i = from; i < from + count; i++) {
      put.run(`key-${i}`, 'x'.repeat(500), Date.now() + HOUR);
      checkpoints!.wrote();
    }
  }

  const walBytes = () => fs.statSync(`${dbPath}-wal`).size;
  const logFrames = () =>
    (db!.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>)[0];

  it('takes the checkpoints out of the commits and runs them on the worker, in the background', async () => {
    db = openDatabase(dbPath, 5000);
    checkpoints = startCheckpointer(db, dbPath, { everyWrites: 10, busyTimeoutMs: 5000 });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    for (let round = 0; round < 5; round++) {
      writeRecords(round * 10, 10);
      // The worker's answer comes in through the event loop.
      const until = performance.now() + 10_000;
      while (checkpoints.completed <= round && performance.now() < until) {
        await new Promise(resolve => setTimeout(resolve, 5));
      }
    }
    expect(checkpoints.completed).toBe(5);
    // Everything committed so far is already in the database file: nothing is left to copy.
    const { log, checkpointed } = logFrames()!;
    expect(checkpointed).toBe(log);
    expect(db.prepare('SELECT count(*) AS n FROM job_records').get()).toEqual({ n: 50 });
  });

  it('keeps the log bounded when the worker cannot keep up (here: its answers never get in)', () => {
    db = openDatabase(dbPath, 5000);
    checkpoints = startCheckpointer(db, dbPath, { everyWrites: 10, busyTimeoutMs: 5000 });
    // 2,000 commits without yielding once: without a checkpoint the log would pass 2,000 pages (8 MB).
    writeRecords(0, 2000);
    expect(walBytes()).toBeLessThan(2 * 1024 * 1024);
    expect(db.prepare('SELECT count(*) AS n FROM job_records').get()).toEqual({ n: 2000 });
  });

  it('closes the worker first, so the store loses nothing and leaves no log behind', async () => {
    const open = () => createSqliteStore({ path: dbPath, ttlMs: HOUR, maxTurns: 1000 });
    const store = open();
    const turn = { role: 'user' as const, content: 'hello', timestamp: new Date(0).toISOString() };
    const thread = await store.create({ toolName: 'chat', turns: [turn] });
    for (let i = 0; i < 300; i++) {
      await store.appendTurn(thread.id, { ...turn, content: `turn ${i}` });
      if (i % 50 === 0) await new Promise(resolve => setImmediate(resolve));
    }
    await store.close();
    expect(fs.existsSync(`${dbPath}-wal`)).toBe(false);
    const reopened = open();
    try {
      const read = await reopened.get(thread.id);
      expect(read.turns).toHaveLength(301);
      expect(read.turns.at(-1)?.content).toBe('turn 299');
    } finally {
      await reopened.close();
    }
  });
});
