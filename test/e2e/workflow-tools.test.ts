/**
 * Every workflow tool that consults an expert, through the real MCP client against the fake provider: a
 * three-step walk to the expert and back, and the skip when the agent is certain.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { contentUrl, startWorkflowServer, type WorkflowServer, walk } from '../helpers/workflow-server.js';

const EXPERT_ANSWER = {
  status: 'analysis_complete',
  summary: 'The cache key omits the tenant id, so tenants read each other’s sessions.',
  hypotheses: [{ name: 'tenant-less key', confidence: 'high', minimal_fix: 'add tenant to the key' }],
};

interface Case {
  tool: string;
  pause: string;
  statusKey: string;
  requiredKey: string;
  completeKey: string;
  doneKey: string;
  certain: string;
  skipped: string;
  extra: Record<string, unknown>;
  /** EXAI's name for requiredKey, sent alongside ours. */
  exaiRequired?: string;
  /** Text of the tool's own fields expected in the expert prompt. */
  section: string;
}

const standard = (
  tool: string,
  noun: string,
  certain: string,
  extra: Record<string, unknown>,
  section: string,
): Case => ({
  tool,
  pause: `pause_for_${noun}`,
  statusKey: `${noun}_status`,
  requiredKey: `${noun}_required`,
  completeKey: `complete_${noun}`,
  doneKey: `${noun}_complete`,
  certain,
  skipped: 'skipped_due_to_certain_confidence',
  extra,
  section,
});

const CASES: Case[] = [
  standard('debug', 'investigation', 'certain_confidence_proceed_with_fix', {}, '=== ISSUE DESCRIPTION ==='),
  {
    ...standard(
      'thinkdeep',
      'thinkdeep',
      'deep_thinking_complete_ready_for_implementation',
      { problem_context: 'A Node 20 service behind a CDN', focus_areas: ['isolation'] },
      'Context: A Node 20 service behind a CDN',
    ),
    skipped: 'skipped_due_to_certain_thinking_confidence',
  },
  {
    ...standard(
      'analyze',
      'analysis',
      'analysis_complete_ready_for_implementation',
      { analysis_type: 'architecture', output_format: 'actionable' },
      'Analysis type: architecture',
    ),
    exaiRequired: 'analyze_required',
  },
  {
    ...standard(
      'codereview',
      'code_review',
      'code_review_complete_ready_for_implementation',
      { review_type: 'security', focus_on: 'session handling', severity_filter: 'high' },
      'Focus on: session handling',
    ),
    skipped: 'skipped_due_to_certain_review_confidence',
    exaiRequired: 'codereview_required',
  },
  {
    ...standard(
      'refactor',
      'refactoring_analysis',
      'refactoring_analysis_complete_ready_for_implementation',
      { refactor_type: 'decompose', focus_areas: ['testability'] },
      'Refactor type: decompose',
    ),
    skipped: 'skipped_due_to_complete_refactoring_confidence',
    exaiRequired: 'refactor_required',
  },
  {
    ...standard(
      'testgen',
      'test_generation',
      'test_generation_complete_ready_for_implementation',
      {},
      '=== TEST GENERATION REQUEST ===',
    ),
    pause: 'pause_for_test_analysis',
    requiredKey: 'test_analysis_required',
    skipped: 'skipped_due_to_certain_test_confidence',
    exaiRequired: 'testgen_required',
  },
  {
    ...standard(
      'secaudit',
      'security_audit',
      'security_analysis_complete',
      { audit_focus: 'owasp', threat_level: 'high', compliance_requirements: ['SOC2'] },
      'Compliance requirements: SOC2',
    ),
    skipped: 'skipped_due_to_certain_audit_confidence',
    exaiRequired: 'secaudit_required',
  },
  {
    ...standard(
      'precommit',
      'validation',
      'validation_complete_ready_for_commit',
      {},
      '=== GIT DIFF (staged) ===',
    ),
    skipped: 'skipped_due_to_certain_validation_confidence',
    exaiRequired: 'precommit_required',
  },
];

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, stdio: 'ignore' });
}

