/**
 * The server instructions: with tool search (Claude Code defers tool schemas), these and the tool names are
 * all an agent sees up front, so they are a routing guide — which tool for which need, how the step protocol
 * and continuation work — and state once what the tool schemas leave out. Hosts cap them (reportedly 2 KB), so a
 * test holds them to that.
 */
import type { ToolName } from '../config/tool-names.js';

export const INSTRUCTIONS_MAX_BYTES = 2048;

const ROUTES: ReadonlyArray<readonly [ToolName, string]> = [
  ['chat', 'chat: ask another model about a question, plan or design'],
  ['challenge', 'challenge: when the user pushes back, reassess instead of agreeing'],
  ['debug', 'debug: root cause of a bug'],
  ['codereview', 'codereview: review code'],
  ['precommit', 'precommit: check pending git changes'],
  ['secaudit', 'secaudit: security audit'],
  ['thinkdeep', 'thinkdeep: hard decisions, trade-offs'],
  ['analyze', 'analyze: architecture, quality'],
  ['refactor', 'refactor: refactoring plan'],
  ['testgen', 'testgen: test plan'],
  ['consensus', 'consensus: several models with stances'],
  ['planner', 'planner: step-by-step plan'],
  ['tracer', 'tracer: call flow, dependencies'],
  ['docgen', 'docgen: documentation'],
  ['listmodels', 'listmodels: model names'],
  ['status', 'status: why calls fail'],
  ['version', 'version: settings'],
];

export function serverInstructions(served: (tool: ToolName) => boolean): string {
  const routes = ROUTES.filter(([tool]) => served(tool)).map(([, text]) => text);
  return [
    'exai: second opinions from other models (GLM by Z.ai, Kimi by Moonshot).',
    `Tools: ${routes.join('; ')}.`,
    'Workflow tools (all but chat, challenge, listmodels, status, version) run in steps: call with step_number 1, ' +
      'total_steps (estimate), next_step_required true, step (the request) and findings; do the work the answer ' +
      'asks, then send its next_call with new findings and the continuation_id. Keep relevant_files (absolute ' +
      'paths), issues_found ([{severity: critical|high|medium|low, description}]), hypothesis and confidence ' +
      'current. next_step_required false ends it: the expert model reviews (confidence "certain" skips it). ' +
      'Also accepted: files_checked, relevant_context, images, backtrack_from_step, use_assistant_model, ' +
      'thinking_mode, temperature, use_websearch.',
    'model (any tool): a name or alias from listmodels, or "auto".',
    'Every answer carries a continuation_id: pass it back to continue that thread with its history and files; ' +
      'exai://threads lists recent threads.',
    'A long call may answer status "in_progress" with a next_call: repeat that call to collect the result.',
  ].join('\n');
}
