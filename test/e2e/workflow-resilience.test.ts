/**
 * The engine's handling of what the expert does, through the real MCP client against the fake provider:
 * errors, prose, requests for files, progress, the whole-call deadline, shared duplicates, the thinking
 * upgrade and malformed steps. (The per-tool promises are in workflow-guarantees.test.ts.)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import {
  contentUrl,
  modeUrl,
  startWorkflowServer,
  tempDir,
  type WorkflowServer,
  walk,
} from '../helpers/workflow-server.js';

const step1 = {
  step: 'Orders are charged twice under load.',
  step_number: 1,
  total_steps: 2,
  next_step_required: true,
  findings: 'Seen in production logs twice this week.',
};
const final = (continuation_id: unknown, extra: Record<string, unknown> = {}) => ({
  step: 'Checked the retry path.',
  step_number: 2,
  total_steps: 2,
  next_step_required: false,
  findings: 'The payment call is retried without an idempotency key.',
  continuation_id,
  ...extra,
});

describe('workflow resilience', () => {
  let fake: FakeProvider;
  let server: WorkflowServer | undefined;

  beforeEach(async () => {
    fake = await startFakeProvider();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await fake.close();
  });

  async function start(glm: string, env: Record<string, string> = {}) {
    server = await startWorkflowServer({ env: { GLM_API_URL: glm, ...env } });
    return server;
  }

  it('an expert error becomes analysis_error, promoted to status error', async () => {
    const s = await start(modeUrl(fake.url, 'status,code=500'));
    const [first] = await walk(s, 'debug', [step1]);
    const { json, result } = await s.call('debug', final(first!.continuation_id));
    expect(result.isError).toBe(true);
    expect(json).toMatchObject({ status: 'error', expert_analysis_status: 'analysis_error' });
    expect(String(json.content)).toMatch(/^Expert analysis failed: /);
  });

  it('an answer that is not JSON is kept as raw analysis with a parse note', async () => {
    const s = await start(contentUrl(fake.url, 'The retry wrapper is the culprit.'));
    const [, done] = await walk(s, 'debug', [step1, final(undefined)]);
    expect(done).toMatchObject({
      status: 'calling_expert_analysis',
      expert_analysis: { status: 'analysis_complete', raw_analysis: 'The retry wrapper is the culprit.' },
    });
    expect(String((done!.expert_analysis as Record<string, unknown>).parse_error)).toMatch(
      /not the JSON object/,
    );
  });

  it('files_required_to_continue is promoted, with the files and the call to send again', async () => {
    const ask = {
      status: 'files_required_to_continue',
      mandatory_instructions: 'Read the retry wrapper.',
      files_needed: ['/src/retry.ts'],
    };
    const s = await start(contentUrl(fake.url, JSON.stringify(ask)));
    const [, done] = await walk(s, 'debug', [step1, final(undefined)]);
    expect(done).toMatchObject({
      status: 'files_required_to_continue',
      files_needed: ['/src/retry.ts'],
      mandatory_instructions: 'Read the retry wrapper.',
      next_call: { tool: 'debug', arguments: { step_number: 2, next_step_required: false } },
    });
    expect(done!.expert_analysis).toBeUndefined();
    expect(String(done!.next_steps)).toContain('Read the retry wrapper.');
  });

  it('progress notifications flow while the expert runs', async () => {
    const answer = encodeURIComponent(JSON.stringify({ status: 'analysis_complete', summary: 'ok' }));
    const s = await start(modeUrl(fake.url, `slow,chunks=6,every=100,content=${answer}`));
    const [first] = await walk(s, 'debug', [step1]);
    const progress: string[] = [];
    const { json } = await s.call('debug', final(first!.continuation_id), {
      onprogress: p => progress.push(String(p.message)),
    });
    expect(json).toMatchObject({ status: 'calling_expert_analysis', expert_analysis: { summary: 'ok' } });
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatch(/^debug: glm-5\.1 starting/);
    expect(progress.at(-1)).toMatch(/^debug: glm-5\.1 (answering, \d+ tokens|waiting for the first token)/);
  });

  it('a whole call that runs out of WORKFLOW_TOOL_TIMEOUT_SECS answers with a clear timeout', async () => {
    const s = await start(modeUrl(fake.url, 'hang'), {
      WORKFLOW_TOOL_TIMEOUT_SECS: '0.6',
      EXPERT_ANALYSIS_TIMEOUT_SECS: '0.6',
      GLM_TIMEOUT_SECS: '0.6',
      KIMI_TIMEOUT_SECS: '0.6',
    });
    const [first] = await walk(s, 'codereview', [{ ...step1, step: 'Review the payment module.' }]);
    const started = performance.now();
    const { json, result } = await s.call(
      'codereview',
      final(first!.continuation_id, { relevant_files: [] }),
    );
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(result.isError).toBe(true);
    expect(json.status).toBe('error');
    expect(String(json.content)).toContain('WORKFLOW_TOOL_TIMEOUT_SECS');
    await fake.waitForActive(0, 2_000);
  });

  it('an identical final step joins the expert call in flight, then reuses its answer', async () => {
    const answer = encodeURIComponent(JSON.stringify({ status: 'analysis_complete', summary: 'shared' }));
    const s = await start(modeUrl(fake.url, `delay,ms=400,content=${answer}`));
    const [first] = await walk(s, 'debug', [step1]);
    const args = final(first!.continuation_id);
    const one = s.call('debug', args);
    await vi.waitFor(() => expect(fake.stats().activeRequests).toBe(1), { timeout: 5_000, interval: 10 });
    const two = s.call('debug', args);
    const [a, b] = await Promise.all([one, two]);
    expect(a.json.expert_analysis).toEqual({ status: 'analysis_complete', summary: 'shared' });
    expect(b.json.expert_analysis).toEqual(a.json.expert_analysis);
    expect((b.json.metadata as Record<string, unknown>).expert_shared).toBe('joined');
    const { json: third } = await s.call('debug', args);
    expect((third.metadata as Record<string, unknown>).expert_shared).toBe('cached');
    expect(fake.requests).toHaveLength(1);
  });

  it('upgrades a model without thinking when thinking is asked of the expert', async () => {
    // Every built-in GLM model thinks, so the model without thinking is one a models file adds.
    const dir = tempDir();
    const models = join(dir.path, 'models.json');
    writeFileSync(
      models,
      JSON.stringify({
        models: [
          {
            name: 'glm-plain',
            provider: 'glm',
            contextWindow: 128000,
            maxOutputTokens: 8192,
            thinking: 'none',
          },
        ],
      }),
    );
    try {
      const s = await start(contentUrl(fake.url, '{"status":"analysis_complete"}'), {
        EXAI_MODELS_FILE: models,
      });
      const [first] = await walk(s, 'debug', [step1]);
      const { json } = await s.call(
        'debug',
        final(first!.continuation_id, { model: 'glm-plain', thinking_mode: 'high' }),
      );
      expect(json.metadata).toMatchObject({
        model_used: 'glm-5.1',
        model_upgraded_from: 'glm-plain',
        thinking: true,
      });
      expect(fake.requests[0]!.body).toMatchObject({ model: 'glm-5.1', thinking: { type: 'enabled' } });
    } finally {
      dir.cleanup();
    }
  });

  it('says what to fix when a step is malformed or its thread is unknown', async () => {
    const s = await start(modeUrl(fake.url, 'ok'));
    const missing = await s.call('debug', { ...step1, step_number: 2 });
    expect(missing.result.isError).toBe(true);
    expect(String(missing.json.content)).toContain('pass the continuation_id from the step 1 response');
    const unknown = await s.call('debug', final('0b6f3c4e-8a8e-4d2f-9a51-7d3f3b1c2a10'));
    expect(unknown.result.isError).toBe(true);
    expect(unknown.json.status).toBe('error');
    const long = await s.call('debug', { ...step1, step: 'x'.repeat(100_001) });
    expect(long.json).toMatchObject({ status: 'resend_prompt' });
    expect(fake.requests).toHaveLength(0);
  });
});
