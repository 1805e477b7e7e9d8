/**
 * Two full server replicas (createApp + Streamable HTTP) on one Redis, behind a round-robin balancer, against
 * the fake provider: threads and workflows move between replicas, concurrent writes all land, one replica's
 * breaker and Retry-After reach the other within a second, and a Redis outage degrades to local state and
 * recovers.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import {
  type Balancer,
  call,
  connect,
  type Era,
  FAKE_MODELS,
  type Replica,
  startBalancer,
  startReplica,
  type Workspace,
  workspace,
} from '../helpers/replicas.js';

let redis: RedisServer;
let fake: FakeProvider;
let ws: Workspace;
let replicas: [Replica, Replica];
let balancer: Balancer;
const clients: Client[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  fake = await startFakeProvider();
  ws = workspace();
  const keyPrefix = `test:${randomUUID()}:`;
  const start = (id: string) =>
    startReplica({ id, redisUrl: redis.url, keyPrefix, fakeUrl: fake.url, workspace: ws });
  replicas = [await start('replica-1'), await start('replica-2')];
  balancer = await startBalancer(replicas.map(r => new URL(r.url).origin));
});

afterAll(async () => {
  for (const client of clients.splice(0)) await client.close().catch(() => {});
  await balancer?.close();
  for (const replica of replicas ?? []) await replica.close();
  await fake?.close();
  await redis?.stop();
  ws?.cleanup();
});

beforeEach(() => fake.reset());

async function client(url: string, era: Era = 'legacy'): Promise<Client> {
  const c = await connect(url, era);
  clients.push(c);
  return c;
}

/** Which replica and provider each chat request the fake saw came from: `replica-1/glm`. */
function callers(): string[] {
  return fake.requests.map(r => r.path.split('/').slice(1, 3).join('/'));
}

function lastUserText(index: number): string {
  const body = fake.requests[index]?.body as { messages: Array<{ role: string; content: string }> };
  return body.messages.filter(m => m.role === 'user').at(-1)?.content ?? '';
}

