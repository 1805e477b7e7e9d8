import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSharedHealth, type SharedHealth } from '../../src/cluster/shared-health.js';
import { silentLogger } from '../../src/observability/logger.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe('shared provider health', () => {
  const opened: SharedHealth[] = [];
  let keyPrefix: string;

  async function replica(replicaId: string, options: { resyncMs?: number } = {}): Promise<SharedHealth> {
    const health = createSharedHealth({
      url: redis.url,
      replicaId,
      logger: silentLogger(),
      keyPrefix,
      ...options,
    });
    opened.push(health);
    expect(await health.ready(5_000)).toBe(true);
    return health;
  }

  beforeEach(() => {
    keyPrefix = `test:${randomUUID()}:`;
  });
  afterEach(async () => {
    for (const health of opened.splice(0)) await health.close();
  });

  it('tells the other replicas within a second that a breaker opened, and not the publisher itself', async () => {
    const a = await replica('a');
    const b = await replica('b');
    const heard: string[] = [];
    b.subscribe((provider, event, from) => heard.push(`${from}:${provider}:${event.type}`));
    const until = Date.now() + 30_000;
    const published = Date.now();
    a.publish('glm', { type: 'open', until, reason: 'auth: bad key' });
    await expect
      .poll(() => b.remote('glm')?.open, { timeout: 1_000, interval: 10 })
      .toEqual({
        until,
        from: 'a',
        reason: 'auth: bad key',
      });
    expect(Date.now() - published).toBeLessThan(1_000);
    expect(heard).toEqual(['a:glm:open']);
    expect(a.remote('glm')).toBeUndefined();
    expect(b.snapshot()).toMatchObject({
      replicaId: 'b',
      connected: true,
      degraded: false,
      remote: { glm: { openUntil: new Date(until).toISOString(), from: 'a', reason: 'auth: bad key' } },
    });
  });

  it('lets a replica that starts later learn the current state, and shares recovery the same way', async () => {
    const a = await replica('a');
    const until = Date.now() + 30_000;
    a.publish('kimi', { type: 'open', until, reason: 'overloaded' });
    a.publish('glm', { type: 'retry_after', until: Date.now() + 20_000 });
    await new Promise(resolve => setTimeout(resolve, 100));
    const late = await replica('late');
    await expect.poll(() => late.remote('kimi')?.open?.from, { timeout: 1_000 }).toBe('a');
    expect(late.remote('glm')?.retryAfter?.from).toBe('a');

    a.publish('kimi', { type: 'closed' });
    await expect.poll(() => late.remote('kimi'), { timeout: 1_000, interval: 10 }).toBeUndefined();
    // A replica starting after the recovery sees nothing open.
    const later = await replica('later');
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(later.remote('kimi')).toBeUndefined();
  });

  it('drops reports once their time has passed', async () => {
    const a = await replica('a');
    const b = await replica('b');
    a.publish('glm', { type: 'retry_after', until: Date.now() + 300 });
    await expect.poll(() => b.remote('glm')?.retryAfter?.from, { timeout: 1_000, interval: 10 }).toBe('a');
    await expect.poll(() => b.remote('glm'), { timeout: 2_000, interval: 20 }).toBeUndefined();
  });

  it('reports degraded while Redis is down, keeps what it knew, and re-sends its news once Redis is back', async () => {
    const a = await replica('a', { resyncMs: 200 });
    const b = await replica('b', { resyncMs: 200 });
    a.publish('glm', { type: 'open', until: Date.now() + 60_000, reason: 'before' });
    await expect.poll(() => b.remote('glm')?.open?.reason, { timeout: 1_000 }).toBe('before');

    await redis.kill();
    await expect.poll(() => a.snapshot().degraded, { timeout: 1_000, interval: 10 }).toBe(true);
    expect(b.snapshot()).toMatchObject({ connected: false, degraded: true });
    expect(b.snapshot().lastError).toBeTruthy();
    // What b knew still holds: it keeps failing fast on GLM until the report's time.
    expect(b.remote('glm')?.open?.from).toBe('a');
    // News during the outage stays local for now...
    a.publish('kimi', { type: 'open', until: Date.now() + 60_000, reason: 'during' });

    await redis.restart();
    await expect.poll(() => a.snapshot().connected && b.snapshot().connected, { timeout: 10_000 }).toBe(true);
    // ...and reaches the others once Redis is back (the restarted Redis is empty: persistence is off).
    await expect.poll(() => b.remote('kimi')?.open?.reason, { timeout: 2_000 }).toBe('during');
    expect(b.snapshot().degraded).toBe(false);
  });
});
