/**
 * The MCP task registry: a task's states and outcomes, sticky cancellation, who may see a task, expiry, and
 * two processes sharing the job records (as two replicas share Redis).
 */
import { describe, expect, it } from 'vitest';
import {
  createTaskRegistry,
  type TaskOutcome,
  type TaskRegistry,
  type TaskWork,
} from '../../src/jobs/tasks.js';
import type { JobRecords } from '../../src/memory/index.js';
import { silentLogger } from '../../src/observability/logger.js';

const ME = { owner: 'anonymous', session: 's1' };
const never = new AbortController().signal;

/** Job records in a Map, as the store keeps them, without expiry. */
function sharedRecords(): JobRecords {
  const map = new Map<string, string>();
  return {
    put: async (key, value) => {
      map.set(key, value);
    },
    get: async key => map.get(key),
    delete: async key => {
      map.delete(key);
    },
  };
}

function registry(options: { ttlMs?: number; records?: JobRecords } = {}): TaskRegistry {
  return createTaskRegistry({
    ttlMs: options.ttlMs ?? 60_000,
    pollIntervalMs: 500,
    budgetMs: 10_000,
    logger: silentLogger(),
    records: options.records,
    remotePollMs: 10,
  });
}

/** Work that says something, then waits for `release` (or its signal) and answers `outcome`. */
function heldWork(outcome: TaskOutcome) {
  let release: () => void = () => {};
  let seen: TaskWork | undefined;
  const released = new Promise<void>(resolve => {
    release = resolve;
  });
  const work = async (task: TaskWork) => {
    seen = task;
    task.say('fake thinking, 1 s');
    await Promise.race([
      released,
      new Promise((_, reject) => task.signal.addEventListener('abort', () => reject(task.signal.reason))),
    ]);
    return outcome;
  };
  return { work, release: () => release(), signal: () => seen?.signal };
}

const answer = (text: string, isError = false): TaskOutcome => ({
  result: { content: [{ type: 'text', text }], ...(isError && { isError }) },
});

describe('MCP task registry', () => {
  it('a task is working, says what it does, and completes with its result', async () => {
    const tasks = registry();
    const held = heldWork(answer('the answer'));
    const created = await tasks.create(ME, held.work);
    expect(created).toMatchObject({ status: 'working', ttl: 60_000, pollInterval: 500 });
    expect(await tasks.get(ME.owner, created.taskId)).toMatchObject({ statusMessage: 'fake thinking, 1 s' });
    expect(tasks.live).toBe(1);
    held.release();
    const ended = await tasks.result(ME.owner, created.taskId, never);
    expect(ended?.state).toMatchObject({ status: 'completed', statusMessage: 'done' });
    expect(ended?.outcome).toEqual(answer('the answer'));
    expect(tasks.live).toBe(0);
  });

  it.each([
    ['a tool error', async () => answer('GLM: overloaded', true), 'GLM: overloaded'],
    [
      'a thrown error',
      async () => {
        throw new Error('tool not found');
      },
      'tool not found',
    ],
  ])('%s makes the task failed, with the error in its status message', async (_name, work, message) => {
    const tasks = registry();
    const { taskId } = await tasks.create(ME, work);
    const ended = await tasks.result(ME.owner, taskId, never);
    expect(ended?.state).toMatchObject({ status: 'failed', statusMessage: message });
  });

  it('cancel aborts the work and stays cancelled; a second cancel finds it ended', async () => {
    const tasks = registry();
    const held = heldWork(answer('too late'));
    const { taskId } = await tasks.create(ME, held.work);
    const cancelled = await tasks.cancel(ME.owner, taskId);
    expect(cancelled).toMatchObject({ ended: false, state: { status: 'cancelled' } });
    expect(held.signal()?.aborted).toBe(true);
    const ended = await tasks.result(ME.owner, taskId, never);
    expect(ended?.state.status).toBe('cancelled');
    expect(ended?.outcome).toMatchObject({ result: { isError: true } });
    expect(await tasks.cancel(ME.owner, taskId)).toMatchObject({
      ended: true,
      state: { status: 'cancelled' },
    });
  });

  it("another owner sees no task; tasks/list shows the caller's session only", async () => {
    const tasks = registry();
    const { taskId } = await tasks.create(ME, async () => answer('mine'));
    await tasks.create({ owner: 'anonymous', session: 's2' }, async () => answer('theirs'));
    expect(await tasks.get('client:other', taskId)).toBeUndefined();
    expect(await tasks.cancel('client:other', taskId)).toBeUndefined();
    expect(tasks.list(ME).map(t => t.taskId)).toEqual([taskId]);
  });

  it('an ended task is forgotten once its TTL has passed', async () => {
    const tasks = registry({ ttlMs: 30 });
    const { taskId } = await tasks.create(ME, async () => answer('brief'));
    await tasks.result(ME.owner, taskId, never);
    expect(await tasks.get(ME.owner, taskId)).toBeDefined();
    await new Promise(resolve => setTimeout(resolve, 60));
    expect(await tasks.get(ME.owner, taskId)).toBeUndefined();
  });

  it('tasks/result stops waiting when its request is cancelled, and the task runs on', async () => {
    const tasks = registry();
    const held = heldWork(answer('later'));
    const { taskId } = await tasks.create(ME, held.work);
    const request = new AbortController();
    const waiting = tasks.result(ME.owner, taskId, request.signal);
    request.abort('the client gave up');
    await expect(waiting).rejects.toThrow(/cancelled/);
    expect((await tasks.get(ME.owner, taskId))?.status).toBe('working');
    held.release();
    expect((await tasks.result(ME.owner, taskId, never))?.state.status).toBe('completed');
  });

  it('close cancels the working tasks', async () => {
    const tasks = registry();
    const held = heldWork(answer('never'));
    await tasks.create(ME, held.work);
    tasks.close();
    expect(held.signal()?.aborted).toBe(true);
  });

  describe('two processes sharing the job records', () => {
    it('the other process follows a task from its record and collects its answer', async () => {
      const records = sharedRecords();
      const [one, two] = [registry({ records }), registry({ records })];
      const held = heldWork(answer('shared answer'));
      const { taskId } = await one.create(ME, held.work);
      expect((await two.get(ME.owner, taskId))?.status).toBe('working');
      const collecting = two.result(ME.owner, taskId, never);
      held.release();
      const ended = await collecting;
      expect(ended?.state.status).toBe('completed');
      expect(ended?.outcome).toEqual(answer('shared answer'));
      expect(two.list(ME)).toEqual([]);
    });

    it('a cancel through the other process is sticky: the running process keeps the task cancelled', async () => {
      const records = sharedRecords();
      const [one, two] = [registry({ records }), registry({ records })];
      const held = heldWork(answer('discarded'));
      const { taskId } = await one.create(ME, held.work);
      expect(await two.cancel(ME.owner, taskId)).toMatchObject({
        ended: false,
        state: { status: 'cancelled' },
      });
      held.release();
      const ended = await one.result(ME.owner, taskId, never);
      expect(ended?.state.status).toBe('cancelled');
      expect(ended?.outcome).toMatchObject({ result: { isError: true } });
    });
  });
});
