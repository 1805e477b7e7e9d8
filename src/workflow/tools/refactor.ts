/** refactor: refactoring opportunities (code smells, decomposition, modernisation, organisation). */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { latestExtra } from '../state.js';
import { defineWorkflowTool } from '../types.js';
import { actionsByConfidence, settingOf, settingsSection, statusNames } from './common.js';

const SYSTEM_PROMPT = `You are a senior engineer planning refactorings of code another AI coding assistant (the agent)
has examined step by step. You get its findings, the files, and the kind of refactoring wanted.

What to look for, by refactoring type:
- codesmells: long functions, deep nesting, duplication, feature envy, primitive obsession, flag arguments,
  misleading names, dead code.
- decompose: files, classes or functions doing several jobs; where to cut them so each part has one job.
- modernize: language and library features that make the code simpler or safer (current idioms of its version).
- organization: module layout, dependency direction, what belongs together.
Only propose changes that keep behaviour identical, pay for themselves, and fit the style examples and focus
areas given. Prefer small, safe steps in an order that keeps the code working after each one. If you need to
see more code to decide, say so with files_required_to_continue.

Answer with this JSON, most valuable first:
{"status": "refactor_analysis_complete",
 "summary": "...",
 "refactor_opportunities": [{"id": "R1", "type": "codesmells|decompose|modernize|organization",
   "severity": "critical|high|medium|low", "file": "path", "start_line": 0, "end_line": 0,
   "issue": "<what is wrong>", "suggestion": "<the refactoring>", "rationale": "<why it pays off>",
   "risk": "<what could break and how to check>", "code_sketch": "<optional short sketch of the result>"}],
 "priority_sequence": ["R1", "..."],
 "next_actions": ["..."]}`;

export const refactorTool = defineWorkflowTool({
  name: 'refactor',
  title: 'Refactor: refactoring opportunities with an expert plan',
  description:
    'Refactoring opportunities (code smells, decomposition, modernisation, organisation); an expert model then turns them into prioritised, behaviour-preserving changes.',
  fields: {
    refactor_type: z
      .enum(['codesmells', 'decompose', 'modernize', 'organization'])
      .optional()
      .describe('Default: codesmells.'),
    focus_areas: z.array(z.string()).optional().describe('e.g. ["performance", "readability"]'),
    style_guide_examples: z
      .array(z.string().refine(p => isAbsolute(p), 'style_guide_examples must be absolute paths'))
      .optional()
      .describe('Absolute paths of files whose style to follow.'),
  },
  fileFields: ['style_guide_examples'],
  // pal and EXAI rate refactoring confidence as exploring|incomplete|partial|complete.
  valueAliases: { confidence: { incomplete: 'low', partial: 'medium', complete: 'certain' } },
  names: statusNames('refactoring_analysis', 'refactoring_analysis_complete_ready_for_implementation', {
    skipped: 'skipped_due_to_complete_refactoring_confidence',
    exai: {
      required: 'refactor_required',
      statusKey: 'refactoring_status',
      complete: 'refactoring_complete',
      completeKey: 'complete_refactoring',
    },
  }),
  defaultTemperature: 0.2,
  expert: {
    systemPrompt: SYSTEM_PROMPT,
    requestTitle: 'REFACTORING REQUEST',
    sections: view =>
      settingsSection('REFACTORING SETTINGS', {
        'Refactor type': settingOf(view, 'refactor_type', 'codesmells'),
        'Focus areas': latestExtra(view.state, 'focus_areas'),
        'Style guide examples': latestExtra(view.state, 'style_guide_examples'),
      }),
    extraFiles: view => latestExtra(view.state, 'style_guide_examples') ?? [],
    guidance:
      'IMPORTANT: Check each proposed refactoring against the code and its tests before applying it. Apply them ' +
      'one at a time in the priority sequence, running the tests after each.',
  },
  requiredActions: view =>
    actionsByConfidence(view, {
      first: [
        'Read the code to refactor and how it is used by its callers',
        'Note the smells or structural problems with file:line references',
        'Check which tests cover this code',
      ],
      early: [
        'Examine the remaining parts of the code in scope',
        'Group related problems that one refactoring solves',
      ],
      middle: ['Order the refactorings by value and risk', 'Check each keeps behaviour identical'],
      late: ['Finalise the list; set next_step_required to false for the expert plan'],
    }),
  completionMessage:
    'REFACTORING ANALYSIS IS COMPLETE. Present the refactorings to the user in priority order with their ' +
    'rationale and risk, and implement them one at a time if the user agrees, running the tests after each.',
  certainMessage:
    'Refactoring analysis complete with CERTAIN confidence. Present the refactorings in order and implement them.',
});
