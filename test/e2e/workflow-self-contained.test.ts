/**
 * The workflow tools without an expert (planner, tracer, docgen) and consensus, which consults several
 * models itself, through the real MCP client against the fake provider.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import {
  contentUrl,
  modeUrl,
  startWorkflowServer,
  type WorkflowServer,
  walk,
} from '../helpers/workflow-server.js';

describe('planner, tracer and docgen (no model)', () => {
  let fake: FakeProvider;
  let server: WorkflowServer;

  beforeAll(async () => {
    fake = await startFakeProvider();
    server = await startWorkflowServer({ env: { GLM_API_URL: modeUrl(fake.url, 'ok') } });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('planner keeps revisions and branches and returns the whole plan at the end', async () => {
    const steps = await walk(server, 'planner', [
      {
        step: 'Migrate the session store to Redis',
        step_number: 1,
        total_steps: 4,
        next_step_required: true,
      },
      {
        step: 'Add a Redis client behind the store port',
        step_number: 2,
        total_steps: 4,
        next_step_required: true,
      },
      { step: 'Dual-write for a week', step_number: 3, total_steps: 4, next_step_required: true },
      {
        step: 'Alternative: cut over during a maintenance window',
        step_number: 4,
        total_steps: 5,
        next_step_required: true,
        is_branch_point: true,
        branch_from_step: 3,
        branch_id: 'big-bang',
      },
      {
        step: 'Dual-write for two weeks, reading from Redis in the second',
        step_number: 5,
        total_steps: 5,
        next_step_required: false,
        is_step_revision: true,
        revises_step_number: 3,
      },
    ]);
    expect(steps[0]).toMatchObject({
      status: 'pause_for_planning',
      planning_required: true,
      step_content: 'Migrate the session store to Redis',
    });
    expect(steps[3]).toMatchObject({
      plan_metadata: { branches: ['big-bang'], is_branch_point: true, branch_id: 'big-bang' },
    });
    const final = steps[4]!;
    expect(final).toMatchObject({ status: 'planning_complete', planning_complete: true });
    expect(final.plan_summary).toBe(
      [
        'PLAN: Migrate the session store to Redis',
        '',
        '1. Migrate the session store to Redis',
        '2. Add a Redis client behind the store port',
        '3. Dual-write for a week (revised in step 5)',
        '5. Dual-write for two weeks, reading from Redis in the second',
        '',
        'Branch "big-bang" (from step 3):',
        '4. Alternative: cut over during a maintenance window',
      ].join('\n'),
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('tracer ask records step 1 in a thread, so the agent goes on with step 2 as on pal and EXAI', async () => {
    const [choice, first, final] = await walk(server, 'tracer', [
      {
        step: 'How does checkout finalise an order?',
        step_number: 1,
        total_steps: 3,
        next_step_required: true,
        findings: 'Start.',
        trace_mode: 'ask',
        target_description: 'OrderService',
      },
      {
        step: 'Listed the callers and callees of OrderService.',
        step_number: 2,
        total_steps: 3,
        next_step_required: true,
        findings: 'OrderService is called by the checkout route.',
        trace_mode: 'dependencies',
      },
      {
        step: 'Mapped callers and callees.',
        step_number: 3,
        total_steps: 3,
        next_step_required: false,
        findings: 'OrderService uses Payments and Inventory.',
      },
    ]);
    const id = choice!.continuation_id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(choice).toMatchObject({
      status: 'mode_selection_required',
      mode_selection_required: true,
      next_step_required: true,
      next_call: {
        arguments: { step_number: 2, trace_mode: '<precision|dependencies>', continuation_id: id },
      },
    });
    expect(Object.keys(choice!.mode_options as object)).toEqual(['precision', 'dependencies']);
    expect(first).toMatchObject({
      status: 'pause_for_tracing',
      continuation_id: id,
      trace_mode: 'dependencies',
      tracer_required: true,
      tracer_status: { current_confidence: 'low' },
    });
    expect((first!.required_actions as string[])[0]).toMatch(/dependencies one level further/);
    expect(final).toMatchObject({
      status: 'tracing_complete',
      tracing_complete: true,
      tracer_complete: true,
      trace_mode: 'dependencies',
      output: { format: 'dependencies_trace_analysis' },
    });
    expect(String((final!.output as { rendering_instructions: string }).rendering_instructions)).toMatch(
      /dependency map/,
    );
    expect(final!.complete_tracing).toMatchObject({ steps_taken: 3 });
  });

  it('docgen refuses to finish while counted files are undocumented', async () => {
    const [, early, done] = await walk(server, 'docgen', [
      {
        step: 'Document src/cache.',
        step_number: 1,
        total_steps: 3,
        next_step_required: true,
        findings: 'Three files.',
        total_files_to_document: 3,
      },
      {
        step: 'Documented two files.',
        step_number: 2,
        total_steps: 3,
        next_step_required: false,
        findings: 'cache.ts, keys.ts done.',
        num_files_documented: 2,
      },
      {
        step: 'Documented the last one.',
        step_number: 3,
        total_steps: 3,
        next_step_required: false,
        findings: 'store.ts done.',
        num_files_documented: 3,
      },
    ]);
    expect(early).toMatchObject({
      status: 'documentation_analysis_required',
      pause_for_docgen: true,
      documentation_analysis_required: true,
      next_step_required: true,
      documentation_progress: { num_files_documented: 2, total_files_to_document: 3 },
    });
    expect(String(early!.next_steps)).toMatch(/^Not finished: 2 of 3 files are documented/);
    expect(done).toMatchObject({
      status: 'documentation_analysis_complete',
      documentation_analysis_complete: true,
    });
  });
});

describe('consensus', () => {
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

  it('consults the models concurrently, each with its stance, and completes with the synthesis', async () => {
    // Each answer takes 500 ms: consulted one after the other, the second request would come 500 ms later.
    server = await startWorkflowServer({
      env: {
        GLM_API_URL: modeUrl(fake.url, 'delay,ms=500,content=GLM%20says%20yes'),
        KIMI_API_URL: modeUrl(fake.url, 'delay,ms=500,content=Kimi%20says%20no'),
      },
    });
    const { json: first } = await server.call('consensus', {
      step: 'Should we move sessions to Redis?',
      step_number: 1,
      total_steps: 2,
      next_step_required: true,
      findings: 'Our own view: yes, for multi-replica support.',
      models: [
        { model: 'glm-4.6', stance: 'for' },
        { model: 'kimi-k2', stance: 'against' },
      ],
    });
    const [a, b] = fake.requests;
    expect(Math.abs(b!.at - a!.at)).toBeLessThan(400);
    expect(first).toMatchObject({
      status: 'ready_for_synthesis',
      models_consulted: 2,
      accumulated_responses: [
        { model: 'glm-4.6', stance: 'for', status: 'success', verdict: 'GLM says yes', provider_used: 'glm' },
        {
          model: 'kimi-k2',
          stance: 'against',
          status: 'success',
          verdict: 'Kimi says no',
          provider_used: 'kimi',
        },
      ],
    });
    const systems = fake.requests.map(
      r => (r.body as { messages: Array<{ content: string }> }).messages[0]!.content,
    );
    expect(systems.some(s => s.includes('You argue FOR the proposal'))).toBe(true);
    expect(systems.some(s => s.includes('You argue AGAINST the proposal'))).toBe(true);
    const { json: final } = await server.call('consensus', {
      step: 'Synthesis',
      step_number: 2,
      total_steps: 2,
      next_step_required: false,
      findings: 'Go ahead, with a dual-write period to answer the risks raised.',
      continuation_id: first.continuation_id,
    });
    expect(final).toMatchObject({ status: 'consensus_workflow_complete', models_consulted: 2 });
    expect((final.accumulated_responses as unknown[]).length).toBe(2);
    expect(fake.requests).toHaveLength(2);
  });

  it('a hanging model costs only its own answer, within its own budget, and can be asked again', async () => {
    server = await startWorkflowServer({
      env: {
        EXPERT_ANALYSIS_TIMEOUT_SECS: '0.5',
        GLM_TIMEOUT_SECS: '0.5',
        KIMI_TIMEOUT_SECS: '0.5',
        GLM_API_URL: contentUrl(fake.url, 'GLM verdict'),
        KIMI_API_URL: modeUrl(fake.url, 'hang'),
      },
    });
    const started = performance.now();
    const { json } = await server.call('consensus', {
      step: 'Adopt the new queue?',
      step_number: 1,
      total_steps: 2,
      next_step_required: true,
      findings: 'Leaning yes.',
      models: [
        { model: 'glm-4.6', stance: 'neutral' },
        { model: 'kimi-k2', stance: 'neutral' },
      ],
    });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(3_000);
    expect(json).toMatchObject({
      status: 'ready_for_synthesis',
      models_consulted: 1,
      accumulated_responses: [
        { model: 'glm-4.6', status: 'success', verdict: 'GLM verdict' },
        { model: 'kimi-k2', status: 'error', error_kind: 'timeout' },
      ],
    });
    await fake.waitForActive(0);
    // Naming the failed model again consults only that one.
    fake.reset();
    const { json: retry } = await server.call('consensus', {
      step: 'Retry Kimi',
      step_number: 2,
      total_steps: 3,
      next_step_required: true,
      findings: 'Waiting for Kimi.',
      continuation_id: json.continuation_id,
      models: [{ model: 'kimi-k2', stance: 'neutral' }],
    });
    expect(fake.requests).toHaveLength(1);
    expect(retry).toMatchObject({ model_responses: [{ model: 'kimi-k2', status: 'error' }] });
    expect((retry.accumulated_responses as unknown[]).length).toBe(2);
    await fake.waitForActive(0);
  });

  it('fails the step at once, listing the models, when a model name is unknown', async () => {
    server = await startWorkflowServer({ env: { GLM_API_URL: modeUrl(fake.url, 'ok') } });
    const { json, result } = await server.call('consensus', {
      step: 'Q?',
      step_number: 1,
      total_steps: 1,
      next_step_required: false,
      models: [{ model: 'gpt-9', stance: 'for' }],
    });
    expect(result.isError).toBe(true);
    expect(String(json.content)).toMatch(/^Unknown model "gpt-9"\. Available models: glm-5\.3/);
    expect(fake.requests).toHaveLength(0);
  });
});
