import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isExaiError } from '../../src/errors.js';
import { createStore } from '../../src/memory/index.js';
import { createSqliteStore, defaultDataDir, type SqliteStoreOptions } from '../../src/memory/sqlite-store.js';
import type { ConversationStore, ConversationTurn } from '../../src/memory/types.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = path.join(ROOT, 'test/fixtures/append-turns.ts');
const HOUR = 3_600_000;

function turn(content: string): ConversationTurn {
  return { role: 'user', content, timestamp: new Date(0).toISOString() };
}

function contentsBy(turns: ConversationTurn[], label: string): string[] {
  return turns.map(t => t.content).filter(c => c.startsWith(`${label}-`));
}

describe('sqlite conversation store', () => {
  let dir: string;
  let dbPath: string;
  const stores: ConversationStore[] = [];
  const children: ChildProcess[] = [];

  function open(extra: Partial<SqliteStoreOptions> = {}): ConversationStore {
    const store = createSqliteStore({ path: dbPath, ttlMs: HOUR, maxTurns: 1000, ...extra });
    stores.push(store);
    return store;
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exai-sqlite-'));
    dbPath = path.join(dir, 'nested', 'data', 'conversations.db');
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill();
    for (const store of stores.splice(0)) await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('continues a thread after the store is closed and reopened on the same file', async () => {
    const first = open();
    const { id } = await first.create({ toolName: 'debug', turns: [turn('q1')], initialContext: { a: 1 } });
    await first.updateState(id, () => ({ steps: [1] }));
    await first.close();

    const second = open();
    const continued = await second.appendTurn(id, turn('q2'));
    expect(continued.turns.map(t => t.content)).toEqual(['q1', 'q2']);
    expect(continued).toMatchObject({ toolName: 'debug', initialContext: { a: 1 }, state: { steps: [1] } });
  });

  it('keeps job records for their TTL, shared by two store instances on one file', async () => {
    let clock = 1_000_000;
    const writer = open({ now: () => clock });
    const reader = open({ now: () => clock });
    await writer.jobRecords?.put('result:abc', '{"content":"x"}', 5_000);
    expect(await reader.jobRecords?.get('result:abc')).toBe('{"content":"x"}');
    await writer.jobRecords?.put('result:abc', '{"content":"y"}', 5_000);
    expect(await reader.jobRecords?.get('result:abc')).toBe('{"content":"y"}');
    clock += 5_000;
    expect(await reader.jobRecords?.get('result:abc')).toBeUndefined();
    await writer.jobRecords?.put('running:abc', '{}', 5_000);
    await reader.jobRecords?.delete('running:abc');
    expect(await writer.jobRecords?.get('running:abc')).toBeUndefined();
  });

  it('loses no turn when two store instances on one file append 50 turns each concurrently', async () => {
    const a = open();
    const b = open();
    const { id } = await a.create({ toolName: 'chat' });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => [
        a.appendTurn(id, turn(`a-${i}`)),
        b.appendTurn(id, turn(`b-${i}`)),
      ]).flat(),
    );
    const turns = (await b.get(id)).turns;
    expect(turns).toHaveLength(100);
    expect(contentsBy(turns, 'a')).toEqual(Array.from({ length: 50 }, (_, i) => `a-${i}`));
    expect(contentsBy(turns, 'b')).toEqual(Array.from({ length: 50 }, (_, i) => `b-${i}`));
  });

  it('enforces maxTurns across instances sharing the file', async () => {
    const a = open({ maxTurns: 10 });
    const b = open({ maxTurns: 10 });
    const { id } = await a.create({ toolName: 'chat' });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => [
        a.appendTurn(id, turn(`a-${i}`)),
        b.appendTurn(id, turn(`b-${i}`)),
      ]).flat(),
    );
    expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(10);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ kind: 'bad_request' });
    expect((await a.get(id)).turns).toHaveLength(10);
  });

  /** Two child processes on the shared file, released at once; resolves when both exited cleanly. */
  async function appendFromTwoProcesses(id: string, count: number, mode?: 'exchanges'): Promise<void> {
    const runs = ['p1', 'p2'].map(label => {
      const args = [FIXTURE, dbPath, id, String(count), label, ...(mode ? [mode] : [])];
      const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', chunk => {
        stdout += chunk;
      });
      child.stderr.on('data', chunk => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>(resolve => child.once('exit', resolve));
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => stdout.includes('ready') && resolve());
        void exited.then(code => reject(new Error(`${label} exited with ${code} before ready: ${stderr}`)));
      });
      return { child, ready, exited, output: () => ({ stdout, stderr }) };
    });

    await Promise.all(runs.map(r => r.ready));
    for (const r of runs) r.child.stdin?.end('go\n');
    for (const r of runs) {
      expect(await r.exited, r.output().stderr).toBe(0);
      expect(r.output().stdout).toContain('done');
    }
  }

  it('loses no turn when two server processes append to one thread at the same time', async () => {
    const store = open();
    const { id } = await store.create({ toolName: 'chat' });
    const perChild = 40;
    await appendFromTwoProcesses(id, perChild);
    const turns = (await store.get(id)).turns;
    expect(turns).toHaveLength(2 * perChild);
    for (const label of ['p1', 'p2']) {
      expect(contentsBy(turns, label)).toEqual(Array.from({ length: perChild }, (_, i) => `${label}-${i}`));
    }
  });

  it('keeps each exchange whole when two server processes continue one thread at the same time', async () => {
    const store = open();
    const { id } = await store.create({ toolName: 'chat' });
    const perChild = 20;
    await appendFromTwoProcesses(id, perChild, 'exchanges');
    const turns = (await store.get(id)).turns;
    expect(turns).toHaveLength(4 * perChild);
    const pairs = Array.from({ length: 2 * perChild }, (_, i) => turns.slice(2 * i, 2 * i + 2));
    const broken = pairs.filter(
      ([q, r]) => r?.role !== 'assistant' || r.content !== q?.content.replace('?', '!'),
    );
    expect(broken).toEqual([]);
    for (const label of ['p1', 'p2']) {
      const questions = pairs.map(([q]) => q?.content ?? '').filter(c => c.startsWith(`${label}-`));
      expect(questions).toEqual(Array.from({ length: perChild }, (_, i) => `${label}-${i}?`));
    }
  });

  it('fails on a corrupt file with a message naming the path, leaving the file untouched', () => {
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    const garbage = 'this is not a database, it is a user file that must survive\n'.repeat(100);
    fs.writeFileSync(dbPath, garbage);
    let caught: unknown;
    try {
      open();
    } catch (error) {
      caught = error;
    }
    expect(isExaiError(caught)).toBe(true);
    expect(caught).toMatchObject({ kind: 'not_configured' });
    expect((caught as Error).message).toContain(dbPath);
    expect((caught as Error).message).toMatch(/left untouched/);
    expect(fs.readFileSync(dbPath, 'utf8')).toBe(garbage);
  });

  it('refuses a file written by a newer schema version, naming the path', () => {
    const store = open();
    void store.close();
    const raw = new Database(dbPath);
    raw.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    raw.close();
    expect(() => open()).toThrow(
      new RegExp(`${dbPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*schema version 99`),
    );
  });

  it('creates the missing parent folder owner-only and records the schema version', () => {
    open();
    if (process.platform !== 'win32') {
      expect(fs.statSync(path.dirname(dbPath)).mode & 0o777).toBe(0o700);
      expect(fs.statSync(dbPath).mode & 0o777).toBe(0o600);
    }
    const raw = new Database(dbPath, { readonly: true });
    expect(raw.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: '2' });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('deletes the turns of swept threads with their thread', async () => {
    let clock = Date.UTC(2025, 0, 1);
    const store = open({ now: () => clock });
    const { id } = await store.create({ toolName: 'chat', turns: [turn('q1')] });
    await store.appendTurn(id, turn('q2'));
    clock += HOUR;
    expect(await store.sweep()).toBe(1);
    const raw = new Database(dbPath, { readonly: true });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM turns').get()).toEqual({ n: 0 });
    raw.close();
  });

  it('works on an in-memory database', async () => {
    dbPath = ':memory:';
    const store = open();
    const { id } = await store.create({ toolName: 'chat', turns: [turn('q1')] });
    expect((await store.get(id)).turns).toHaveLength(1);
  });

  it('is what createStore builds for "sqlite", and the memory store for "memory"', async () => {
    const sqlite = createStore('sqlite', { path: dbPath, ttlMs: HOUR, maxTurns: 3 });
    const memory = createStore('memory', { ttlMs: HOUR, maxTurns: 3 });
    stores.push(sqlite, memory);
    expect([sqlite.kind, memory.kind]).toEqual(['sqlite', 'memory']);
    expect(fs.existsSync(dbPath)).toBe(true);
  });
});

