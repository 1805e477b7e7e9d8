import { describe, expect, it } from 'vitest';
import {
  consolidate,
  earlyTermination,
  latestExtra,
  recordStep,
  toRecord,
} from '../../src/workflow/state.js';
import type { StepArgs, WorkflowState } from '../../src/workflow/types.js';
import { stepArgs } from './workflow-steps.js';

function args(n: number, extra: Partial<StepArgs> = {}): StepArgs {
  return stepArgs(n, { files_checked: [`/src/f${n}.ts`], ...extra });
}

function walk(...steps: StepArgs[]): WorkflowState {
  let state: WorkflowState | undefined;
  for (const step of steps) state = recordStep(state, 'debug', toRecord(step, {}), step.backtrack_from_step);
  return state!;
}

describe('workflow state transitions', () => {
  it('keeps one record per step number in order, and the first step as the initial request', () => {
    const state = walk(args(1), args(2), args(3));
    expect(state.steps.map(s => s.step_number)).toEqual([1, 2, 3]);
    expect(state.initial_request).toBe('step 1');
  });

  it('replaces a resent step instead of counting it twice (a client retry after its own timeout)', () => {
    const state = walk(args(1), args(2), args(2, { findings: 'second try' }));
    expect(state.steps.map(s => s.findings)).toEqual(['finding 1', 'second try']);
  });

  it('drops the steps from backtrack_from_step on and rebuilds the findings without them', () => {
    const state = walk(args(1), args(2), args(3), args(4, { backtrack_from_step: 2 }));
    expect(state.steps.map(s => s.step_number)).toEqual([1, 4]);
    expect(consolidate(state.steps).findings).toEqual(['Step 1: finding 1', 'Step 4: finding 4']);
  });

  it('starts afresh at step 1 on a thread that already held a workflow', () => {
    const state = walk(args(1), args(2), args(1, { step: 'a new problem' }));
    expect(state.steps).toHaveLength(1);
    expect(state.initial_request).toBe('a new problem');
    expect(state.data).toEqual({});
  });

  it('consolidates files, context and issues without duplicates, with the hypothesis history', () => {
    const state = walk(
      args(1, { relevant_files: ['/a.ts'], hypothesis: 'cache', confidence: 'low' }),
      args(2, {
        relevant_files: ['/a.ts', '/b.ts'],
        relevant_context: ['Cache.get'],
        issues_found: [{ severity: 'high', description: 'stale entry' }],
        hypothesis: 'stale cache entry',
        confidence: 'high',
      }),
    );
    const c = consolidate(state.steps);
    expect(c.relevant_files).toEqual(['/a.ts', '/b.ts']);
    expect(c.files_checked).toEqual(['/src/f1.ts', '/src/f2.ts']);
    expect(c.hypotheses).toEqual([
      { step: 1, hypothesis: 'cache', confidence: 'low' },
      { step: 2, hypothesis: 'stale cache entry', confidence: 'high' },
    ]);
    expect(c.issues_found).toHaveLength(1);
    expect(c.confidence).toBe('high');
  });

  it('ends early only from step 2, with strong confidence, substantial findings and relevant files', () => {
    const long = 'x'.repeat(101);
    const strong = { findings: long, relevant_files: ['/a.ts'] };
    expect(earlyTermination(args(1, { ...strong, confidence: 'certain' }))).toBeUndefined();
    expect(earlyTermination(args(2, { ...strong, confidence: 'certain' }))).toMatch(/goal is reached/);
    expect(earlyTermination(args(2, { ...strong, confidence: 'very_high' }))).toBeUndefined();
    expect(earlyTermination(args(3, { ...strong, confidence: 'very_high' }))).toMatch(/near the planned end/);
    expect(
      earlyTermination(args(2, { ...strong, confidence: 'certain', relevant_files: [] })),
    ).toBeUndefined();
    expect(
      earlyTermination(args(2, { ...strong, confidence: 'certain', findings: 'short' })),
    ).toBeUndefined();
    expect(
      earlyTermination(args(2, { ...strong, confidence: 'certain', next_step_required: false })),
    ).toBeUndefined();
  });

  it("finds the latest value of a tool's own field over the steps", () => {
    let state = recordStep(undefined, 'precommit', toRecord(args(1), { path: '/repo' }), undefined);
    state = recordStep(state, 'precommit', toRecord(args(2), { compare_to: 'main' }), undefined);
    expect(latestExtra(state, 'path')).toBe('/repo');
    expect(latestExtra(state, 'compare_to')).toBe('main');
    expect(latestExtra(state, 'focus_on')).toBeUndefined();
  });
});
