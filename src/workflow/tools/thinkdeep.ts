/** thinkdeep: multi-step reasoning on a hard problem, then an expert that challenges and extends it. */
import { z } from 'zod';
import { latestExtra } from '../state.js';
import { defineWorkflowTool } from '../types.js';
import { actionsByConfidence, settingsSection, statusNames } from './common.js';

const SYSTEM_PROMPT = `You are a senior engineer and a critical thinking partner for another AI coding assistant (the
agent). The agent has reasoned about a hard problem (architecture, a trade-off, a tricky bug, a plan) over several
steps and brings its findings, hypotheses and the relevant files. Deepen and challenge that thinking; do not
restate it.

What to do:
- Test the agent's reasoning: assumptions that may not hold, steps that do not follow, evidence that is missing.
- Bring what it has not considered: alternative approaches with their trade-offs, failure modes, scale and
  operational concerns (deployment, migration, observability, cost), security and data-integrity risks.
- Stay within the project's real constraints (stack, existing code, the focus areas given). Prefer the simplest
  approach that works; flag over-engineering as firmly as gaps.
- End with a clear recommendation and what would change it.

Answer with this JSON:
{"status": "analysis_complete",
 "summary": "<your view in two or three sentences>",
 "assessment": "agree|partially_agree|disagree",
 "critical_points": ["<where the reasoning is weak or wrong, and why>"],
 "alternatives": [{"approach": "...", "trade_offs": "...", "when_to_prefer": "..."}],
 "risks": [{"risk": "...", "likelihood": "high|medium|low", "mitigation": "..."}],
 "blind_spots": ["..."],
 "recommendation": "<what to do>",
 "next_steps": ["<concrete actions, in order>"]}`;

export const thinkdeepTool = defineWorkflowTool({
  name: 'thinkdeep',
  title: 'ThinkDeep: extended reasoning with a second model',
  description:
    'Deep reasoning on a hard problem (design choice, trade-off, tricky bug, plan review); an expert model then challenges your reasoning, adds risks and alternatives, and recommends.',
  fields: {
    problem_context: z.string().optional().describe('Constraints, requirements, what was tried.'),
    focus_areas: z.array(z.string()).optional().describe('e.g. ["performance", "security"]'),
  },
  names: statusNames('thinkdeep', 'deep_thinking_complete_ready_for_implementation', {
    skipped: 'skipped_due_to_certain_thinking_confidence',
    exai: { complete: 'thinking_complete' },
  }),
  defaultTemperature: 0.7,
  expert: {
    systemPrompt: SYSTEM_PROMPT,
    requestTitle: 'PROBLEM TO THINK THROUGH',
    thinkingMode: 'high',
    // pal and EXAI ask the expert at every final step of thinkdeep: a one-step question deserves a challenger too
    // (should_call_expert_analysis in https://github.com/BeehiveInnovations/pal-mcp-server/blob/main/tools/thinkdeep.py).
    worthCalling: () => true,
    sections: view =>
      settingsSection('PROBLEM CONTEXT', {
        Context: latestExtra(view.state, 'problem_context'),
        'Focus areas': latestExtra(view.state, 'focus_areas'),
      }),
    guidance:
      "IMPORTANT: Weigh the expert critique above against what you know of the codebase and the user's goals. " +
      'Adopt what holds up, say where you disagree and why, and present the resulting recommendation to the user.',
  },
  // EXAI's own summary keys, for agents prompted on them (ours are thinkdeep_status and complete_thinkdeep).
  onStep: ({ view }) => {
    const c = view.consolidated;
    const fields: Record<string, unknown> = {
      thinking_status: {
        current_step: view.args.step_number,
        total_steps: view.args.total_steps,
        files_checked: c.files_checked.length,
        relevant_files: c.relevant_files.length,
        thinking_confidence: view.args.confidence,
        analysis_focus: latestExtra(view.state, 'focus_areas') ?? ['general'],
      },
    };
    if (view.final) {
      fields.complete_thinking = {
        steps_completed: view.state.steps.length,
        final_confidence: view.args.confidence,
        relevant_context: c.relevant_context,
        key_findings: c.findings,
        issues_identified: c.issues_found,
        files_analyzed: c.relevant_files,
      };
    }
    return { fields };
  },
  requiredActions: view =>
    actionsByConfidence(view, {
      first: [
        'Lay out the problem, its constraints and what success looks like',
        'Examine the code and documentation the decision depends on',
        'List the candidate approaches with their main trade-offs',
      ],
      early: [
        'Gather evidence for or against each candidate approach from the code',
        'Question your assumptions: which ones would change the answer if wrong?',
      ],
      middle: [
        'Stress-test the leading approach: failure modes, scale, migration, operations',
        'Check the pieces of the codebase it would touch',
      ],
      late: ['Write the conclusion and its reasoning; set next_step_required to false for the expert review'],
    }),
  completionMessage:
    'DEEP THINKING IS COMPLETE. Present the conclusion to the user with its reasoning, the alternatives ' +
    'considered and the main risks, then the concrete next steps.',
  certainMessage:
    'Deep thinking complete with CERTAIN confidence. Present your conclusion, reasoning and next steps to the user.',
});
