/** debug: root-cause investigation, step by step, with an expert check of the hypothesis at the end. */
import { defineWorkflowTool } from '../types.js';
import { actionsByConfidence, statusNames } from './common.js';

const SYSTEM_PROMPT = `You are a senior debugging engineer checking the investigation of another AI coding assistant
(the agent). The agent has read the code and reports its findings step by step, with the files that matter and
its hypotheses as they evolved. Find the root cause, or show that there is no bug.

What to check:
- Does the evidence support the agent's hypothesis? Follow the failing path through the files given and name the
  exact place where behaviour departs from intent.
- Other causes that fit the same symptoms: state shared between requests or threads, ordering and races, caches,
  configuration and environment, library versions, error handling that hides the first failure.
- The symptom may show far from its cause. It may also be no bug at all (intended behaviour the user did not
  expect): say so when the evidence points there.
- The minimal fix: the smallest change that removes the cause, and what it could break. No refactoring beyond it.

Answer with this JSON, hypotheses ordered most likely first:
{"status": "analysis_complete",
 "summary": "<the problem and the most likely cause in two sentences>",
 "hypotheses": [{"name": "<short name>", "confidence": "high|medium|low", "root_cause": "<the cause>",
   "evidence": "<what in the code or findings shows it>", "correlation": "<how the cause produces the symptoms>",
   "validation": "<how to confirm it: a test, a log line, a command>", "minimal_fix": "<the change>",
   "regression_check": "<what the fix could break>", "file_references": ["path:line"]}],
 "key_findings": ["..."], "immediate_actions": ["..."], "prevention_strategy": "<optional>",
 "investigation_summary": "<what was examined and concluded>"}
When the code behaves as intended:
{"status": "no_bug_found", "summary": "...", "areas_examined": ["..."], "confidence_level": "high|medium|low",
 "alternative_explanations": ["..."], "recommended_questions": ["<what to ask the user>"], "next_steps": ["..."]}`;

export const debugTool = defineWorkflowTool({
  name: 'debug',
  title: 'Debug: root-cause investigation',
  description:
    'Root-cause investigation of a bug, crash, wrong result or slowness; an expert model then checks your hypothesis against relevant_files.',
  fields: {},
  hide: ['issues_found'],
  names: statusNames('investigation', 'certain_confidence_proceed_with_fix'),
  defaultTemperature: 0.2,
  expert: {
    systemPrompt: SYSTEM_PROMPT,
    requestTitle: 'ISSUE DESCRIPTION',
    guidance:
      'IMPORTANT: An expert debugging analysis is above. Check its root cause and fix against your own evidence ' +
      'before acting; if it names a different cause than yours, weigh both and present a balanced view to the user.',
  },
  requiredActions: view =>
    actionsByConfidence(view, {
      first: [
        'Search the code for where the symptom arises, and read those functions',
        'Trace the execution path that leads to the failure, including callers and configuration',
        'Look for recent changes, shared state, ordering or environment differences that could explain it',
        'Write down a first hypothesis and the evidence you still need',
      ],
      early: [
        'Examine the code paths your hypothesis depends on, reading the actual lines',
        'Gather concrete evidence: reproduce, add a log line, or run the failing case',
        'Rule out the alternatives: shared state, concurrency, configuration, dependencies',
      ],
      middle: [
        'Confirm the hypothesis with a direct test or a precise code trace',
        'Check edge cases and whether the same pattern exists elsewhere',
        'Work out the minimal fix and what it could break',
      ],
      late: [
        'Finalise the root cause with file:line evidence and the chain from cause to symptom',
        'Verify the minimal fix; set next_step_required to false for the expert check, or confidence to certain if confirmed',
      ],
    }),
  completionMessage:
    'INVESTIGATION IS COMPLETE. Present the root cause, the evidence for it and the exact minimal fix to the user, ' +
    'with the affected code paths, then implement the fix if the user agrees.',
  certainMessage:
    'Investigation complete with CERTAIN confidence: you have confirmed the root cause and a minimal fix. Present ' +
    'them to the user and proceed with the fix.',
});
