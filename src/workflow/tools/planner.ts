/**
 * planner: builds a plan step by step, with revisions of earlier steps and branches to explore
 * alternatives. No expert: the plan is the agent's; the tool keeps it and hands it back whole at the end.
 */
import { z } from 'zod';
import { defineWorkflowTool, type StepRecord, type StepView } from '../types.js';
import { statusNames } from './common.js';

/** From this many steps, the first steps ask for reflection before moving on (reference: deep-thinking pauses). */
const COMPLEX_PLAN_STEPS = 5;

const FIELDS = {
  is_step_revision: z.boolean().default(false),
  revises_step_number: z.number().int().min(1).optional(),
  is_branch_point: z.boolean().default(false),
  branch_from_step: z.number().int().min(1).optional(),
  branch_id: z.string().optional().describe('Names the branch this step belongs to.'),
  more_steps_needed: z.boolean().default(false),
};
type View = StepView<typeof FIELDS>;

interface PlanShape {
  main: StepRecord<typeof FIELDS>[];
  branches: Record<string, StepRecord<typeof FIELDS>[]>;
  /** Revised step number → the step that revised it. */
  revisions: Record<string, number>;
}

function shape(view: View): PlanShape {
  const plan: PlanShape = { main: [], branches: {}, revisions: {} };
  for (const step of view.state.steps) {
    const branch = step.extras.branch_id;
    if (typeof branch === 'string' && branch !== '') {
      plan.branches[branch] = [...(plan.branches[branch] ?? []), step];
      continue;
    }
    plan.main.push(step);
    const revised = step.extras.revises_step_number;
    if (step.extras.is_step_revision === true && typeof revised === 'number') {
      plan.revisions[String(revised)] = step.step_number;
    }
  }
  return plan;
}

function planSummary(view: View, plan: PlanShape): string {
  const line = (s: StepRecord<typeof FIELDS>) => {
    const revisedBy = plan.revisions[String(s.step_number)];
    const note = revisedBy === undefined ? '' : ` (revised in step ${revisedBy})`;
    return `${s.step_number}. ${s.step}${note}`;
  };
  const parts = [`PLAN: ${view.state.initial_request}`, '', ...plan.main.map(line)];
  for (const [id, steps] of Object.entries(plan.branches)) {
    const from = steps[0]?.extras.branch_from_step;
    parts.push(
      '',
      `Branch "${id}"${typeof from === 'number' ? ` (from step ${from})` : ''}:`,
      ...steps.map(line),
    );
  }
  return parts.join('\n');
}

/**
 * A complex plan's first steps: reflection before the next step (pal's and EXAI's deep-thinking pauses,
 * handle_work_continuation in https://github.com/BeehiveInnovations/pal-mcp-server/blob/main/tools/planner.py).
 */
function deepThinking(view: View): boolean {
  return view.args.total_steps >= COMPLEX_PLAN_STEPS && view.args.step_number <= 3;
}

function actions(view: View): string[] {
  if (deepThinking(view)) {
    return [
      view.args.step_number === 1
        ? 'Before step 2, think through the whole scope: goals, constraints, stakeholders, what done looks like'
        : 'Before the next step, check this step against the goal: is it necessary, is it in the right order?',
      'Consider alternative approaches and their trade-offs; branch if one deserves exploring',
      'Identify dependencies between steps and the riskiest assumption',
    ];
  }
  return [
    'Write the next step: one concrete action with its outcome',
    'Revise an earlier step if this one changes it (is_step_revision, revises_step_number)',
  ];
}

/** How to show the finished plan; pal and EXAI send the same kind of guidance as output. */
const PLAN_OUTPUT = {
  instructions:
    'Present plan_summary as the plan: numbered steps, branches as alternatives, then key decisions and risks.',
  format: 'step_by_step_planning',
  rendering_instructions:
    'Headings per phase, numbered steps with sub-steps, an ASCII diagram where steps depend on each other or ' +
    'run in parallel. No emojis; no time or cost estimates unless asked.',
};

export const plannerTool = defineWorkflowTool({
  name: 'planner',
  title: 'Planner: step-by-step planning with revisions and branches',
  description:
    'Builds a plan one step per call, with revisions and branches; the final step returns the whole plan, ready to present. No model is called.',
  fields: FIELDS,
  findingsOptional: true,
  nextCallPlaceholders: { step: '<the next step of the plan: one concrete action and its outcome>' },
  hide: [
    'files_checked',
    'relevant_files',
    'relevant_context',
    'issues_found',
    'confidence',
    'hypothesis',
    'backtrack_from_step',
    'use_assistant_model',
    'model',
    'temperature',
    'thinking_mode',
    'use_websearch',
    'images',
  ],
  names: statusNames('planning', 'planning_complete', {
    exai: { required: 'planner_required', statusKey: 'planner_status', complete: 'planner_complete' },
  }),
  defaultTemperature: 0.5,
  onStep: ({ view }) => {
    const plan = shape(view);
    const fields: Record<string, unknown> = {
      step_content: view.args.step,
      plan_metadata: {
        branches: Object.keys(plan.branches),
        step_history_length: view.state.steps.length,
        is_step_revision: view.extras.is_step_revision === true,
        ...(view.extras.revises_step_number !== undefined && {
          revises_step_number: view.extras.revises_step_number,
        }),
        is_branch_point: view.extras.is_branch_point === true,
        ...(view.extras.branch_id !== undefined && { branch_id: view.extras.branch_id }),
      },
    };
    if (view.final && view.extras.more_steps_needed === true) {
      return {
        fields,
        continueReason: 'more_steps_needed is true: add the missing steps before finishing the plan.',
      };
    }
    if (view.final) {
      fields.plan_summary = planSummary(view, plan);
      fields.output = PLAN_OUTPUT;
    } else if (deepThinking(view)) {
      Object.assign(fields, {
        status: 'pause_for_deep_thinking',
        thinking_required: true,
        required_thinking: actions(view),
      });
    }
    return { fields };
  },
  requiredActions: actions,
  pauseMessage: (view, actions) =>
    `Continue the plan: call planner with step_number ${view.args.step_number + 1} after this:\n` +
    actions.map((a, i) => `${i + 1}. ${a}`).join('\n'),
  completionMessage:
    'PLANNING IS COMPLETE. Present plan_summary to the user as a numbered list (branches as alternatives), with ' +
    'the key decisions and risks, and ask before starting the work.',
});
