/**
 * Answers name only what happened, and a missing key matters only where a model is called: through the real
 * MCP client against servers built by the real factory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { startWorkflowServer, type WorkflowServer, walk } from '../helpers/workflow-server.js';

const STEP = {
  step: 'Orders are sometimes charged twice under load. Find the cause.',
  total_steps: 2,
  findings: 'Two charges 40 ms apart in the payment log, same order id, only when the gateway is slow.',
};

describe('without any API key', () => {
  let server: WorkflowServer;
  beforeAll(async () => {
    server = await startWorkflowServer({ env: { GLM_API_KEY: '', KIMI_API_KEY: '' } });
  });
  afterAll(() => server.close());

  it('a workflow runs its steps; the final step names the keys, or finishing without the expert', async () => {
    const [first, last] = await walk(server, 'debug', [
      { ...STEP, step_number: 1, next_step_required: true },
      { ...STEP, step_number: 2, next_step_required: false, confidence: 'high' },
    ]);
    expect(first?.status).toBe('pause_for_investigation');
    expect(last?.status).toBe('error');
    expect(last?.content).toMatch(
      /Set GLM_API_KEY or ZHIPUAI_API_KEY .* or KIMI_API_KEY or MOONSHOT_API_KEY/,
    );
    expect(last?.content).toMatch(/send this final step again with use_assistant_model: false/);
    expect(last?.metadata).toMatchObject({ tool_name: 'debug', error_kind: 'not_configured' });
    expect(last?.metadata).not.toHaveProperty('model_used');
    expect(last?.metadata).not.toHaveProperty('provider_used');

    const { json: finished } = await server.call('debug', {
      ...STEP,
      step_number: 2,
      next_step_required: false,
      confidence: 'high',
      use_assistant_model: false,
      continuation_id: first?.continuation_id,
    });
    expect(finished.status).toBe('local_work_complete');
  });

  it('chat names the keys and no model as used', async () => {
    const { json, result } = await server.call('chat', { prompt: 'hi' });
    expect(result.isError).toBe(true);
    expect(json.content).toMatch(/GLM_API_KEY .* KIMI_API_KEY/);
    expect(json.metadata).toMatchObject({ error_kind: 'not_configured' });
    expect(json.metadata).not.toHaveProperty('model_used');
    expect(json.metadata).not.toHaveProperty('provider_used');
  });
});

describe('metadata', () => {
  let fake: FakeProvider;
  let server: WorkflowServer;
  beforeAll(async () => {
    fake = await startFakeProvider();
    server = await startWorkflowServer({
      env: { GLM_API_URL: `${fake.url}/v1`, KIMI_API_URL: `${fake.url}/v1` },
    });
  });
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  it('chat names model_requested only when a model was requested', async () => {
    const { json: unnamed } = await server.call('chat', { prompt: 'hi' });
    expect(unnamed.content).toBe('echo: hi');
    expect(unnamed.metadata).toHaveProperty('model_used');
    expect(unnamed.metadata).not.toHaveProperty('model_requested');
    const { json: named } = await server.call('chat', { prompt: 'hi', model: 'kimi-k2' });
    expect(named.metadata).toMatchObject({ model_requested: 'kimi-k2', model_used: 'kimi-k2.6' });
  });

  it("planner's next_call asks for the next plan step, with no investigation placeholders or file advice", async () => {
    const [first] = await walk(server, 'planner', [
      { step: 'Move billing to events', step_number: 1, total_steps: 3, next_step_required: true },
    ]);
    const next = first?.next_call as { arguments: Record<string, unknown> };
    expect(next.arguments).toEqual({
      step: '<the next step of the plan: one concrete action and its outcome>',
      step_number: 2,
      total_steps: 3,
      next_step_required: true,
      continuation_id: first?.continuation_id,
    });
    expect(JSON.stringify(first)).not.toMatch(/investigated|file:line|relevant_files as you find/);
    expect(first).not.toHaveProperty('file_context');
  });

  it('hypotheses_formed counts distinct hypotheses, not steps that state one', async () => {
    const hypothesis = 'The HTTP client retries the charge on timeout without an idempotency key.';
    const answers = await walk(server, 'debug', [
      { ...STEP, total_steps: 4, step_number: 1, next_step_required: true, hypothesis },
      { ...STEP, total_steps: 4, step_number: 2, next_step_required: true, hypothesis: ` ${hypothesis}` },
      {
        ...STEP,
        total_steps: 4,
        step_number: 3,
        next_step_required: true,
        hypothesis: 'The webhook handler charges again on redelivery.',
      },
    ]);
    const counts = answers.map(a => (a.investigation_status as Record<string, unknown>).hypotheses_formed);
    expect(counts).toEqual([1, 1, 2]);
  });
});