describe('defaultDataDir', () => {
  const home = '/home/ada';
  it.each([
    [
      'EXAI_DATA_DIR wins over everything',
      { EXAI_DATA_DIR: '/data/exai', XDG_DATA_HOME: '/xdg' },
      'linux',
      '/data/exai',
    ],
    ['XDG_DATA_HOME next', { XDG_DATA_HOME: '/xdg' }, 'linux', '/xdg/exai-mcp'],
    ['XDG_DATA_HOME also on macOS', { XDG_DATA_HOME: '/xdg' }, 'darwin', '/xdg/exai-mcp'],
    [
      'a relative XDG_DATA_HOME is ignored',
      { XDG_DATA_HOME: 'rel' },
      'linux',
      '/home/ada/.local/share/exai-mcp',
    ],
    [
      'empty values count as unset',
      { EXAI_DATA_DIR: '', XDG_DATA_HOME: ' ' },
      'linux',
      '/home/ada/.local/share/exai-mcp',
    ],
    ['~/.local/share on Linux', {}, 'linux', '/home/ada/.local/share/exai-mcp'],
    ['Application Support on macOS', {}, 'darwin', '/home/ada/Library/Application Support/exai-mcp'],
    [
      'LOCALAPPDATA on Windows',
      { LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' },
      'win32',
      'C:\\Users\\ada\\AppData\\Local\\exai-mcp',
    ],
  ] as const)('%s', (_name, env, platform, expected) => {
    expect(defaultDataDir({ ...env }, platform, home)).toBe(expected);
  });
});
