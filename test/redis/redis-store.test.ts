import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createClient } from '@redis/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isExaiError } from '../../src/errors.js';
import { createStore } from '../../src/memory/index.js';
import { createRedisStore, type RedisStoreOptions } from '../../src/memory/redis-store.js';
import type { ConversationStore, ConversationTurn } from '../../src/memory/types.js';
import { type RedisServer, redisServerBinary, startRedisServer } from '../helpers/redis-server.js';
import { failure, storeSuite } from '../helpers/store-suite.js';

const HOUR = 3_600_000;
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

/** A store on the test Redis under a prefix of its own, connected. */
async function openStore(
  options: Partial<RedisStoreOptions> & { keyPrefix?: string } = {},
): Promise<ConversationStore> {
  const store = createRedisStore({
    url: redis.url,
    ttlMs: HOUR,
    maxTurns: 1000,
    keyPrefix: `test:${randomUUID()}:`,
    ...options,
  });
  await store.ready?.();
  return store;
}

storeSuite('redis', async options => {
  const keyPrefix = `test:${randomUUID()}:`;
  const store = await openStore({ ...options, keyPrefix });
  return { store, twin: () => openStore({ ...options, keyPrefix }), cleanup: () => {} };
});

/** Another writer's state update, done synchronously (redis-cli) so it lands inside a running updater. */
function bumpVersionElsewhere(key: string, state: string): void {
  const cli = join(dirname(redisServerBinary()), 'redis-cli');
  execFileSync(cli, ['-p', String(redis.port), 'HSET', key, 'state', state], { stdio: 'ignore' });
  execFileSync(cli, ['-p', String(redis.port), 'HINCRBY', key, 'version', '1'], { stdio: 'ignore' });
}

function turn(content: string): ConversationTurn {
  return { role: 'user', content, timestamp: new Date(0).toISOString() };
}

