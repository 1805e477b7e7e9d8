/**
 * docgen: a guided walk that documents code file by file. No expert: the agent writes the documentation;
 * the tool keeps count and refuses to finish while files are left.
 */
import { z } from 'zod';
import { defineWorkflowTool, type StepView } from '../types.js';
import { settingOf, statusNames } from './common.js';

// Optional, read with their defaults: a step that leaves a counter or a switch out keeps its last value.
const counter = () => z.number().int().min(0).optional();
const flag = () => z.boolean().optional().describe('Default: true.');

/** What to document besides each public function and class. */
const SWITCHES = {
  document_complexity: flag(),
  document_flow: flag(),
  update_existing: flag(),
  comments_on_complex_logic: flag(),
};
const FIELDS = {
  num_files_documented: counter(),
  total_files_to_document: counter(),
  ...SWITCHES,
};
type View = StepView<typeof FIELDS>;

function counts(view: View): { done: number; total: number } {
  return {
    done: settingOf(view, 'num_files_documented', 0),
    total: settingOf(view, 'total_files_to_document', 0),
  };
}

export const docgenTool = defineWorkflowTool({
  name: 'docgen',
  title: 'DocGen: document code file by file',
  description:
    'Guides documenting code file by file, counting num_files_documented against total_files_to_document; completes when all are done. No model is called.',
  fields: FIELDS,
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
        // EXAI's status for a finish attempted with files left; the step continues as a pause.
        fields: { ...fields, status: 'documentation_analysis_required', pause_for_docgen: true },
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
    const on = (name: keyof typeof SWITCHES) => settingOf(view, name, true);
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
});
