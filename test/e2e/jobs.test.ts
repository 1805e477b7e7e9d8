/**
 * Model jobs end to end, over stdio and HTTP with the real MCP client: a call whose model is slower than the
 * soft budget answers in_progress in time, the same call repeated joins the same job, and once the model has
 * answered the next repeat collects the answer, with exactly one request upstream.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallToolResult, Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { modeUrl, startWorkflowServer } from '../helpers/workflow-server.js';
import { reportOf, upstreamActive, type WorkDir } from './harness.js';
import { overTransports } from './served.js';

/** The model answers this long after the request arrives. */
const ANSWER_MS = 5_000;
const SOFT_SECS = 2;
const SLOW_MODEL = `fake-delay,ms=${ANSWER_MS}`;

interface Answer {
  json: Record<string, unknown>;
  ms: number;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Answer> {
  const started = performance.now();
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const ms = performance.now() - started;
  const first = result.content[0];
  if (first?.type !== 'text') throw new Error(`expected a text answer, got ${JSON.stringify(result)}`);
  expect(result.isError, first.text).toBeFalsy();
  return { json: JSON.parse(first.text) as Record<string, unknown>, ms };
}

function nextCall(answer: Answer): { name: string; args: Record<string, unknown> } {
  const next = answer.json.next_call as { tool: string; arguments: Record<string, unknown> };
  return { name: next.tool, args: next.arguments };
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * The scenario of a slow model for one tool: in_progress within the soft budget (plus 0.5 s), in_progress
 * again on a repeat, the answer once the model has answered, and one upstream request.
 */
async function collectsOneJob(
  client: Client,
  fake: FakeProvider,
  name: string,
  args: Record<string, unknown>,
): Promise<Answer> {
  fake.reset();
  const started = performance.now();
  const first = await call(client, name, args);
  expect(first.ms).toBeLessThan(SOFT_SECS * 1000 + 500);
  expect(first.json).toMatchObject({
    status: 'in_progress',
    job: { model: SLOW_MODEL, attempt: 1 },
    next_call: { tool: name },
  });
  expect(first.json.next_steps).toMatch(/call .* again with the same arguments/);
  expect((first.json.metadata as Record<string, unknown>).soft_return).toMatchObject({ budget_s: SOFT_SECS });
  const again = nextCall(first);
  const second = await call(client, again.name, again.args);
  expect(second.json.status).toBe('in_progress');
  expect((second.json.job as { id: string }).id).toBe((first.json.job as { id: string }).id);
  // Past the model's answer time: the repeat collects the finished job at once.
  await sleep(Math.max(0, ANSWER_MS + 300 - (performance.now() - started)));
  const third = await call(client, again.name, again.args);
  expect(third.json.status).not.toBe('in_progress');
  expect(third.ms).toBeLessThan(SOFT_SECS * 1000);
  expect(fake.requests.filter(r => r.mode === 'delay')).toHaveLength(1);
  return third;
}

/**
 * The client's own timer fires (the SDK's `timeout` option) while the model works: the SDK cancels with its
 * timeout error as the reason, the job survives, and the next call collects it without a second request.
 */
async function survivesClientTimeout(client: Client, fake: FakeProvider): Promise<void> {
  fake.reset();
  const args = { prompt: 'a question the client will not wait for', model: SLOW_MODEL };
  const started = performance.now();
  await expect(client.callTool({ name: 'chat', arguments: args }, { timeout: 1_000 })).rejects.toThrow(
    /timed out/i,
  );
  await upstreamActive(fake);
  let collected = await call(client, 'chat', args);
  // Each call answers in_progress after the soft budget until the model has answered.
  for (let calls = 1; collected.json.status === 'in_progress'; calls++) {
    expect(calls).toBeLessThan(Math.ceil(ANSWER_MS / (SOFT_SECS * 1000)) + 2);
    collected = await call(client, 'chat', args);
  }
  expect(collected.json.content).toContain('a question the client will not wait for');
  expect(performance.now() - started).toBeGreaterThanOrEqual(ANSWER_MS - 100);
  expect(fake.requests.filter(r => r.mode === 'delay')).toHaveLength(1);
}

/** A person's cancel ends the job: the provider connection closes at once. */
async function explicitCancelCloses(client: Client, fake: FakeProvider): Promise<number> {
  await fake.waitForActive(0, ANSWER_MS + 2_000);
  fake.reset();
  const controller = new AbortController();
  const pending = client.callTool(
    { name: 'chat', arguments: { prompt: 'stop this one', model: SLOW_MODEL } },
    { signal: controller.signal },
  );
  const rejected = expect(pending).rejects.toThrow();
  await upstreamActive(fake);
  const aborted = performance.now();
  controller.abort('the user pressed Esc');
  await rejected;
  await fake.waitForActive(0, 5_000);
  return performance.now() - aborted;
}

function scenarios(connect: () => Promise<{ client: Client; fake: FakeProvider; dir: WorkDir }>) {
  let client: Client;
  let fake: FakeProvider;
  let dir: WorkDir;
  beforeAll(async () => {
    ({ client, fake, dir } = await connect());
  });

  it('chat answers in_progress, then the repeated call collects the one job', async () => {
    const answer = await collectsOneJob(client, fake, 'chat', {
      prompt: 'a slow question',
      model: SLOW_MODEL,
    });
    expect(answer.json.content).toContain('a slow question');
    expect(answer.json.metadata).toMatchObject({ model_used: SLOW_MODEL, soft_return: { budget_s: 2 } });
    const status = reportOf((await client.callTool({ name: 'status', arguments: {} })) as CallToolResult);
    expect(status.data.jobs).toContainEqual(
      expect.objectContaining({ tool: 'chat', model: SLOW_MODEL, phase: 'done', collected: true }),
    );
    expect(status.text).toMatch(/# Model jobs\n\n- \*\*chat\*\* fake-delay\S* done, \d+ s \(done, collected/);
  });

  it("a client's timeout leaves the job running, and the next call collects it", async () => {
    await survivesClientTimeout(client, fake);
  });

  it('an explicit cancel closes the upstream request at once', async () => {
    const ms = await explicitCancelCloses(client, fake);
    expect(ms).toBeLessThan(1_000);
  });

  it('a workflow expert step answers in_progress, then its next_call collects the one job', async () => {
    const file = join(dir.path, 'cache.ts');
    await writeFile(file, 'export const key = (user: string) => user;\n');
    const answer = await collectsOneJob(client, fake, 'thinkdeep', {
      step: 'Is the cache key safe across tenants?',
      step_number: 1,
      total_steps: 1,
      next_step_required: false,
      findings: 'The key is built from the user only.',
      relevant_files: [file],
      confidence: 'medium',
      model: SLOW_MODEL,
      // Without thinking, so the model is not upgraded to a thinking one.
      thinking_mode: 'minimal',
    });
    expect(answer.json.status).not.toBe('error');
    expect(answer.json.expert_analysis).toBeDefined();
    expect(answer.json.continuation_id).toBeTypeOf('string');
  });
}

overTransports(
  'model jobs',
  {
    client: 'e2e-jobs',
    models: [SLOW_MODEL],
    extra: { EXAI_SOFT_RETURN_SECS: String(SOFT_SECS) },
  },
  scenarios,
);

describe('a job nobody collects', () => {
  let fake: FakeProvider;
  afterAll(() => fake?.close());

  it('is cancelled when its grace period ends: its socket closes and nothing of it is left', async () => {
    fake = await startFakeProvider();
    const server = await startWorkflowServer({
      env: {
        GLM_API_URL: modeUrl(fake.url, 'hang'),
        EXAI_SOFT_RETURN_SECS: '0.3',
        EXAI_JOB_GRACE_SECS: '0.5',
      },
    });
    try {
      const { json } = await server.call('chat', { prompt: 'nobody will collect this', model: 'glm-4.6' });
      expect(json.status).toBe('in_progress');
      expect(server.app.jobs.live).toBe(1);
      expect(fake.stats().activeRequests).toBe(1);
      const abandoned = performance.now();
      await fake.waitForActive(0, 5_000);
      expect(performance.now() - abandoned).toBeGreaterThanOrEqual(300);
      expect(server.app.jobs.live).toBe(0);
      expect(server.app.jobs.list()[0]).toMatchObject({ phase: 'cancelled', collected: false });
      expect(server.app.jobs.list()[0]?.error).toMatch(/grace period/);
    } finally {
      await server.close();
    }
  });
});
