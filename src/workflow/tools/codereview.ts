/** codereview: a step-wise code review with issues by severity and an expert review of the same code. */
import { z } from 'zod';
import { latestExtra } from '../state.js';
import { defineWorkflowTool } from '../types.js';
import {
  actionsByConfidence,
  settingOf,
  settingsSection,
  severityFilterField,
  statusNames,
  validationTypeAlias,
} from './common.js';

const SYSTEM_PROMPT = `You are a senior code reviewer giving a second review of code another AI coding assistant (the
agent) has reviewed step by step. You get its findings, the issues it found, and the files under review.

What to check, weighted by the review type and focus given:
- Correctness: logic errors, edge cases, off-by-one, null/undefined, error paths, resource leaks, races.
- Security: injection, authentication and authorisation gaps, secrets, unsafe deserialisation, path handling.
- Performance: needless work on hot paths, N+1 queries, blocking calls, unbounded growth.
- Design and maintainability: unclear responsibilities, duplication, dead code, missing tests for risky logic.
- Adherence to the standards given. Do not report style nits a formatter would fix.
Confirm or reject the agent's issues, and add the ones it missed. Report only issues at or above the severity
filter. Each issue needs a location and a concrete fix. If the scope is too large to review well, answer
{"status": "focused_review_required", "reason": "...", "suggestion": "<which files or area to review first>"}.

Otherwise answer with this JSON, most severe first:
{"status": "review_complete",
 "summary": "<overall quality and the main risks in three sentences>",
 "issues": [{"severity": "critical|high|medium|low", "category": "correctness|security|performance|design|tests",
   "file": "path", "line": "<line or range>", "description": "...", "fix": "<the change to make>",
   "agent_reported": true}],
 "positives": ["<what is done well>"],
 "top_priorities": ["<fix first>"],
 "overall_quality": "good|acceptable|needs_work|poor"}`;

export const codereviewTool = defineWorkflowTool({
  name: 'codereview',
  title: 'CodeReview: step-wise review with an expert second review',
  description:
    'Code review: you report issues_found with severity; an expert model then reviews the same files, confirms or rejects your issues and adds what you missed.',
  fields: {
    review_type: z
      .enum(['full', 'security', 'performance', 'quick'])
      .optional()
      .describe('quick: critical issues only. Default: full.'),
    focus_on: z.string().optional().describe('Areas to look at closely.'),
    standards: z.string().optional().describe('Conventions the code must follow.'),
    severity_filter: severityFilterField,
  },
  aliases: { review_validation_type: validationTypeAlias },
  names: statusNames('code_review', 'code_review_complete_ready_for_implementation', {
    skipped: 'skipped_due_to_certain_review_confidence',
    exai: { required: 'codereview_required' },
  }),
  defaultTemperature: 0.2,
  expert: {
    systemPrompt: SYSTEM_PROMPT,
    requestTitle: 'CODE REVIEW REQUEST',
    sections: view =>
      settingsSection('REVIEW SETTINGS', {
        'Review type': settingOf(view, 'review_type', 'full'),
        'Focus on': latestExtra(view.state, 'focus_on'),
        Standards: latestExtra(view.state, 'standards'),
        'Severity filter': settingOf(view, 'severity_filter', 'all'),
      }),
    guidance:
      'IMPORTANT: The expert review above is a second opinion. Verify each issue against the code before ' +
      'reporting it; drop false positives, and keep the severity honest.',
  },
  requiredActions: view =>
    actionsByConfidence(view, {
      first: [
        'Read every file under review and understand what the change or module is for',
        'Check correctness first: logic, edge cases, error handling',
        'Note each issue with its severity and file:line in issues_found',
      ],
      early: [
        'Go through security and performance concerns in the code read so far',
        'Check how the code is used by its callers and covered by tests',
      ],
      middle: [
        'Verify the issues found: are they real, and is the severity right?',
        'Look for the same patterns elsewhere in the files under review',
      ],
      late: ['Finalise issues_found; set next_step_required to false for the expert review'],
    }),
  completionMessage:
    'CODE REVIEW IS COMPLETE. Present the issues to the user by severity, each with its location and fix, plus ' +
    'what is done well, and offer to fix the critical and high ones.',
  certainMessage:
    'Code review complete with CERTAIN confidence. Present the issues by severity with their fixes to the user.',
});
