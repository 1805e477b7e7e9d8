/**
 * Calls shaped the way agents prompted for pal (zen) and EXAI make them, through the real MCP client against
 * the fake provider: their field names and values, the statuses and keys they read back, and the rules for
 * when the expert runs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import {
  contentUrl,
  initRepo,
  startWorkflowServer,
  type WorkflowServer,
  walk,
} from '../helpers/workflow-server.js';

const EXPERT_ANSWER = { status: 'analysis_complete', summary: 'Shard later; add a read replica first.' };

type Body = {
  messages: Array<{ role: string; content: string }>;
  temperature?: number;
  tools?: unknown[];
};

describe('pal and EXAI habits, end to end', () => {
  let fake: FakeProvider;
  let server: WorkflowServer;
  let appFile: string;

  beforeAll(async () => {
    fake = await startFakeProvider();
    server = await startWorkflowServer({
      env: { GLM_API_URL: contentUrl(fake.url, JSON.stringify(EXPERT_ANSWER)) },
    });
    initRepo(server.dir);
    appFile = join(server.dir, 'app.ts');
    writeFileSync(join(server.dir, 'notes.md'), 'The orders table has 40M rows.\n');
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const body = (i = 0) => fake.requests[i]!.body as Body;
  const oneStep = (extra: Record<string, unknown> = {}) => ({
    step: 'Should we shard the orders database?',
    step_number: 1,
    total_steps: 1,
    next_step_required: false,
    findings: 'One Postgres primary at 70% CPU at peak.',
    ...extra,
  });

  describe('the expert runs when pal and EXAI run it', () => {
    it('thinkdeep asks the expert at a one-step final step without files, with EXAI’s thinking keys', async () => {
      const { json } = await server.call('thinkdeep', oneStep({ focus_areas: ['scalability'] }));
      expect(json).toMatchObject({
        status: 'calling_expert_analysis',
        expert_analysis: EXPERT_ANSWER,
        thinkdeep_complete: true,
        thinking_complete: true,
        thinking_status: {
          current_step: 1,
          total_steps: 1,
          thinking_confidence: 'low',
          analysis_focus: ['scalability'],
        },
        complete_thinking: {
          steps_completed: 1,
          final_confidence: 'low',
          key_findings: ['Step 1: One Postgres primary at 70% CPU at peak.'],
        },
      });
      expect(fake.requests).toHaveLength(1);
    });

    it.each(['analyze', 'testgen'])('%s asks the expert with a single finding and no files', async tool => {
      const { json } = await server.call(tool, oneStep());
      expect(json).toMatchObject({ status: 'calling_expert_analysis', expert_analysis: EXPERT_ANSWER });
      expect(fake.requests).toHaveLength(1);
    });

    it('a final step without an expert says plainly that no second opinion was given, and how to get one', async () => {
      const { json: thin } = await server.call('debug', oneStep());
      expect(thin).toMatchObject({
        status: 'local_work_complete',
        expert_analysis: { status: 'skipped_insufficient_findings' },
        next_call: { tool: 'debug', arguments: { step_number: 1, next_step_required: false } },
      });
      expect(thin.next_steps).toMatch(/No second opinion was given: the expert had nothing to review/);
      expect(thin.next_steps).toMatch(/relevant_files/);

      const { json: declined } = await server.call(
        'codereview',
        oneStep({ relevant_files: [appFile], use_assistant_model: false }),
      );
      expect(declined).toMatchObject({
        status: 'local_work_complete',
        expert_analysis: { status: 'skipped_by_user_request' },
      });
      expect(declined.next_steps).toMatch(/No second opinion was given: use_assistant_model was false/);
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('nothing the agent sends is dropped in silence', () => {
    it('chat maps pal’s absolute_file_paths onto files and names working_directory_absolute_path and typos', async () => {
      const { json } = await server.call('chat', {
        prompt: 'Is this constant right?',
        absolute_file_paths: [appFile],
        working_directory_absolute_path: server.dir,
        file: join(server.dir, 'notes.md'),
        model: 'glm-4.5-flash',
      });
      expect(json.status).toBe('continuation_available');
      expect(json.metadata).toMatchObject({
        files: [appFile],
        mapped_fields: { absolute_file_paths: 'files' },
        ignored_fields: [
          'working_directory_absolute_path (accepted; chat writes no files here)',
          'file (did you mean files?)',
        ],
      });
      expect(JSON.stringify(body().messages)).toContain('export const a = 2;');
    });

    it('codereview review_validation_type and precommit precommit_type "internal" finish without the expert', async () => {
      const { json: review } = await server.call(
        'codereview',
        oneStep({ relevant_files: [appFile], review_validation_type: 'internal' }),
      );
      expect(review).toMatchObject({
        status: 'local_work_complete',
        expert_analysis: { status: 'skipped_by_user_request' },
        metadata: { mapped_fields: { review_validation_type: 'use_assistant_model' } },
      });
      const { json: commit } = await server.call(
        'precommit',
        oneStep({ path: server.dir, relevant_files: [appFile], precommit_type: 'internal' }),
      );
      expect(commit).toMatchObject({
        status: 'local_work_complete',
        metadata: { mapped_fields: { precommit_type: 'use_assistant_model' } },
      });
      expect(fake.requests).toHaveLength(0);

      const { json: external } = await server.call(
        'codereview',
        oneStep({ relevant_files: [appFile], review_validation_type: 'external' }),
      );
      expect(external.status).toBe('calling_expert_analysis');
      expect((external.metadata as { ignored_fields: string[] }).ignored_fields[0]).toMatch(
        /^review_validation_type \("external" is the default/,
      );
    });

    it('consensus accepts pal’s current_model_index and model_responses and says they are not needed', async () => {
      const [first, final] = await walk(server, 'consensus', [
        {
          step: 'Should we move sessions to Redis?',
          step_number: 1,
          total_steps: 2,
          next_step_required: true,
          findings: 'Sessions live in Postgres today.',
          models: [{ model: 'glm-4.6', stance: 'for' }],
          current_model_index: 0,
          model_responses: [],
        },
        {
          step: 'Synthesis.',
          step_number: 2,
          total_steps: 2,
          next_step_required: false,
          findings: 'Go ahead with a read-through cache.',
          current_model_index: 1,
        },
      ]);
      expect(first).toMatchObject({ status: 'ready_for_synthesis', models_consulted: 1 });
      expect((first!.metadata as { ignored_fields: string[] }).ignored_fields).toEqual([
        expect.stringMatching(/^current_model_index \(accepted and not needed: every model in models/),
        expect.stringMatching(/^model_responses \(accepted and not needed/),
      ]);
      expect(final).toMatchObject({
        status: 'consensus_workflow_complete',
        consensus_workflow_complete: true,
        consensus_complete: true,
      });
    });

    it('refactor takes pal’s confidence values: incomplete → low, partial → medium, complete → certain', async () => {
      const [first, second, final] = await walk(server, 'refactor', [
        {
          step: 'Find refactorings in app.ts.',
          step_number: 1,
          total_steps: 3,
          next_step_required: true,
          findings: 'One constant.',
          confidence: 'incomplete',
        },
        {
          step: 'Read the callers.',
          step_number: 2,
          total_steps: 3,
          next_step_required: true,
          findings: 'No callers.',
          confidence: 'partial',
        },
        {
          step: 'Done.',
          step_number: 3,
          total_steps: 3,
          next_step_required: false,
          findings: 'Nothing to refactor.',
          relevant_files: [appFile],
          confidence: 'complete',
        },
      ]);
      expect(first).toMatchObject({
        status: 'pause_for_refactoring_analysis',
        refactor_required: true,
        refactoring_status: { current_confidence: 'low' },
      });
      expect(second).toMatchObject({ refactoring_analysis_status: { current_confidence: 'medium' } });
      expect(final).toMatchObject({
        status: 'refactoring_analysis_complete_ready_for_implementation',
        expert_analysis: { status: 'skipped_due_to_complete_refactoring_confidence' },
        refactoring_complete: true,
        complete_refactoring: { confidence_level: 'certain' },
      });
      expect(fake.requests).toHaveLength(0);
    });

    it('issues_found takes any severity: known ones in lower case, others kept as given', async () => {
      const { json } = await server.call(
        'codereview',
        oneStep({
          relevant_files: [appFile],
          issues_found: [
            { severity: 'CRITICAL', description: 'a is 2, callers expect 1' },
            { severity: 'info', description: 'no doc comment' },
          ],
        }),
      );
      expect(json.status).toBe('calling_expert_analysis');
      expect((json.complete_code_review as { issues_found: unknown[] }).issues_found).toEqual([
        { severity: 'critical', description: 'a is 2, callers expect 1' },
        { severity: 'info', description: 'no doc comment' },
      ]);
    });

    it.each(['debug', 'codereview', 'testgen', 'precommit'])(
      '%s takes temperature and use_websearch and sends them to the expert',
      async tool => {
        const { json } = await server.call(
          tool,
          oneStep({
            relevant_files: [appFile],
            temperature: 0.9,
            use_websearch: true,
            ...(tool === 'precommit' && { path: server.dir }),
          }),
        );
        expect(json.status).toBe('calling_expert_analysis');
        expect((json.metadata as Record<string, unknown>).ignored_fields).toBeUndefined();
        expect(body().temperature).toBe(0.9);
        expect(JSON.stringify(body().tools)).toContain('web_search');
      },
    );

    it('reads null as a field left out, as Pydantic’s Optional does on pal and EXAI', async () => {
      const { json, result } = await server.call('debug', {
        ...oneStep(),
        total_steps: 2,
        next_step_required: true,
        continuation_id: null,
        hypothesis: null,
        model: null,
        images: null,
      });
      expect(result.isError).toBeFalsy();
      expect(json).toMatchObject({ status: 'pause_for_investigation', step_number: 1 });
      expect((json.metadata as Record<string, unknown>).ignored_fields).toBeUndefined();
    });

    it('names other unknown fields, with the field meant when one is close', async () => {
      const { json } = await server.call(
        'debug',
        oneStep({ relevant_file: [appFile], issues_found: [], colour: 'blue' }),
      );
      expect((json.metadata as { ignored_fields: string[] }).ignored_fields).toEqual([
        'relevant_file (did you mean relevant_files?)',
        'issues_found (not used by debug)',
        'colour (not a field of debug)',
      ]);
    });

    it('a step 2 without continuation_id keeps its error and names the latest thread of that tool', async () => {
      const { json: first } = await server.call('debug', {
        ...oneStep(),
        total_steps: 2,
        next_step_required: true,
      });
      const { json, result } = await server.call('debug', {
        ...oneStep(),
        step_number: 2,
        total_steps: 2,
      });
      expect(result.isError).toBe(true);
      expect(json).toMatchObject({
        status: 'debug_failed',
        step_number: 2,
        latest_continuation_id: first.continuation_id,
      });
      expect(json.error).toMatch(/pass the continuation_id from the step 1 response/);
      expect(json.error).toContain(`continuation_id "${String(first.continuation_id)}"`);
    });
  });

  describe('statuses and keys agents read', () => {
    it('a call that does not validate answers with {"status": "<tool>_failed", …} JSON and isError', async () => {
      const { json, result } = await server.call('debug', oneStep({ confidence: 'sure' }));
      expect(result.isError).toBe(true);
      expect(json).toMatchObject({ status: 'debug_failed', step_number: 1 });
      expect(json.error).toMatch(/^confidence: confidence must be one of exploring, low/);
      const chat = await server.call('chat', { prompt: '' });
      expect(chat.result.isError).toBe(true);
      expect(chat.json).toMatchObject({ status: 'chat_failed' });
      expect(chat.json.error).toMatch(/^prompt is empty: /);
      const challenge = await server.call('challenge', { prompt: '' });
      expect(challenge.result.isError).toBe(true);
      expect(challenge.json).toMatchObject({
        status: 'challenge_failed',
        error: 'prompt: prompt must not be empty',
      });
      const { json: noted } = await server.call('challenge', { prompt: 'You are wrong.', promt: 'typo' });
      expect(noted.metadata).toMatchObject({ ignored_fields: ['promt (did you mean prompt?)'] });
    });

    it('planner pauses for deep thinking on the first steps of a complex plan, and says how to render it', async () => {
      const plan = (n: number, last = false) => ({
        step: `Step ${n} of the migration`,
        step_number: n,
        total_steps: 5,
        next_step_required: !last,
      });
      const steps = await walk(server, 'planner', [plan(1), plan(2), plan(3), plan(4), plan(5, true)]);
      for (const early of steps.slice(0, 3)) {
        expect(early).toMatchObject({
          status: 'pause_for_deep_thinking',
          thinking_required: true,
          planner_required: true,
          planning_required: true,
          planner_status: { current_confidence: 'low' },
        });
        expect(early.required_thinking).toEqual(early.required_actions);
      }
      expect(steps[3]).toMatchObject({ status: 'pause_for_planning' });
      expect(steps[3]!.thinking_required).toBeUndefined();
      expect(steps[4]).toMatchObject({
        status: 'planning_complete',
        planner_complete: true,
        output: { format: 'step_by_step_planning' },
      });
      expect(String((steps[4]!.output as { rendering_instructions: string }).rendering_instructions)).toMatch(
        /ASCII diagram/,
      );
    });
  });
});

describe('conversation limits counted as EXAI counts them', () => {
  let fake: FakeProvider;
  let server: WorkflowServer;

  beforeAll(async () => {
    fake = await startFakeProvider();
    server = await startWorkflowServer({
      env: { GLM_API_URL: contentUrl(fake.url, 'Noted.'), MAX_CONVERSATION_TURNS: '2' },
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('offers MAX−1 exchanges on a new thread, and a full thread still answers without an offer', async () => {
    const ask = (continuation_id?: string) =>
      server.call('chat', { prompt: 'And now?', model: 'glm-4.5-flash', continuation_id });
    const first = (await ask()).json;
    const offer = first.continuation_offer as {
      continuation_id: string;
      remaining_turns: number;
      note: string;
    };
    expect(offer.remaining_turns).toBe(1);
    expect(offer.note).toMatch(/^You can continue this conversation for 1 more exchanges/);

    const last = await ask(offer.continuation_id);
    expect(last.result.isError).toBeFalsy();
    expect(last.json).toMatchObject({ status: 'success', content: 'Noted.', continuation_offer: null });

    const beyond = await ask(offer.continuation_id);
    expect(beyond.result.isError).toBeFalsy();
    expect(beyond.json).toMatchObject({ status: 'success', content: 'Noted.', continuation_offer: null });
    expect(String((beyond.json.metadata as { memory_warning: string }).memory_warning)).toMatch(
      /could not be saved/,
    );
    expect(fake.requests).toHaveLength(3);
  });
});
