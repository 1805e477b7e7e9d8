import { describe, expect, it } from 'vitest';
import type { EmbeddedFiles } from '../../src/workflow/files.js';
import { expertUserContent } from '../../src/workflow/prompt.js';
import { consolidate, recordStep, toRecord } from '../../src/workflow/state.js';
import type { StepArgs, StepView, WorkflowState } from '../../src/workflow/types.js';
import { stepArgs } from './workflow-steps.js';

function args(step_number: number, findings: string, extra: Partial<StepArgs> = {}): StepArgs {
  return stepArgs(step_number, {
    total_steps: 3,
    findings,
    relevant_files: ['/src/session.ts'],
    confidence: 'medium',
    ...extra,
  });
}

/** The view of `last` after the steps before it, as the engine builds it. */
function viewAfter(steps: readonly StepArgs[]): StepView {
  let state: WorkflowState | undefined;
  for (const step of steps) state = recordStep(state, 'debug', toRecord(step, {}), undefined);
  const last = steps.at(-1)!;
  return { args: last, extras: {}, state: state!, consolidated: consolidate(state!.steps), final: true };
}

const files: EmbeddedFiles = {
  text: `--- BEGIN FILE: /src/session.ts ---\n${'export const key = user.id;\n'.repeat(200)}--- END FILE: /src/session.ts ---`,
  embedded: ['/src/session.ts'],
  skipped: [],
  folders: [],
  tokens: 1_500,
};

function prompt(view: StepView, extra: Partial<{ sections: string[]; files: EmbeddedFiles }> = {}): string {
  const content = expertUserContent({
    view,
    requestTitle: 'DEBUG REQUEST',
    toolSections: extra.sections ?? ['=== SETTINGS ===\nmode: full\n=== END SETTINGS ==='],
    files: extra.files ?? files,
    images: [],
    imagesWithheld: 1,
  });
  if (typeof content !== 'string') throw new Error('expected text content');
  return content;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

describe('the expert prompt layout', () => {
  const step1 = args(1, 'Sessions leak between tenants.');
  const step2 = args(2, 'The key lacks the tenant.', {
    next_step_required: false,
    confidence: 'almost_certain',
  });

  it('puts files, then tool sections, then the request, then the step history, then what is only about this call', () => {
    const text = prompt(viewAfter([step1, step2]));
    const order = [
      '=== ESSENTIAL FILES ===',
      '=== SETTINGS ===',
      '=== DEBUG REQUEST ===\nstep 1\n',
      "=== AGENT'S INVESTIGATION FINDINGS ===\nStep 1: Sessions leak between tenants.\nStep 2: The key lacks the tenant.\n",
      'Steps: 2; files examined: 0; relevant files: 1; code elements: 0; confidence now: almost_certain',
      '=== IMPORTANT: ALMOST CERTAIN CONFIDENCE ===',
      '1 image(s) were collected but this model cannot see images.',
      'Answer with the JSON object described in your instructions, and nothing else.',
    ];
    const positions = order.map(part => text.indexOf(part));
    for (const position of positions) expect(position).toBeGreaterThanOrEqual(0);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(text.startsWith('=== ESSENTIAL FILES ===\n--- BEGIN FILE: /src/session.ts ---')).toBe(true);
    expect(text.endsWith('and nothing else.')).toBe(true);
  });

  it('a second final step over the same files begins with the first one up to where the step history grows', () => {
    const first = prompt(viewAfter([step1, step2]));
    // The expert asked for more; the agent adds a finding in a new final step, with the same files.
    const step3 = args(3, 'Confirmed with two tenants named bob.', {
      next_step_required: false,
      confidence: 'very_high',
    });
    const second = prompt(viewAfter([step1, step2, step3]));
    const shared = commonPrefix(first, second);
    // Everything up to the last line of step history is shared: the files, the settings, the request, steps 1–2.
    expect(first.slice(0, shared)).toContain('Step 2: The key lacks the tenant.');
    expect(second.slice(shared)).toMatch(/^Step 3: Confirmed with two tenants named bob\./);
    expect(shared / first.length).toBeGreaterThanOrEqual(0.7);
  });

  it('the same final step sent again gives the same prompt, byte for byte', () => {
    const view = viewAfter([step1, step2]);
    expect(prompt(viewAfter([step1, step2, step2]))).toBe(prompt(view));
  });

  it('a file added by the second final step goes after the files the first one sent', () => {
    const more: EmbeddedFiles = {
      ...files,
      text: `${files.text}\n\n--- BEGIN FILE: /src/tenant.ts ---\nexport {};\n--- END FILE: /src/tenant.ts ---`,
      embedded: [...files.embedded, '/src/tenant.ts'],
    };
    const first = prompt(viewAfter([step1, step2]));
    const second = prompt(viewAfter([step1, step2]), { files: more });
    expect(commonPrefix(first, second)).toBeGreaterThanOrEqual(files.text.length);
  });

  it('names at most 50 left-out files one by one, then how many more (a folder can leave out hundreds)', () => {
    const skipped = Array.from({ length: 120 }, (_, i) => ({
      path: `/src/gen/f${i}.ts`,
      reason: 'looks binary',
    }));
    const text = prompt(viewAfter([step1, step2]), { files: { ...files, skipped } });
    expect(text).toContain('- /src/gen/f49.ts: looks binary\n- … and 70 more');
    expect(text).not.toContain('/src/gen/f50.ts');
  });
});
