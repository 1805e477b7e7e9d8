import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import {
  call,
  connect,
  type Replica,
  startSlowModelReplicas,
  type Workspace,
  workspace,
} from '../helpers/replicas.js';

const ANSWER_MS = 4_000;
const SLOW_MODEL = `fake-delay,ms=${ANSWER_MS}`;

let redis: RedisServer;
let fake: FakeProvider;
let ws: Workspace;
let replicas: [Replica, Replica];
const clients: Client[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  fake = await startFakeProvider();
  ws = workspace();
  replicas = await startSlowModelReplicas({
    redisUrl: redis.url,
    fakeUrl: fake.url,
    workspace: ws,
    model: SLOW_MODEL,
  });
});

afterAll(async () => {
  for (const client of clients.splice(0)) await client.close().catch(() => {});
  for (const replica of replicas ?? []) await replica.close();
  await fake?.close();
  await redis?.stop();
  ws?.cleanup();
});

beforeEach(() => fake.reset());

async function client(url: string): Promise<Client> {
  const c = await connect(url, 'legacy');
  clients.push(c);
  return c;
}

/** Repeats the call on `client` while it answers in_progress; the answer and how many calls it took. */
async function collect(c: Client, name: string, args: Record<string, unknown>) {
  for (let calls = 1; ; calls++) {
    const answer = await call(c, name, args);
    if (answer.json.status !== 'in_progress') return { answer, calls };
    if (calls > 20) throw new Error(`still in_progress after ${calls} calls`);
  }
}

describe('model jobs across replicas', () => {
  it('a chat job started on replica 1 is collected on replica 2, with one upstream request', async () => {
    const [one, two] = [await client(replicas[0].url), await client(replicas[1].url)];
    const args = { prompt: 'a slow question for two replicas', model: SLOW_MODEL };
    const first = await call(one, 'chat', args);
    expect(first.json.status).toBe('in_progress');
    const { answer, calls } = await collect(two, 'chat', args);
    expect(calls).toBeGreaterThan(1);
    expect(answer.result.isError).toBeFalsy();
    expect(answer.json.content).toContain('a slow question for two replicas');
    expect(fake.requests.map(r => r.path.split('/')[1])).toEqual(['replica-1']);
    expect(replicas[1].app.jobs.running).toBe(0);
  });

  it('a workflow expert job started on replica 1 is collected on replica 2 by its next_call', async () => {
    const [one, two] = [await client(replicas[0].url), await client(replicas[1].url)];
    const file = join(ws.dir, 'cache.ts');
    writeFileSync(file, 'export const key = (user: string) => user;\n');
    const first = await call(one, 'thinkdeep', {
      step: 'Is the cache key safe across tenants?',
      step_number: 1,
      total_steps: 1,
      next_step_required: false,
      findings: 'The key is built from the user only.',
      relevant_files: [file],
      confidence: 'medium',
      model: SLOW_MODEL,
      thinking_mode: 'minimal',
    });
    expect(first.json.status).toBe('in_progress');
    const next = first.json.next_call as { tool: string; arguments: Record<string, unknown> };
    const { answer } = await collect(two, next.tool, next.arguments);
    expect(answer.json.status).not.toBe('error');
    expect(answer.json.expert_analysis).toBeDefined();
    expect(answer.json.continuation_id).toBe(first.json.continuation_id);
    expect(fake.requests.map(r => r.path.split('/')[1])).toEqual(['replica-1']);
  });
});