describe('redis conversation store across replicas', () => {
  const stores: ConversationStore[] = [];
  async function pair(
    options: Partial<RedisStoreOptions> = {},
  ): Promise<[ConversationStore, ConversationStore]> {
    const keyPrefix = `test:${randomUUID()}:`;
    const a = await openStore({ keyPrefix, ...options });
    const b = await openStore({ keyPrefix, ...options });
    stores.push(a, b);
    return [a, b];
  }
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  it('continues on one instance a thread another created, state included', async () => {
    const [a, b] = await pair();
    const { id } = await a.create({ toolName: 'debug', turns: [turn('q1')], initialContext: { a: 1 } });
    await a.updateState(id, () => ({ steps: [1] }));
    const continued = await b.appendTurn(id, turn('q2'));
    expect(continued.turns.map(t => t.content)).toEqual(['q1', 'q2']);
    expect(continued).toMatchObject({ toolName: 'debug', initialContext: { a: 1 }, state: { steps: [1] } });
  });

  it('loses no turn when two instances append 50 turns each concurrently, each in its own order', async () => {
    const [a, b] = await pair();
    const { id } = await a.create({ toolName: 'chat' });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => [
        a.appendTurn(id, turn(`a-${i}`)),
        b.appendTurn(id, turn(`b-${i}`)),
      ]).flat(),
    );
    const contents = (await b.get(id)).turns.map(t => t.content);
    expect(contents).toHaveLength(100);
    expect(contents.filter(c => c.startsWith('a-'))).toEqual(Array.from({ length: 50 }, (_, i) => `a-${i}`));
    expect(contents.filter(c => c.startsWith('b-'))).toEqual(Array.from({ length: 50 }, (_, i) => `b-${i}`));
  });

  it('applies every concurrent state update from two instances exactly once', async () => {
    const [a, b] = await pair();
    const { id } = await a.create({ toolName: 'debug' });
    await a.updateState(id, () => ({ count: 0 }));
    const bump = (s: Record<string, unknown>) => ({ ...s, count: (s.count as number) + 1 });
    // Appends in between must not disturb the updates (they do not touch the state's version).
    await Promise.all([
      ...Array.from({ length: 15 }, () => a.updateState(id, bump)),
      ...Array.from({ length: 15 }, () => b.updateState(id, bump)),
      ...Array.from({ length: 5 }, (_, i) => b.appendTurn(id, turn(`t${i}`))),
    ]);
    const thread = await a.get(id);
    expect(thread.state).toEqual({ count: 30 });
    expect(thread.turns).toHaveLength(5);
  });

  it('re-runs the updater on the latest state when another writer changed it between read and write', async () => {
    const keyPrefix = `test:${randomUUID()}:`;
    const store = await openStore({ keyPrefix });
    stores.push(store);
    const { id } = await store.create({ toolName: 'debug' });
    await store.updateState(id, () => ({ count: 0 }));
    const seen: unknown[] = [];
    const after = await store.updateState(id, s => {
      seen.push(s.count);
      // Synchronously, from outside this client: what another replica's update would look like.
      if (seen.length === 1) bumpVersionElsewhere(`${keyPrefix}thread:${id}`, '{"count":10}');
      return { count: (s.count as number) + 1 };
    });
    expect(seen).toEqual([0, 10]);
    expect(after.state).toEqual({ count: 11 });
  });

  it('gives up as overloaded (retryable) when the state changes under every attempt', async () => {
    const keyPrefix = `test:${randomUUID()}:`;
    const store = await openStore({ keyPrefix });
    stores.push(store);
    const { id } = await store.create({ toolName: 'debug' });
    let calls = 0;
    const error = await failure(
      store.updateState(id, () => {
        calls++;
        bumpVersionElsewhere(`${keyPrefix}thread:${id}`, `{"other":${calls}}`);
        return { mine: true };
      }),
    );
    expect(error).toMatchObject({ kind: 'overloaded', retryable: true });
    expect(error.message).toMatch(/state kept changing.*retry/);
    expect(calls).toBe(10);
    expect((await store.get(id)).state).toEqual({ other: 10 });
  });

  it('enforces maxTurns across instances appending at once', async () => {
    const [a, b] = await pair({ maxTurns: 10 });
    const { id } = await a.create({ toolName: 'chat' });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => [
        a.appendTurn(id, turn(`a${i}`)),
        b.appendTurn(id, turn(`b${i}`)),
      ]).flat(),
    );
    const refused = results.filter(r => r.status === 'rejected');
    expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(10);
    expect(refused).toHaveLength(6);
    for (const r of refused) expect(isExaiError(r.reason) && r.reason.kind).toBe('bad_request');
    expect((await a.get(id)).turns).toHaveLength(10);
  });

  it('sets a key TTL of the thread TTL (plus a grace minute) and refreshes it on every write', async () => {
    const keyPrefix = `test:${randomUUID()}:`;
    const store = await openStore({ keyPrefix, ttlMs: 120_000 });
    stores.push(store);
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const { id } = await store.create({ toolName: 'chat', turns: [turn('q')] });
      await client.pExpire(`${keyPrefix}thread:${id}`, 1_000);
      await store.appendTurn(id, turn('q2'));
      for (const key of [`${keyPrefix}thread:${id}`, `${keyPrefix}thread:${id}:turns`]) {
        const ttl = await client.pTTL(key);
        expect(ttl).toBeGreaterThan(170_000);
        expect(ttl).toBeLessThanOrEqual(180_000);
      }
    } finally {
      client.destroy();
    }
  });

  it('is chosen by createStore("redis") and refuses to be built without a URL', async () => {
    const store = createStore('redis', {
      url: redis.url,
      ttlMs: HOUR,
      maxTurns: 5,
      keyPrefix: `test:${randomUUID()}:`,
    });
    stores.push(store);
    await store.ready?.();
    expect(store.kind).toBe('redis');
    expect(store.health?.()).toEqual({ connected: true, url: `${redis.url}` });
    expect(() => createStore('redis', { ttlMs: HOUR, maxTurns: 5 })).toThrow(/REDIS_URL/);
  });

  it('fails ready() within the timeout naming the URL without its password', async () => {
    const store = createRedisStore({
      url: 'redis://user:hunter2@127.0.0.1:1/0',
      ttlMs: HOUR,
      maxTurns: 5,
      connectTimeoutMs: 300,
    });
    stores.push(store);
    const started = Date.now();
    const error = await failure(store.ready?.() ?? Promise.resolve());
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.kind).toBe('not_configured');
    expect(error.message).toContain('redis://***@127.0.0.1:1/0');
    expect(error.message).not.toContain('user:');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toMatch(/EXAI_STORE=redis.*REDIS_URL/);
  });
});

describe('redis conversation store during an outage', () => {
  it('fails fast with a retryable network error while Redis is down, and works again once it is back', async () => {
    const store = await openStore();
    try {
      const { id } = await store.create({ toolName: 'chat', turns: [turn('before')] });
      await redis.kill();
      const started = Date.now();
      const error = await failure(store.appendTurn(id, turn('during')));
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(error).toMatchObject({ kind: 'network', retryable: true });
      expect(error.message).toMatch(
        /Conversation store appendTurn failed: Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/,
      );
      expect(store.health?.().connected).toBe(false);

      await redis.restart();
      await expect.poll(() => store.health?.().connected, { timeout: 10_000 }).toBe(true);
      // Persistence is off, so the old thread is gone: the store says so the usual way.
      expect((await failure(store.get(id))).kind).toBe('not_found');
      const fresh = await store.create({ toolName: 'chat', turns: [turn('after')] });
      expect((await store.get(fresh.id)).turns.map(t => t.content)).toEqual(['after']);
    } finally {
      await store.close();
    }
  });
});
