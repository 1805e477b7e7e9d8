/** testgen: test-generation analysis: what to test, the edge cases, and example tests from an expert. */
import { defineWorkflowTool } from '../types.js';
import { actionsByConfidence, fileOrFinding, statusNames } from './common.js';

const SYSTEM_PROMPT = `You are a senior test engineer planning tests for code another AI coding assistant (the agent)
has analysed step by step. You get its findings (behaviours, paths, edge cases it identified) and the files.

What to do:
- Find the project's test framework and conventions from the files (imports, existing tests, helpers) and follow
  them; never introduce a new framework.
- Cover the behaviour that matters: the main paths, then boundaries (empty, one, many, limits), invalid input,
  error and timeout paths, concurrency and ordering, state left behind, and regressions for known bugs.
- Prefer deterministic tests: no real network or clock unless the project does so; fakes at the boundaries.
- Each test has one reason to fail, a name that says the behaviour, and assertions on outcomes, not internals.
If you need an existing test file to match its style, answer
{"status": "test_sample_needed", "reason": "<which kind of test file and why>"}.

Otherwise answer with this JSON, most important first:
{"status": "test_generation_complete",
 "framework": "<detected framework and runner>",
 "test_plan": [{"name": "<behaviour-named test>", "target": "<function or module>", "type":
   "unit|integration|property|regression", "scenario": "...", "setup": "...", "assertions": ["..."],
   "why": "<the bug it would catch>"}],
 "edge_cases": ["..."],
 "example_tests": "<ready-to-run code for the two or three most important tests>",
 "coverage_gaps": ["<what remains untested and why>"]}`;

export const testgenTool = defineWorkflowTool({
  name: 'testgen',
  title: 'TestGen: test planning with expert test scenarios',
  description:
    "Test planning: you map behaviours, paths and edge cases; an expert model then writes a test plan and example tests in the project's framework.",
  fields: {},
  names: statusNames('test_generation', 'test_generation_complete_ready_for_implementation', {
    pause: 'pause_for_test_analysis',
    required: 'test_analysis_required',
    skipped: 'skipped_due_to_certain_test_confidence',
    exai: { required: 'testgen_required' },
  }),
  defaultTemperature: 0.2,
  expert: {
    systemPrompt: SYSTEM_PROMPT,
    requestTitle: 'TEST GENERATION REQUEST',
    worthCalling: fileOrFinding,
    guidance:
      'IMPORTANT: Fold the expert test scenarios above into your plan where they fit the codebase, check the ' +
      'example tests compile and follow the existing conventions, and run them.',
  },
  requiredActions: view =>
    actionsByConfidence(view, {
      first: [
        'Read the code to test and list its public behaviours',
        'Find the existing tests, framework and helpers, and note their conventions',
        'Trace the paths through the code, including error handling',
      ],
      early: [
        'Identify edge cases and boundary conditions for each behaviour',
        'Look for async work, shared state and external dependencies that need fakes',
      ],
      middle: [
        'Check the scenarios cover success and failure paths',
        'Confirm the testing approach matches the code and the project conventions',
      ],
      late: ['Finalise the scenarios; set next_step_required to false for the expert test plan'],
    }),
  completionMessage:
    "TEST GENERATION ANALYSIS IS COMPLETE. Write the tests in the project's framework and conventions, covering " +
    'the main paths, edge cases and error conditions, then run them and report the results to the user.',
  certainMessage:
    'Test planning complete with CERTAIN confidence. Write the planned tests following the project conventions and run them.',
});
