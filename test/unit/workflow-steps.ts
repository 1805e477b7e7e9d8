/** One workflow step's arguments for unit tests: every field at a plain value, and the test sets what it is about. */
import type { StepArgs } from '../../src/workflow/types.js';

export function stepArgs(n: number, overrides: Partial<StepArgs> = {}): StepArgs {
  return {
    step: `step ${n}`,
    step_number: n,
    total_steps: 4,
    next_step_required: true,
    findings: `finding ${n}`,
    files_checked: [],
    relevant_files: [],
    relevant_context: [],
    issues_found: [],
    confidence: 'low',
    hypothesis: undefined,
    backtrack_from_step: undefined,
    use_assistant_model: true,
    model: undefined,
    temperature: undefined,
    thinking_mode: undefined,
    use_websearch: false,
    continuation_id: undefined,
    images: [],
    ...overrides,
  };
}
