import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { splitArgs, stepSchema } from '../../src/workflow/schema.js';
import { consensusTool } from '../../src/workflow/tools/consensus.js';
import { debugTool } from '../../src/workflow/tools/debug.js';
import { plannerTool } from '../../src/workflow/tools/planner.js';
import { precommitTool } from '../../src/workflow/tools/precommit.js';
import type { WorkflowTool } from '../../src/workflow/types.js';

const step1 = {
  step: 'Why does login fail?',
  step_number: 1,
  total_steps: 3,
  next_step_required: true,
  findings: 'none yet',
};

function problems(tool: WorkflowTool, input: Record<string, unknown>): string[] {
  const parsed = stepSchema(tool).safeParse(input);
  if (parsed.success) return [];
  return parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`);
}

describe('workflow step schema', () => {
  it('accepts a minimal step 1 and fills the protocol defaults', () => {
    const parsed = stepSchema(debugTool).parse(step1);
    const { args } = splitArgs(debugTool, parsed);
    expect(args).toMatchObject({
      confidence: 'low',
      use_assistant_model: true,
      files_checked: [],
      relevant_files: [],
    });
  });

  it('says what to fix when step_number is beyond total_steps', () => {
    expect(problems(debugTool, { ...step1, step_number: 4 })).toContain(
      'total_steps: step_number 4 is beyond total_steps 3: raise total_steps to at least 4',
    );
  });

  it('asks for the continuation_id from step 2 on', () => {
    expect(problems(debugTool, { ...step1, step_number: 2 })[0]).toMatch(
      /^continuation_id: step_number 2 continues a workflow: pass the continuation_id from the step 1 response/,
    );
  });

  it('refuses blank steps and findings, relative paths, unknown confidence and a backtrack that is not below the step', () => {
    const found = problems(debugTool, {
      ...step1,
      step: '  ',
      findings: '',
      step_number: 2,
      continuation_id: 'x',
      relevant_files: ['src/a.ts'],
      confidence: 'sure',
      backtrack_from_step: 2,
    });
    expect(found.join('\n')).toContain('relevant_files.0: "src/a.ts" is not an absolute path');
    expect(found.join('\n')).toContain('confidence: confidence must be one of exploring, low, medium, high');
    // The cross-field rules run once the fields themselves are valid.
    expect(
      problems(debugTool, {
        ...step1,
        step: ' ',
        findings: ' ',
        step_number: 2,
        continuation_id: 'x',
        backtrack_from_step: 2,
      }),
    ).toEqual([
      'step: step must not be empty: say what this step investigates',
      'findings: findings must not be empty: report what this step found (or "nothing yet")',
      'backtrack_from_step: backtrack_from_step 2 must be below step_number 2: it names the first step to discard',
    ]);
  });

  it("requires a tool's step-1 fields at step 1 only", () => {
    expect(problems(precommitTool, step1)).toEqual(['path: path is required at step 1 of precommit']);
    expect(problems(precommitTool, { ...step1, step_number: 2, continuation_id: 'x' })).toEqual([]);
  });

  it('leaves hidden fields out of the schema an agent sees, and gives them their defaults', () => {
    const shape = z.toJSONSchema(stepSchema(plannerTool), { io: 'input' }) as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(Object.keys(shape.properties)).not.toContain('relevant_files');
    expect(Object.keys(shape.properties)).not.toContain('use_assistant_model');
    expect(shape.required).toEqual(['step', 'step_number', 'total_steps', 'next_step_required']);
    const { args, extras } = splitArgs(
      plannerTool,
      stepSchema(plannerTool).parse({ ...step1, findings: undefined, is_branch_point: true }),
    );
    expect(args.use_assistant_model).toBe(false);
    expect(extras).toMatchObject({ is_branch_point: true, is_step_revision: false });
  });

  it('refuses a consensus model listed twice with the same stance', () => {
    const models = [
      { model: 'glm-4.6', stance: 'for' },
      { model: 'glm-4.6', stance: 'for' },
    ];
    expect(problems(consensusTool, { ...step1, models })[0]).toMatch(
      /^models: each model\+stance pair in models must be unique/,
    );
    expect(
      problems(consensusTool, { ...step1, models: [models[0], { model: 'glm-4.6', stance: 'against' }] }),
    ).toEqual([]);
  });
});
