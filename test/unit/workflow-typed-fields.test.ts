/**
 * A workflow tool's own fields are typed from their zod declaration: hooks read them by name with their
 * types, and a misspelt name or a wrong default is a compile error. `npm run typecheck` (tsc over test/)
 * checks every `@ts-expect-error` below: one that stops failing to compile fails the typecheck.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { consolidate, latestExtra, recordStep, toRecord } from '../../src/workflow/state.js';
import { settingOf, statusNames } from '../../src/workflow/tools/common.js';
import { consensusTool } from '../../src/workflow/tools/consensus.js';
import type { plannerTool } from '../../src/workflow/tools/planner.js';
import { precommitTool } from '../../src/workflow/tools/precommit.js';
import {
  defineWorkflowTool,
  type Extras,
  type StepView,
  type WorkflowState,
} from '../../src/workflow/types.js';
import { stepArgs } from './workflow-steps.js';

const FIELDS = {
  compare_to: z.string().optional(),
  severity_filter: z.enum(['high', 'all']).optional(),
  examples: z.array(z.string()).optional(),
  is_revision: z.boolean().default(false),
};
type Fields = typeof FIELDS;

const BASE = {
  name: 'typed',
  title: 'Typed',
  description: 'A tool for the type tests.',
  fields: FIELDS,
  names: statusNames('typing', 'typing_complete'),
  defaultTemperature: 0,
  requiredActions: () => [],
  completionMessage: 'Done.',
};

function walk(...extras: Extras<Fields>[]): WorkflowState<Fields> {
  let state: WorkflowState<Fields> | undefined;
  for (const [i, step] of extras.entries()) {
    state = recordStep(state, 'typed', toRecord(stepArgs(i + 1), step), undefined);
  }
  if (!state) throw new Error('walk needs at least one step');
  return state;
}

function viewOf(state: WorkflowState<Fields>): StepView<Fields> {
  const last = state.steps.at(-1);
  return {
    args: stepArgs(last?.step_number ?? 1),
    extras: last?.extras ?? {},
    state,
    consolidated: consolidate(state.steps),
    final: false,
  };
}

describe('typed workflow tool fields', () => {
  it('reads a field back over the steps with the type its zod declaration gives', () => {
    const state = walk({ compare_to: 'main', examples: ['/a.ts'] }, { is_revision: true });
    const compareTo = latestExtra(state, 'compare_to');
    expectTypeOf(compareTo).toEqualTypeOf<string | undefined>();
    expect(compareTo).toBe('main');
    const examples = latestExtra(state, 'examples');
    expectTypeOf(examples).toEqualTypeOf<string[] | undefined>();
    expect(examples).toEqual(['/a.ts']);
    expectTypeOf(state.steps[0]!.extras.is_revision).toEqualTypeOf<boolean | undefined>();
    expect(state.steps[1]?.extras.is_revision).toBe(true);
  });

  it('gives a setting its default, typed as the field', () => {
    const view = viewOf(walk({ compare_to: 'main' }));
    const filter = settingOf(view, 'severity_filter', 'all');
    expectTypeOf(filter).toEqualTypeOf<'high' | 'all'>();
    expect(filter).toBe('all');
  });

  it('does not compile a misspelt field name', () => {
    const state = walk({ compare_to: 'main' });
    // @ts-expect-error compare_too is not a field of this tool
    expect(latestExtra(state, 'compare_too')).toBeUndefined();
    // @ts-expect-error compare_too is not a field of this tool
    expect(viewOf(state).extras.compare_too).toBeUndefined();
    // @ts-expect-error compare_too is not a field of this tool
    expect(settingOf(viewOf(state), 'compare_too', 'main')).toBe('main');
    // @ts-expect-error a step's extras hold only the tool's own fields
    expect(walk({ compare_too: 'main' }).steps).toHaveLength(1);
  });

  it('does not compile a default outside the field type', () => {
    // @ts-expect-error severity_filter is high or all
    expect(settingOf(viewOf(walk({})), 'severity_filter', 'everything')).toBe('everything');
  });

  it('checks the field names a definition lists against its fields', () => {
    const tool = defineWorkflowTool({
      ...BASE,
      requiredAtStep1: ['compare_to'],
      fileFields: ['examples'],
      onStep: ({ view }) => {
        expectTypeOf(view.extras.examples).toEqualTypeOf<string[] | undefined>();
        return undefined;
      },
    });
    expect(tool.fields).toBe(FIELDS);
    const misspelt = defineWorkflowTool({
      ...BASE,
      // @ts-expect-error compare_too is not a field of this tool
      requiredAtStep1: ['compare_too'],
    });
    expect(misspelt.requiredAtStep1).toEqual(['compare_too']);
    const notPaths = defineWorkflowTool({
      ...BASE,
      // @ts-expect-error compare_to is a string, not a list of paths
      fileFields: ['compare_to'],
    });
    expect(notPaths.fileFields).toEqual(['compare_to']);
  });

  it('lets only a tool with an expert say what happens when the expert is skipped', () => {
    const withExpert = defineWorkflowTool({
      ...BASE,
      expert: { systemPrompt: 'Review.', requestTitle: 'REQUEST', guidance: 'Check it.' },
      certainMessage: 'Certain.',
    });
    expect(withExpert.expert?.guidance).toBe('Check it.');
    // @ts-expect-error no expert, so nothing is skipped when the agent is certain
    const local = defineWorkflowTool({ ...BASE, certainMessage: 'Certain.' });
    expect(local.expert).toBeUndefined();
  });

  it('types the shipped tools by their own fields', () => {
    type ExtrasOf<T> = T extends { requiredActions(view: StepView<infer F>): string[] } ? Extras<F> : never;
    expectTypeOf<ExtrasOf<typeof consensusTool>['models']>().toEqualTypeOf<
      | Array<{ model: string; stance: 'for' | 'against' | 'neutral'; stance_prompt?: string | undefined }>
      | undefined
    >();
    expectTypeOf<ExtrasOf<typeof precommitTool>['compare_to']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ExtrasOf<typeof plannerTool>['revises_step_number']>().toEqualTypeOf<number | undefined>();
    expect(Object.keys(consensusTool.fields)).toEqual(['models']);
    expect(precommitTool.requiredAtStep1).toEqual(['path']);
  });
});