describe('workflow tools with an expert, end to end', () => {
  let fake: FakeProvider;
  let server: WorkflowServer;
  let sessionFile: string;

  beforeAll(async () => {
    fake = await startFakeProvider();
    server = await startWorkflowServer({
      env: { GLM_API_URL: contentUrl(fake.url, JSON.stringify(EXPERT_ANSWER)) },
    });
    sessionFile = join(server.dir, 'session.ts');
    writeFileSync(sessionFile, "export const key = (user: string) => 'session:' + user;\n");
    // A repository for precommit: one commit, then a staged new file and an unstaged edit.
    git(server.dir, 'init', '-q');
    git(server.dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'add', 'session.ts');
    git(server.dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init');
    writeFileSync(
      join(server.dir, 'tenant.ts'),
      'export const tenantOf = (id: string) => id.split(":")[0];\n',
    );
    git(server.dir, 'add', 'tenant.ts');
    writeFileSync(
      sessionFile,
      "export const key = (user: string, tenant: string) => 'session:' + tenant + ':' + user;\n",
    );
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const extraFor = (c: Case) => (c.tool === 'precommit' ? { path: server.dir } : c.extra);

  it.each(CASES)('$tool: pauses twice, then the expert answers and its JSON is used as is', async c => {
    const [first, second, final] = await walk(server, c.tool, [
      {
        step: 'Users see other tenants’ sessions after login.',
        step_number: 1,
        total_steps: 3,
        next_step_required: true,
        findings: 'Reproduced with two tenants.',
        ...extraFor(c),
      },
      {
        step: 'Read the session cache.',
        step_number: 2,
        total_steps: 3,
        next_step_required: true,
        findings: 'session.ts builds the key from the user only.',
        relevant_files: [sessionFile],
        confidence: 'medium',
        hypothesis: 'The key lacks the tenant.',
      },
      {
        step: 'Confirmed the key format.',
        step_number: 3,
        total_steps: 3,
        next_step_required: false,
        findings: 'Two tenants with user "bob" share a key.',
        relevant_files: [sessionFile],
        confidence: 'high',
      },
    ]);
    const id = first!.continuation_id as string;
    expect(first).toMatchObject({
      status: c.pause,
      [c.requiredKey]: true,
      step_number: 1,
      next_step_number: 2,
    });
    if (c.exaiRequired) expect(first![c.exaiRequired]).toBe(true);
    expect(first!.next_call).toMatchObject({
      tool: c.tool,
      arguments: { step_number: 2, continuation_id: id },
    });
    expect((first!.required_actions as string[]).length).toBeGreaterThan(0);
    expect(second).toMatchObject({
      status: c.pause,
      continuation_id: id,
      [c.statusKey]: { relevant_files: 1 },
    });
    expect(final).toMatchObject({
      status: 'calling_expert_analysis',
      continuation_id: id,
      [c.doneKey]: true,
      expert_analysis: EXPERT_ANSWER,
      file_context: { type: 'fully_embedded', files_embedded: 1 },
      metadata: { tool_name: c.tool, model_used: 'glm-5.1', provider_used: 'glm' },
    });
    expect(final![c.completeKey]).toMatchObject({ steps_taken: 3, relevant_files: [sessionFile] });
    expect(fake.requests).toHaveLength(1);
    const body = fake.requests[0]!.body as { messages: Array<{ role: string; content: string }> };
    const prompt = body.messages[1]!.content;
    expect(body.messages[0]!.content).toContain('OUTPUT RULES');
    expect(prompt).toContain('Step 2: session.ts builds the key from the user only.');
    expect(prompt).toContain(`--- BEGIN FILE: ${sessionFile} ---`);
    expect(prompt).toContain(c.section);
  });

  it.each(CASES.filter(c => c.tool !== 'analyze'))(
    '$tool: skips the expert when the agent is certain',
    async c => {
      const [, final] = await walk(server, c.tool, [
        {
          step: 'Sessions leak between tenants.',
          step_number: 1,
          total_steps: 2,
          next_step_required: true,
          findings: 'Reproduced.',
          ...extraFor(c),
        },
        {
          step: 'Found and confirmed the cause.',
          step_number: 2,
          total_steps: 2,
          next_step_required: false,
          findings: 'The key lacks the tenant; fixed and verified locally.',
          relevant_files: [sessionFile],
          confidence: 'certain',
        },
      ]);
      expect(final).toMatchObject({
        status: c.certain,
        skip_expert_analysis: true,
        expert_analysis: { status: c.skipped },
        [c.doneKey]: true,
      });
      expect(fake.requests).toHaveLength(0);
    },
  );

  it('analyze asks the expert even when the agent is certain', async () => {
    const [, final] = await walk(server, 'analyze', [
      {
        step: 'Assess the session design.',
        step_number: 1,
        total_steps: 2,
        next_step_required: true,
        findings: 'Read the code.',
      },
      {
        step: 'Done.',
        step_number: 2,
        total_steps: 2,
        next_step_required: false,
        findings: 'Key lacks tenant.',
        relevant_files: [sessionFile],
        confidence: 'certain',
      },
    ]);
    expect(final).toMatchObject({ status: 'calling_expert_analysis', expert_analysis: EXPERT_ANSWER });
    expect(fake.requests).toHaveLength(1);
  });

  it('finishes locally without the expert when use_assistant_model is false', async () => {
    const [, final] = await walk(server, 'debug', [
      {
        step: 'Sessions leak.',
        step_number: 1,
        total_steps: 2,
        next_step_required: true,
        findings: 'Reproduced.',
      },
      {
        step: 'Found it.',
        step_number: 2,
        total_steps: 2,
        next_step_required: false,
        findings: 'Key lacks tenant.',
        relevant_files: [sessionFile],
        use_assistant_model: false,
      },
    ]);
    expect(final).toMatchObject({
      status: 'local_work_complete',
      expert_analysis: { status: 'skipped_by_user_request' },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('ends early when a middle step is certain with substantial findings and relevant files', async () => {
    const [, second] = await walk(server, 'debug', [
      {
        step: 'Sessions leak.',
        step_number: 1,
        total_steps: 4,
        next_step_required: true,
        findings: 'Reproduced.',
      },
      {
        step: 'Found and verified the cause.',
        step_number: 2,
        total_steps: 4,
        next_step_required: true,
        findings:
          'session.ts builds the cache key from the user id only; two tenants with the same user name collide. Verified with a test.',
        relevant_files: [sessionFile],
        confidence: 'certain',
      },
    ]);
    expect(second).toMatchObject({
      status: 'certain_confidence_proceed_with_fix',
      next_step_required: false,
      early_termination: true,
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('backtracking drops the later steps from what the expert sees', async () => {
    const [, , , final] = await walk(server, 'debug', [
      {
        step: 'Sessions leak.',
        step_number: 1,
        total_steps: 4,
        next_step_required: true,
        findings: 'Reproduced.',
      },
      {
        step: 'Suspected the CDN.',
        step_number: 2,
        total_steps: 4,
        next_step_required: true,
        findings: 'cdn-theory',
      },
      {
        step: 'CDN was a dead end.',
        step_number: 3,
        total_steps: 4,
        next_step_required: true,
        findings: 'dead-end',
      },
      {
        step: 'Back to the cache.',
        step_number: 4,
        total_steps: 4,
        next_step_required: false,
        findings: 'The key lacks the tenant.',
        relevant_files: [sessionFile],
        backtrack_from_step: 2,
      },
    ]);
    expect(final!.complete_investigation).toMatchObject({
      steps_taken: 2,
      work_summary: 'Step 1: Reproduced.\nStep 4: The key lacks the tenant.',
    });
    const prompt = (fake.requests[0]!.body as { messages: Array<{ content: string }> }).messages[1]!.content;
    expect(prompt).not.toContain('cdn-theory');
    expect(prompt).not.toContain('dead-end');
  });

  it('precommit reads the staged and unstaged changes with git at step 1', async () => {
    const { json } = await server.call('precommit', {
      step: 'Validate the tenant fix before committing.',
      step_number: 1,
      total_steps: 2,
      next_step_required: true,
      findings: 'Starting.',
      path: server.dir,
    });
    expect(json.git_changes).toMatchObject({
      staged: [{ status: 'A', path: 'tenant.ts' }],
      unstaged: [{ status: 'M', path: 'session.ts' }],
      untracked: [],
    });
  });

  it('precommit refuses a path outside the allowed roots', async () => {
    const { json, result } = await server.call('precommit', {
      step: 'Validate.',
      step_number: 1,
      total_steps: 1,
      next_step_required: true,
      findings: 'Starting.',
      path: '/',
    });
    expect(result.isError).toBe(true);
    expect(String(json.content)).toMatch(/^Cannot use path \/: it is outside the allowed folders/);
  });
});