describe('conversation threads across replicas', () => {
  it('continues on replica 2 a chat thread started on replica 1, with its history', async () => {
    const [one, two] = [await client(replicas[0].url), await client(replicas[1].url)];
    const first = await call(one, 'chat', { prompt: 'What is the capital of Peru?', model: FAKE_MODELS.ok });
    const id = (first.json.continuation_offer as { continuation_id: string }).continuation_id;
    const second = await call(two, 'chat', {
      prompt: 'And its population?',
      model: FAKE_MODELS.ok,
      continuation_id: id,
    });
    expect(second.result.isError).toBeFalsy();
    expect(callers()).toEqual(['replica-1/glm', 'replica-2/glm']);
    // Replica 2 sent the history it read from Redis: the first exchange as messages, then the new question.
    const sent = (fake.requests[1]!.body as { messages: Array<{ role: string; content: string }> }).messages;
    expect(sent.slice(1, 3)).toEqual([
      { role: 'user', content: 'What is the capital of Peru?' },
      { role: 'assistant', content: 'echo: What is the capital of Peru?' },
    ]);
    expect(lastUserText(1)).toContain('And its population?');
    const thread = await replicas[0].app.store.get(id);
    expect(thread.turns.map(t => t.content)).toEqual([
      'What is the capital of Peru?',
      'echo: What is the capital of Peru?',
      'And its population?',
      expect.stringContaining('echo:'),
    ]);
  });

  for (const era of ['legacy', 'modern'] as const) {
    it(`serves a ${era} client through the balancer with consecutive requests on alternating replicas`, async () => {
      const c = await client(balancer.url, era);
      const before = balancer.routed.length;
      let id: string | undefined;
      for (let i = 1; i <= 4; i++) {
        const answer = await call(c, 'chat', {
          prompt: `${era} question ${i}`,
          model: FAKE_MODELS.ok,
          ...(id !== undefined && { continuation_id: id }),
        });
        expect(answer.result.isError, JSON.stringify(answer.json)).toBeFalsy();
        id ??= (answer.json.continuation_offer as { continuation_id: string }).continuation_id;
      }
      const calls = balancer.routed.slice(before).filter(r => r.method === 'tools/call');
      expect(new Set(calls.map(r => r.replica))).toEqual(new Set([0, 1]));
      expect(new Set(callers())).toEqual(new Set(['replica-1/glm', 'replica-2/glm']));
      const thread = await replicas[1].app.store.get(id as string);
      expect(thread.turns.filter(t => t.role === 'user').map(t => t.content)).toEqual([
        `${era} question 1`,
        `${era} question 2`,
        `${era} question 3`,
        `${era} question 4`,
      ]);
    });
  }

  it('keeps every turn when both replicas append to one thread at once', async () => {
    const [one, two] = [await client(replicas[0].url), await client(replicas[1].url)];
    const first = await call(one, 'chat', { prompt: 'start', model: FAKE_MODELS.ok });
    const id = (first.json.continuation_offer as { continuation_id: string }).continuation_id;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(i % 2 === 0 ? one : two, 'chat', {
          prompt: `concurrent ${i}`,
          model: FAKE_MODELS.ok,
          continuation_id: id,
        }),
      ),
    );
    for (const answer of answers) expect(answer.result.isError, JSON.stringify(answer.json)).toBeFalsy();
    const turns = (await replicas[0].app.store.get(id)).turns;
    expect(turns).toHaveLength(2 + 16);
    const prompts = turns.filter(t => t.role === 'user').map(t => t.content);
    expect(prompts.sort()).toEqual(
      ['start', ...Array.from({ length: 8 }, (_, i) => `concurrent ${i}`)].sort(),
    );
  });

  it('runs a workflow step by step on alternating replicas, the expert seeing every step', async () => {
    const [one, two] = [await client(replicas[0].url), await client(replicas[1].url)];
    const step = (n: number, findings: string, id?: string) => ({
      step: `Step ${n} of the investigation`,
      step_number: n,
      total_steps: 3,
      next_step_required: n < 3,
      findings,
      model: FAKE_MODELS.ok,
      ...(id !== undefined && { continuation_id: id }),
    });
    const first = await call(one, 'debug', step(1, 'FINDING-ONE on replica 1'));
    expect(first.result.isError, JSON.stringify(first.json)).toBeFalsy();
    const id = first.json.continuation_id as string;
    const second = await call(two, 'debug', step(2, 'FINDING-TWO on replica 2', id));
    expect(second.json).toMatchObject({ continuation_id: id, step_number: 2 });
    const final = await call(one, 'debug', step(3, 'FINDING-THREE on replica 1', id));
    expect(final.result.isError, JSON.stringify(final.json)).toBeFalsy();
    expect(final.json).toMatchObject({ continuation_id: id, status: 'calling_expert_analysis' });
    // The expert call went out from replica 1 with the findings of the step replica 2 recorded.
    expect(callers()).toEqual(['replica-1/glm']);
    const prompt = JSON.stringify(fake.requests[0]?.body);
    for (const finding of ['FINDING-ONE', 'FINDING-TWO', 'FINDING-THREE']) expect(prompt).toContain(finding);
  });
});

describe('progress and cancellation through the balancer (stateless HTTP)', () => {
  for (const era of ['legacy', 'modern'] as const) {
    it(`streams progress to a ${era} client from the replica serving the call`, async () => {
      const c = await client(balancer.url, era);
      const seen: number[] = [];
      const answer = await call(
        c,
        'chat',
        { prompt: 'slowly', model: FAKE_MODELS.slow },
        { onprogress: p => seen.push(p.progress), resetTimeoutOnProgress: true },
      );
      expect(answer.result.isError, JSON.stringify(answer.json)).toBeFalsy();
      expect(seen.length).toBeGreaterThanOrEqual(2);
    });

    it(`cancels the call on the replica serving it when a ${era} client aborts`, async () => {
      const c = await client(balancer.url, era);
      const before = balancer.routed.length;
      const controller = new AbortController();
      const pending = c.callTool(
        { name: 'chat', arguments: { prompt: 'hang', model: FAKE_MODELS.hang } },
        { signal: controller.signal },
      );
      const rejected = expect(pending).rejects.toThrow();
      await expect.poll(() => fake.stats().activeRequests, { timeout: 10_000 }).toBe(1);
      controller.abort('stop');
      await rejected;
      await fake.waitForActive(0, 5_000);
      const routed = balancer.routed.slice(before);
      const callOn = routed.find(r => r.method === 'tools/call')?.replica;
      if (era === 'legacy') {
        // A 2025-era client cancels with a notification of its own, which the balancer sent elsewhere.
        const cancelOn = routed.find(r => r.method === 'notifications/cancelled')?.replica;
        expect(cancelOn).toBeDefined();
        expect(cancelOn).not.toBe(callOn);
      }
    });
  }
});

