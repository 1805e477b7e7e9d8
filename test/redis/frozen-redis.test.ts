/**
 * A Redis that keeps its sockets open but stops answering (SIGSTOP: a stuck or swapping server, a half-open
 * link) must not hang anything: each Redis command ends at its deadline and takes the link down, calls fall
 * back as for a dead Redis, /readyz answers within its own short deadline, and all recovers after SIGCONT.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READY_STORE_DEADLINE_MS } from '../../src/server/http/readiness.js';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import {
  call,
  connect,
  FAKE_MODELS,
  type Replica,
  startReplica,
  type Workspace,
  workspace,
} from '../helpers/replicas.js';

/** The store's per-command deadline (src/redis/link.ts). */
const STORE_COMMAND_DEADLINE_MS = 3_000;
/** Room for a loaded 2-core machine on top of a deadline; far below the outage the test holds. */
const SLACK_MS = 2_500;

let redis: RedisServer;
let fake: FakeProvider;
let ws: Workspace;
let replica: Replica;
let client: Client;

beforeAll(async () => {
  redis = await startRedisServer();
  fake = await startFakeProvider();
  ws = workspace();
  replica = await startReplica({
    id: 'replica-1',
    redisUrl: redis.url,
    keyPrefix: `test:${randomUUID()}:`,
    fakeUrl: fake.url,
    workspace: ws,
  });
  client = await connect(replica.url, 'legacy');
});

afterAll(async () => {
  try {
    redis?.thaw();
  } catch {
    // Not running: nothing to thaw.
  }
  await client?.close().catch(() => {});
  await replica?.close();
  await fake?.close();
  await redis?.stop();
  ws?.cleanup();
});

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

async function readyz(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL('/readyz', replica.url));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('a frozen Redis (SIGSTOP)', () => {
  it('ends every call within its deadline, reports degraded, and recovers after SIGCONT with the threads intact', async () => {
    const before = await call(client, 'chat', { prompt: 'before the freeze', model: FAKE_MODELS.ok });
    const id = (before.json.continuation_offer as { continuation_id: string }).continuation_id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    redis.freeze();
    try {
      // Several continuations at once: all wait on the same silent socket; each ends at the deadline.
      const continuations = await Promise.all(
        [1, 2, 3].map(n =>
          timed(call(client, 'chat', { prompt: `more ${n}`, model: FAKE_MODELS.ok, continuation_id: id })),
        ),
      );
      for (const { value, ms } of continuations) {
        expect(ms).toBeLessThan(STORE_COMMAND_DEADLINE_MS + SLACK_MS);
        expect(value.json.metadata).toMatchObject({ error_kind: 'network', retryable: true });
        expect(value.json.content).toMatch(
          /Conversation store get failed: Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable \(no reply within 3 s\)/,
        );
        // A store failure is not the model provider's: no advice to check GLM_API_URL.
        expect(value.json.content).not.toMatch(/API_URL|provider URL/);
      }
      // The link is now down: the next continuation fails at once instead of waiting again.
      const fast = await timed(
        call(client, 'chat', { prompt: 'again', model: FAKE_MODELS.ok, continuation_id: id }),
      );
      expect(fast.ms).toBeLessThan(SLACK_MS);
      expect(fast.value.json.metadata).toMatchObject({ error_kind: 'network' });
      expect(replica.app.store.health?.()).toMatchObject({ connected: false });

      // A call without a thread still answers; only its memory is lost.
      const fresh = await timed(call(client, 'chat', { prompt: 'no memory', model: FAKE_MODELS.ok }));
      expect(fresh.ms).toBeLessThan(STORE_COMMAND_DEADLINE_MS + SLACK_MS);
      expect(fresh.value.json.content).toBe('echo: no memory');
      expect(fresh.value.json.metadata).toMatchObject({
        memory_warning: expect.stringMatching(/unreachable/),
      });

      // Readiness answers within its own deadline, degraded but still in the balancer (calls do answer).
      const ready = await timed(readyz());
      expect(ready.ms).toBeLessThan(READY_STORE_DEADLINE_MS + SLACK_MS);
      expect(ready.value.status).toBe(200);
      expect(ready.value.body).toMatchObject({ ready: true, degraded: true });
      expect(String(ready.value.body.store)).toMatch(/^unavailable/);

      // Shared health notices on its next resync (every 5 s) and degrades to the local breakers.
      await expect
        .poll(() => replica.app.gateway.sharedHealth(), { timeout: 10_000 })
        .toMatchObject({ enabled: true, connected: false, degraded: true });
    } finally {
      redis.thaw();
    }

    await expect.poll(() => replica.app.store.health?.().connected, { timeout: 10_000 }).toBe(true);
    await expect
      .poll(() => replica.app.gateway.sharedHealth(), { timeout: 10_000 })
      .toMatchObject({ connected: true, degraded: false });
    // The frozen Redis lost nothing: the old thread continues, with its history.
    const after = await call(client, 'chat', {
      prompt: 'after the thaw',
      model: FAKE_MODELS.ok,
      continuation_id: id,
    });
    expect(after.result.isError, JSON.stringify(after.json)).toBeFalsy();
    const sent = fake.requests.at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(sent.messages.map(m => m.content).join('\n')).toContain('before the freeze');
    const ready = await readyz();
    expect(ready.body).toMatchObject({ ready: true, degraded: false, store: 'open' });
  });
});
