/**
 * MCP prompts: the slash commands hosts show (Claude Code as /mcp__exai__<name>, Gemini CLI as /<name>).
 * Each is a short template that gets the agent to call the right tool well: which fields matter, what to do
 * between steps, and what to bring back to the user. A prompt is listed only when its tool is served.
 */
import type { GetPromptResult, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolName } from '../config/tool-names.js';

interface PromptSpec {
  name: string;
  title: string;
  description: string;
  tool: ToolName;
  args: z.ZodObject<Record<string, z.ZodType<string | undefined>>>;
  text(args: Record<string, string | undefined>): string;
}

const text = (what: string) => z.string().describe(what);
const optional = (what: string) => z.string().optional().describe(what);

function files(list: string | undefined): string {
  return list ? ` Attach these files (absolute paths): ${list}.` : '';
}

export const PROMPTS: readonly PromptSpec[] = [
  {
    name: 'second-opinion',
    title: 'Second opinion from GLM or Kimi',
    description:
      'Ask another model (exai chat) about a question, plan or design, and compare its view with yours.',
    tool: 'chat',
    args: z.object({
      question: text('The question, plan or design to get a second opinion on'),
      files: optional('Absolute paths of files that matter, comma-separated'),
    }),
    text: a =>
      `Get a second opinion with the exai chat tool on: ${a.question}\n\n` +
      `Put the context the other model needs into prompt (it cannot see this conversation).${files(a.files)} ` +
      'Then tell me where its answer agrees with yours, where it differs, and what you now recommend. ' +
      'Keep the continuation_id if we may follow up.',
  },
  {
    name: 'code-review',
    title: 'Code review with an expert second review',
    description:
      'Review code step by step (exai codereview); an expert model checks your findings at the end.',
    tool: 'codereview',
    args: z.object({
      target: text('What to review: files, folder, feature or diff'),
      focus: optional('Areas or concerns to look at closely'),
    }),
    text: a =>
      `Review ${a.target} with the exai codereview tool.\n\n` +
      'Step 1: state what is reviewed and the goals in step, list the files in relevant_files (absolute paths), ' +
      `set next_step_required true.${a.focus ? ` Set focus_on to "${a.focus}".` : ''} Between steps read the code ` +
      'yourself and report each problem in issues_found with a severity (critical, high, medium, low). ' +
      'On the final step set next_step_required false so the expert model reviews the same files. ' +
      'Finish with the confirmed issues, most severe first, each with a concrete fix.',
  },
  {
    name: 'pre-commit',
    title: 'Pre-commit check of pending changes',
    description: 'Validate the pending git changes before a commit (exai precommit).',
    tool: 'precommit',
    args: z.object({
      path: optional('Absolute path of the repository (default: the current project)'),
      compare_to: optional('Branch, tag or commit to compare against instead of the pending changes'),
    }),
    text: a =>
      `Check my pending changes before I commit, with the exai precommit tool.\n\n` +
      `Step 1: set path to ${a.path ?? 'the absolute path of this repository'}` +
      `${a.compare_to ? ` and compare_to to ${a.compare_to}` : ''}; the tool reads the changes with git. ` +
      'Examine the changed files between steps and record problems in issues_found with a severity. ' +
      'On the final step (next_step_required false) the expert model reviews the diff. ' +
      'Tell me whether the change is ready to commit, and what to fix first if not.',
  },
  {
    name: 'debug',
    title: 'Root-cause a bug',
    description: 'Investigate a bug step by step (exai debug); an expert model checks your hypothesis.',
    tool: 'debug',
    args: z.object({
      problem: text('The symptoms: what happens, what should happen, how to reproduce'),
      files: optional('Absolute paths of files that look involved, comma-separated'),
    }),
    text: a =>
      `Find the root cause of this problem with the exai debug tool: ${a.problem}\n\n` +
      'Step 1: describe the symptoms in step and what you know in findings. Between steps investigate ' +
      '(read code, run things), keep relevant_files (absolute paths) and your hypothesis current, and raise ' +
      `confidence as evidence grows.${a.files ? ` Start with: ${a.files}.` : ''} ` +
      'On the final step the expert model checks your hypothesis. Report the cause, the evidence and the fix.',
  },
  {
    name: 'consensus',
    title: 'Consensus of several models',
    description: 'Have GLM and Kimi weigh a proposal from different stances (exai consensus), then decide.',
    tool: 'consensus',
    args: z.object({
      proposal: text('The proposal or question to weigh'),
      models: optional('model:stance pairs, comma-separated, e.g. glm-4.6:for,kimi-k2:against'),
    }),
    text: a =>
      `Weigh this proposal with the exai consensus tool: ${a.proposal}\n\n` +
      'Step 1: the proposal in step, your own analysis in findings, and models as a list of ' +
      `{"model", "stance"} objects${a.models ? ` from: ${a.models}` : ' (for example one model "for" and one "against"; see listmodels)'}. ` +
      'They answer concurrently. On the final step (next_step_required false) write your synthesis in findings. ' +
      'Then give me the points of agreement, the real disagreements, and your recommendation.',
  },
  {
    name: 'plan',
    title: 'Plan a complex task',
    description: 'Build a step-by-step plan with revisions and branches (exai planner).',
    tool: 'planner',
    args: z.object({ task: text('The task to plan') }),
    text: a =>
      `Plan this task with the exai planner tool, one step per call: ${a.task}\n\n` +
      'Start with step_number 1 and your estimate in total_steps. Revise an earlier step with is_step_revision ' +
      'and revises_step_number, explore an alternative with is_branch_point, branch_from_step and branch_id. ' +
      'When the plan is complete, set next_step_required false and present the whole plan.',
  },
];

export function registerPrompts(server: McpServer, served: (tool: ToolName) => boolean): void {
  for (const prompt of PROMPTS) {
    if (!served(prompt.tool)) continue;
    server.registerPrompt(
      prompt.name,
      { title: prompt.title, description: prompt.description, argsSchema: prompt.args },
      (args): GetPromptResult => ({
        description: prompt.description,
        messages: [{ role: 'user', content: { type: 'text', text: prompt.text(args) } }],
      }),
    );
  }
}