describe('provider health shared across replicas', () => {
  it('fails fast on replica 2 within a second of replica 1 opening its breaker, falls back, and recovers', async () => {
    const [one, two] = [await client(replicas[0].url), await client(replicas[1].url)];
    for (let i = 0; i < 2; i++) {
      const failed = await call(one, 'chat', { prompt: `fail ${i}`, model: FAKE_MODELS.down });
      expect(failed.json.metadata).toMatchObject({ error_kind: 'overloaded' });
    }
    const opened = Date.now();
    expect(replicas[0].app.gateway.status().find(p => p.provider === 'glm')?.breaker.state).toBe('open');
    await expect
      .poll(() => replicas[1].app.gateway.status().find(p => p.provider === 'glm')?.remote, {
        timeout: 1_000,
        interval: 10,
      })
      .toMatchObject({ from: 'replica-1', reason: expect.stringMatching(/overloaded/) });
    expect(Date.now() - opened).toBeLessThan(1_000);
    expect(replicas[1].app.gateway.sharedHealth()).toMatchObject({
      enabled: true,
      replicaId: 'replica-2',
      connected: true,
      degraded: false,
      remote: { glm: { from: 'replica-1' } },
    });

    fake.reset();
    const fast = await call(two, 'chat', { prompt: 'anyone?', model: FAKE_MODELS.ok });
    expect(fast.json.metadata).toMatchObject({ error_kind: 'circuit_open' });
    expect(fast.json.content).toMatch(
      /GLM circuit breaker is open on replica replica-1 until \d\d:\d\d:\d\d/,
    );
    // A model with a Kimi equivalent falls back instead, without touching GLM.
    const fellBack = await call(two, 'chat', { prompt: 'fallback please', model: 'glm-4.6' });
    expect(fellBack.result.isError, JSON.stringify(fellBack.json)).toBeFalsy();
    expect(fellBack.json.metadata).toMatchObject({
      provider_used: 'kimi',
      fallback_from: { provider: 'glm', reason: 'circuit_open' },
    });
    expect(callers()).toEqual(['replica-2/kimi']);
    // Replica 2's own breaker never saw a failure: the report is the other replica's.
    expect(replicas[1].app.gateway.status().find(p => p.provider === 'glm')?.breaker.state).toBe('closed');

    // Recovery: once replica 1's breaker lets a probe through and it succeeds, both replicas call GLM again.
    await new Promise(resolve => setTimeout(resolve, 4_100));
    const probe = await call(one, 'chat', { prompt: 'probe', model: FAKE_MODELS.ok });
    expect(probe.result.isError, JSON.stringify(probe.json)).toBeFalsy();
    expect(replicas[0].app.gateway.status().find(p => p.provider === 'glm')?.breaker.state).toBe('closed');
    await expect
      .poll(() => replicas[1].app.gateway.status().find(p => p.provider === 'glm')?.remote, {
        timeout: 1_000,
      })
      .toBeUndefined();
    const again = await call(two, 'chat', { prompt: 'back?', model: FAKE_MODELS.ok });
    expect(again.result.isError, JSON.stringify(again.json)).toBeFalsy();
  });

  it('holds replica 2 back for the Retry-After Kimi gave replica 1, until it is over', async () => {
    const [one, two] = [await client(replicas[0].url), await client(replicas[1].url)];
    const limited = await call(one, 'chat', { prompt: 'too fast', model: FAKE_MODELS.limited });
    expect(limited.json.metadata).toMatchObject({ error_kind: 'rate_limited' });
    await expect
      .poll(() => replicas[1].app.gateway.status().find(p => p.provider === 'kimi')?.remote?.retryAfterFrom, {
        timeout: 1_000,
        interval: 10,
      })
      .toBe('replica-1');
    fake.reset();
    // Replica 2 does not send to Kimi before the wait is over: it falls back to the GLM equivalent.
    const held = await call(two, 'chat', { prompt: 'me too', model: 'kimi-k2.6' });
    expect(held.result.isError, JSON.stringify(held.json)).toBeFalsy();
    expect(held.json.metadata).toMatchObject({
      provider_used: 'glm',
      fallback_from: {
        provider: 'kimi',
        reason: 'rate_limited',
        message: expect.stringMatching(/Kimi told replica replica-1 to wait until \d\d:\d\d:\d\d/),
      },
    });
    expect(callers()).toEqual(['replica-2/glm']);
    // The wait ends on its own.
    await expect
      .poll(() => replicas[1].app.gateway.status().find(p => p.provider === 'kimi')?.remote, {
        timeout: 5_000,
      })
      .toBeUndefined();
  });
});

