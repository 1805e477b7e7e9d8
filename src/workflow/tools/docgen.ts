/**
 * docgen: a guided walk that documents code file by file. No expert: the agent writes the documentation;
 * the tool keeps count and refuses to finish while files are left.
 */
import { z } from 'zod';
import type { StepView, WorkflowTool } from '../types.js';
import { settingOf, statusNames } from './common.js';

// Optional, read with their defaults: a step that leaves a counter or a switch out keeps its last value.
const counter = (what: string) => z.number().int().min(0).optional().describe(`${what} Default: 0.`);
const flag = (what: string) => z.boolean().optional().describe(`${what} Default: true.`);

function counts(view: StepView): { done: number; total: number } {
  return {
    done: settingOf(view, 'num_files_documented', 0),
    total: settingOf(view, 'total_files_to_document', 0),
  };
}

export const docgenTool: WorkflowTool = {
  name: 'docgen',
  title: 'DocGen: document code file by file',
  description:
    'Guides documentation of code in steps, one file (or a few) per step: function and class docs with ' +
    'complexity (Big O) where it matters, call flow and dependencies, and comments on complex logic, updating ' +
    'existing docs rather than duplicating them. Step 1: discover the files to document and set ' +
    'total_files_to_document; each later step documents files and raises num_files_documented. The workflow ' +
    'completes only when every counted file is documented. No model is called. Pass the continuation_id from ' +
    'step 1 on later steps.',
  fields: {
    num_files_documented: counter('Files fully documented so far.'),
    total_files_to_document: counter('Files found in step 1 that need documentation.'),
    document_complexity: flag('Include algorithmic complexity (Big O) for non-trivial functions.'),
    document_flow: flag('Describe call flow and dependencies between functions and modules.'),
    update_existing: flag('Improve existing documentation where it is incomplete or wrong.'),
    comments_on_complex_logic: flag('Add inline comments where the logic is not obvious.'),
  },
  hide: [
    'hypothesis',
    'issues_found',
    'use_assistant_model',
    'model',
    'temperature',
    'thinking_mode',
    'use_websearch',
    'images',
  ],
  names: statusNames('documentation_analysis', 'documentation_analysis_complete'),
  defaultTemperature: 0.2,
  onStep: ({ view }) => {
    const { done, total } = counts(view);
    const fields = { documentation_progress: { num_files_documented: done, total_files_to_document: total } };
    if (view.final && total > 0 && done < total) {
      return {
        fields,
        continueReason: `Not finished: ${done} of ${total} files are documented. Document the remaining ${total - done} before completing.`,
      };
    }
    return { fields };
  },
  requiredActions: view => {
    const { done, total } = counts(view);
    if (view.args.step_number === 1 && total === 0) {
      return [
        'Find every file in scope that needs documentation and count them in total_files_to_document',
        'Note the documentation style already used in the project (docstring or JSDoc conventions)',
        'Start with the most central file',
      ];
    }
    const on = (name: string) => settingOf(view, name, true);
    return [
      `Document the next file (${done} of ${total} done): every public function and class`,
      ...(on('document_complexity') ? ['Give the complexity of non-trivial functions'] : []),
      ...(on('document_flow') ? ['Describe how the file calls into and is called from other modules'] : []),
      ...(on('update_existing')
        ? ['Improve the existing documentation rather than adding a second one']
        : []),
      ...(on('comments_on_complex_logic') ? ['Comment the parts of the logic that are not obvious'] : []),
      'Raise num_files_documented by the files finished in this step',
    ];
  },
  completionMessage:
    'DOCUMENTATION IS COMPLETE. Tell the user which files were documented and any bugs or oddities you noticed ' +
    'along the way (report them; do not fix code while documenting).',
};
