/**
 * tracer: guidance for tracing how code executes (precision: the call flow of one function) or how it is
 * wired (dependencies: what a class or module uses and is used by). No model is called.
 */
import { z } from 'zod';
import { defineWorkflowTool, type StepView } from '../types.js';
import { actionsByConfidence, statusNames } from './common.js';

const MODES = {
  precision:
    'Execution flow of one function or method: who calls it, what it calls in order, the branches taken, side ' +
    'effects and state changes. For "how does X work" and "what happens when Y is called".',
  dependencies:
    'Structure around a class or module: what it depends on, what depends on it, its interfaces, and how data ' +
    'moves across them. For "what uses X" and "what breaks if X changes".',
};

/** How to present a finished trace; pal and EXAI send the same kind of guidance as output. */
const TRACE_OUTPUT = {
  precision: {
    instructions:
      'Present the execution flow of the target, from the entry point through every call it makes.',
    format: 'precision_trace_analysis',
    rendering_instructions:
      'A vertical call-flow diagram: one line per call, indented by depth, each with file:line; branch ' +
      'conditions as labelled forks; side effects (state changes, I/O, errors) marked on the call that makes them.',
  },
  dependencies: {
    instructions: 'Present what the target depends on and what depends on it.',
    format: 'dependencies_trace_analysis',
    rendering_instructions:
      'A dependency map with the target in the middle: incoming dependents above, outgoing dependencies below, ' +
      'each arrow labelled with the interface or data it carries; cycles called out.',
  },
};

const FIELDS = {
  trace_mode: z
    .enum(['precision', 'dependencies', 'ask'])
    .optional()
    .describe('precision: execution flow; dependencies: structure; ask: explain the choice. Default: ask.'),
  target_description: z.string().optional().describe('What to trace and why.'),
};
type View = StepView<typeof FIELDS>;

/** The mode chosen: a later step that leaves trace_mode out keeps it. */
function mode(view: View): 'precision' | 'dependencies' {
  const chosen = view.state.steps
    .map(s => s.extras.trace_mode)
    .filter(m => m === 'precision' || m === 'dependencies');
  return chosen.at(-1) === 'dependencies' ? 'dependencies' : 'precision';
}

export const tracerTool = defineWorkflowTool({
  name: 'tracer',
  title: 'Tracer: call-flow and dependency tracing guidance',
  description:
    "Guides tracing code: precision mode follows one function's execution flow; dependencies mode maps what a module uses and is used by. No model is called.",
  fields: FIELDS,
  hide: [
    'images',
    'issues_found',
    'hypothesis',
    'use_assistant_model',
    'model',
    'temperature',
    'thinking_mode',
    'use_websearch',
  ],
  names: statusNames('tracing', 'tracing_complete', {
    exai: { required: 'tracer_required', statusKey: 'tracer_status', complete: 'tracer_complete' },
  }),
  defaultTemperature: 0.2,
  onStep: ({ view, threadId }) => {
    const { args, extras } = view;
    if (args.step_number === 1 && (extras.trace_mode === undefined || extras.trace_mode === 'ask')) {
      // Step 1 is recorded and its thread created, so the agent goes on with step 2 as pal and EXAI expect.
      const total = Math.max(args.total_steps, 2);
      return {
        continueReason: 'Choose a trace mode first.',
        fields: {
          status: 'mode_selection_required',
          mode_selection_required: true,
          required_actions: [
            'Choose precision (the execution flow of one function) or dependencies (what a module uses and is used by)',
          ],
          mode_options: MODES,
          next_steps:
            'Choose the trace mode that answers the question (ask the user if it is unclear), then call tracer ' +
            'with step_number 2, trace_mode set to precision or dependencies, and this continuation_id.',
          next_call: {
            tool: 'tracer',
            arguments: {
              step: '<what you traced in this step>',
              step_number: 2,
              total_steps: total,
              next_step_required: total > 2,
              findings: '<what you found: calls, file:line references>',
              trace_mode: '<precision|dependencies>',
              continuation_id: threadId,
            },
          },
        },
      };
    }
    const chosen = mode(view);
    return {
      fields: { trace_mode: chosen, ...(view.final && { output: TRACE_OUTPUT[chosen] }) },
    };
  },
  requiredActions: view =>
    mode(view) === 'precision'
      ? actionsByConfidence(view, {
          first: [
            'Find the target function and read it in full',
            'List its direct callers and the calls it makes, in execution order',
          ],
          early: ['Follow each call one level deeper; note branches and the conditions that select them'],
          middle: ['Record side effects: state changes, I/O, errors raised and where they are handled'],
          late: ['Check the trace is complete for the paths that matter; set next_step_required to false'],
        })
      : actionsByConfidence(view, {
          first: [
            'Find the target class or module and its public interface',
            'List what it imports or calls (outgoing) and who imports or calls it (incoming)',
          ],
          early: ['Follow the dependencies one level further in both directions'],
          middle: ['Note the data passed across each dependency and any cycles'],
          late: ['Check the map is complete; set next_step_required to false'],
        }),
  completionMessage:
    'TRACING IS COMPLETE. Present the result to the user: for precision mode a call-flow diagram (indented ' +
    'calls with file:line, branch conditions and side effects); for dependencies mode a dependency map ' +
    '(incoming and outgoing, with the interfaces used). Mark anything you could not resolve.',
});