describe('a Redis outage', () => {
  it('leaves the replicas serving on local state and reporting degraded, and both recover when Redis is back', async () => {
    const [one, two] = [await client(replicas[0].url), await client(replicas[1].url)];
    const before = await call(one, 'chat', { prompt: 'before the outage', model: FAKE_MODELS.ok });
    const oldId = (before.json.continuation_offer as { continuation_id: string }).continuation_id;

    await redis.kill();
    const killed = Date.now();
    for (const replica of replicas) {
      await expect
        .poll(() => replica.app.gateway.sharedHealth(), { timeout: 1_000, interval: 10 })
        .toMatchObject({ enabled: true, connected: false, degraded: true });
      expect(replica.app.store.health?.()).toMatchObject({ connected: false });
    }
    expect(Date.now() - killed).toBeLessThan(1_000);

    // Model calls go on; the answer says the thread could not be saved.
    const during = await call(two, 'chat', { prompt: 'during the outage', model: FAKE_MODELS.ok });
    expect(during.result.isError, JSON.stringify(during.json)).toBeFalsy();
    expect(during.json.content).toBe('echo: during the outage');
    expect(during.json.metadata).toMatchObject({ memory_warning: expect.stringMatching(/unreachable/) });
    // A continuation fails at once, retryable, naming the store.
    const continued = await call(one, 'chat', {
      prompt: 'more',
      model: FAKE_MODELS.ok,
      continuation_id: oldId,
    });
    expect(continued.json.metadata).toMatchObject({ error_kind: 'network', retryable: true });
    expect(continued.json.content).toMatch(
      /Conversation store get failed: Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/,
    );

    // Each breaker still works, locally: replica 1 opens its own; replica 2 cannot learn it yet.
    for (let i = 0; i < 2; i++) await call(one, 'chat', { prompt: `fail ${i}`, model: FAKE_MODELS.down });
    expect(replicas[0].app.gateway.status().find(p => p.provider === 'glm')?.breaker.state).toBe('open');
    const local = await call(one, 'chat', { prompt: 'fast?', model: FAKE_MODELS.ok });
    expect(local.json.content).toMatch(/GLM circuit breaker is open until/);
    expect(replicas[1].app.gateway.status().find(p => p.provider === 'glm')?.remote).toBeUndefined();

    await redis.restart();
    for (const replica of replicas) {
      await expect
        .poll(() => replica.app.gateway.sharedHealth(), { timeout: 10_000 })
        .toMatchObject({ connected: true, degraded: false });
      await expect.poll(() => replica.app.store.health?.().connected, { timeout: 10_000 }).toBe(true);
    }
    // What replica 1 learnt during the outage reaches replica 2 once Redis is back (while still relevant).
    await expect
      .poll(() => replicas[1].app.gateway.status().find(p => p.provider === 'glm')?.remote?.from, {
        timeout: 2_000,
      })
      .toBe('replica-1');
    // Threads work again (the restarted Redis is empty: this test runs it without persistence).
    const after = await call(two, 'chat', { prompt: 'after the outage', model: 'kimi-k2.6' });
    expect(after.result.isError, JSON.stringify(after.json)).toBeFalsy();
    const id = (after.json.continuation_offer as { continuation_id: string }).continuation_id;
    const next = await call(one, 'chat', {
      prompt: 'still there?',
      model: 'kimi-k2.6',
      continuation_id: id,
    });
    expect(next.result.isError, JSON.stringify(next.json)).toBeFalsy();
  });
});
