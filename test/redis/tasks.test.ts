import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import {
  connect,
  type Replica,
  startSlowModelReplicas,
  type Workspace,
  workspace,
} from '../helpers/replicas.js';

const ANSWER_MS = 3_000;
const SLOW_MODEL = `fake-delay,ms=${ANSWER_MS}`;

const TaskSchema = z.looseObject({
  taskId: z.string(),
  status: z.string(),
  statusMessage: z.string().optional(),
});
const CreateTaskSchema = z.looseObject({ task: TaskSchema });
const PayloadSchema = z.looseObject({
  content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
  isError: z.boolean().optional(),
});

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

async function client(url: string): Promise<Client> {
  const c = await connect(url, 'legacy');
  clients.push(c);
  return c;
}

describe('MCP tasks across replicas', () => {
  it('a task created on replica 1 is followed and collected on replica 2, with one upstream request', async () => {
    fake.reset();
    const [one, two] = [await client(replicas[0].url), await client(replicas[1].url)];
    const { task } = await one.request(
      {
        method: 'tools/call',
        params: {
          name: 'chat',
          arguments: { prompt: 'a task for two replicas', model: SLOW_MODEL },
          task: {},
        },
      },
      CreateTaskSchema,
    );
    expect(task.status).toBe('working');
    const seen = await two.request({ method: 'tasks/get', params: { taskId: task.taskId } }, TaskSchema);
    expect(seen.status).toBe('working');
    const result = await two.request(
      { method: 'tasks/result', params: { taskId: task.taskId } },
      PayloadSchema,
      {
        timeout: 30_000,
      },
    );
    expect(result.isError).toBeFalsy();
    expect(result.content[0]?.text).toContain('a task for two replicas');
    const done = await two.request({ method: 'tasks/get', params: { taskId: task.taskId } }, TaskSchema);
    expect(done.status).toBe('completed');
    expect(fake.requests.map(r => r.path.split('/')[1])).toEqual(['replica-1']);
    expect(replicas[1].app.tasks.live).toBe(0);
  });

  it('a tasks/cancel on replica 2 makes the task cancelled for good, though replica 1 finishes its call', async () => {
    fake.reset();
    const [one, two] = [await client(replicas[0].url), await client(replicas[1].url)];
    const { task } = await one.request(
      {
        method: 'tools/call',
        params: { name: 'chat', arguments: { prompt: 'cancelled elsewhere', model: SLOW_MODEL }, task: {} },
      },
      CreateTaskSchema,
    );
    const cancelled = await two.request(
      { method: 'tasks/cancel', params: { taskId: task.taskId } },
      TaskSchema,
    );
    expect(cancelled.status).toBe('cancelled');
    const result = await one.request(
      { method: 'tasks/result', params: { taskId: task.taskId } },
      PayloadSchema,
      {
        timeout: 30_000,
      },
    );
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(/cancelled/);
    expect(
      (await one.request({ method: 'tasks/get', params: { taskId: task.taskId } }, TaskSchema)).status,
    ).toBe('cancelled');
  });
});
