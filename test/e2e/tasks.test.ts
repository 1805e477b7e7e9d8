import type { CallToolResult, Client } from '@modelcontextprotocol/client';
import { beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import type { FakeProvider } from '../fakes/fake-provider.js';
import { upstreamActive } from './harness.js';
import { overTransports } from './served.js';

/** The model answers this long after the request arrives. */
const ANSWER_MS = 3_000;
const SOFT_SECS = 1;
const SLOW_MODEL = `fake-delay,ms=${ANSWER_MS}`;
const RELATED_TASK = 'io.modelcontextprotocol/related-task';

const TaskSchema = z.looseObject({
  taskId: z.string(),
  status: z.enum(['working', 'input_required', 'completed', 'failed', 'cancelled']),
  statusMessage: z.string().optional(),
  createdAt: z.string(),
  lastUpdatedAt: z.string(),
  ttl: z.number().nullable(),
  pollInterval: z.number().optional(),
});
type Task = z.infer<typeof TaskSchema>;
const CreateTaskSchema = z.looseObject({ task: TaskSchema });
const ListSchema = z.looseObject({ tasks: z.array(TaskSchema) });
const PayloadSchema = z.looseObject({
  content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
  isError: z.boolean().optional(),
  _meta: z.record(z.string(), z.unknown()).optional(),
});

async function createTask(client: Client, name: string, args: Record<string, unknown>): Promise<Task> {
  const created = await client.request(
    { method: 'tools/call', params: { name, arguments: args, task: { ttl: 60_000 } } },
    CreateTaskSchema,
  );
  return created.task;
}

const getTask = (client: Client, taskId: string) =>
  client.request({ method: 'tasks/get', params: { taskId } }, TaskSchema);

const taskResult = (client: Client, taskId: string) =>
  client.request({ method: 'tasks/result', params: { taskId } }, PayloadSchema, { timeout: 30_000 });

function answerOf(result: {
  content: Array<{ type: string; text?: string | undefined }>;
}): Record<string, unknown> {
  const first = result.content[0];
  if (first?.type !== 'text' || first.text === undefined)
    throw new Error(`no text: ${JSON.stringify(result)}`);
  return JSON.parse(first.text) as Record<string, unknown>;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

function scenarios(connect: () => Promise<{ client: Client; fake: FakeProvider }>) {
  let client: Client;
  let fake: FakeProvider;
  beforeAll(async () => {
    ({ client, fake } = await connect());
  });

  it('declares tasks: the capability, and taskSupport on the tools that may wait for a model', async () => {
    expect(client.getServerCapabilities()?.tasks).toMatchObject({
      list: {},
      cancel: {},
      requests: { tools: { call: {} } },
    });
    const { tools } = await client.listTools();
    const support = Object.fromEntries(tools.map(t => [t.name, t.execution?.taskSupport]));
    expect(support).toMatchObject({ chat: 'optional', thinkdeep: 'optional', consensus: 'optional' });
    expect(support.version).toBeUndefined();
    expect(support.status).toBeUndefined();
  });

  it('a task-augmented chat answers at once; tasks/get says working, then completed; tasks/result has the answer', async () => {
    fake.reset();
    const started = performance.now();
    const task = await createTask(client, 'chat', { prompt: 'a question for a task', model: SLOW_MODEL });
    expect(performance.now() - started).toBeLessThan(ANSWER_MS / 2);
    expect(task).toMatchObject({
      status: 'working',
      ttl: expect.any(Number),
      pollInterval: expect.any(Number),
    });
    await upstreamActive(fake);
    const working = await getTask(client, task.taskId);
    expect(working.status).toBe('working');
    expect(working.statusMessage).toMatch(/chat: fake-delay\S* (waiting for the first token|starting)/);
    const listed = await client.request({ method: 'tasks/list', params: {} }, ListSchema);
    expect(listed.tasks.map(t => t.taskId)).toContain(task.taskId);

    let state = working;
    for (let polls = 0; state.status === 'working'; polls++) {
      expect(polls).toBeLessThan(100);
      await sleep(200);
      state = await getTask(client, task.taskId);
    }
    expect(state.status).toBe('completed');
    expect(performance.now() - started).toBeGreaterThanOrEqual(ANSWER_MS - 100);

    const result = await taskResult(client, task.taskId);
    expect(result.isError).toBeFalsy();
    expect(result._meta?.[RELATED_TASK]).toEqual({ taskId: task.taskId });
    const answer = answerOf(result);
    expect(answer.status).not.toBe('in_progress');
    expect(answer.content).toContain('a question for a task');
    expect(answer.metadata).toMatchObject({ model_used: SLOW_MODEL, soft_return: { budget_s: 0 } });
    expect(fake.requests.filter(r => r.mode === 'delay')).toHaveLength(1);
  });

  it('tasks/result waits for a working task and returns the same answer as the plain call', async () => {
    fake.reset();
    const task = await createTask(client, 'chat', { prompt: 'waited for', model: SLOW_MODEL });
    const result = await taskResult(client, task.taskId);
    expect(answerOf(result).content).toContain('waited for');
    expect((await getTask(client, task.taskId)).status).toBe('completed');
    expect(fake.requests.filter(r => r.mode === 'delay')).toHaveLength(1);
  });

  it('a step that asks no model completes at once', async () => {
    const task = await createTask(client, 'thinkdeep', {
      step: 'Where does the latency come from?',
      step_number: 1,
      total_steps: 2,
      next_step_required: true,
      findings: 'Nothing yet.',
      model: SLOW_MODEL,
    });
    const result = await taskResult(client, task.taskId);
    expect(answerOf(result).status).toBe('pause_for_thinkdeep');
    expect((await getTask(client, task.taskId)).status).toBe('completed');
  });

  it('tasks/cancel cancels the task and closes the upstream request', async () => {
    await fake.waitForActive(0, ANSWER_MS + 2_000);
    fake.reset();
    const task = await createTask(client, 'chat', { prompt: 'cancel this task', model: SLOW_MODEL });
    await upstreamActive(fake);
    const cancelledAt = performance.now();
    const cancelled = await client.request(
      { method: 'tasks/cancel', params: { taskId: task.taskId } },
      TaskSchema,
    );
    expect(cancelled.status).toBe('cancelled');
    await fake.waitForActive(0, 5_000);
    expect(performance.now() - cancelledAt).toBeLessThan(1_000);
    expect((await getTask(client, task.taskId)).status).toBe('cancelled');
    const result = await taskResult(client, task.taskId);
    expect(result.isError).toBe(true);
    await expect(
      client.request({ method: 'tasks/cancel', params: { taskId: task.taskId } }, TaskSchema),
    ).rejects.toThrow(/already ended/);
  });

  it('an unknown task id is an invalid-params error, and a tool that asks no model refuses a task', async () => {
    await expect(getTask(client, 'no-such-task')).rejects.toThrow(/no task no-such-task/);
    await expect(createTask(client, 'version', {})).rejects.toThrow(/does not run as a task/);
  });

  it('the same call without a task still answers in_progress after the soft budget', async () => {
    await fake.waitForActive(0, ANSWER_MS + 2_000);
    const result = (await client.callTool({
      name: 'chat',
      arguments: { prompt: 'no task here', model: SLOW_MODEL },
    })) as CallToolResult;
    expect(answerOf(result as Parameters<typeof answerOf>[0]).status).toBe('in_progress');
  });
}

overTransports(
  'MCP tasks',
  {
    client: 'e2e-tasks',
    models: [SLOW_MODEL],
    extra: { EXAI_SOFT_RETURN_SECS: String(SOFT_SECS), PROGRESS_INTERVAL_SECS: '0.2' },
  },
  scenarios,
);
