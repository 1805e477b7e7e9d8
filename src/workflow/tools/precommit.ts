/**
 * precommit: validates pending git changes before a commit. The repository's real state (staged, unstaged,
 * or the commits since compare_to) is read with git at step 1 and again at the final step, where the diff
 * goes to the expert.
 */
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ExaiError } from '../../errors.js';
import { fileBlock } from '../../memory/index.js';
import type { ToolDeps } from '../../toolkit/types.js';
import { checkRef, type FileChange, parseNameStatus } from '../git.js';
import { openRepository, type Repository } from '../git-repo.js';
import { latestExtra } from '../state.js';
import { defineWorkflowTool, type StepView } from '../types.js';
import {
  actionsByConfidence,
  settingOf,
  settingsSection,
  severityFilterField,
  statusNames,
  validationTypeAlias,
} from './common.js';

/** About 100K tokens of diff at most. */
const MAX_DIFF_BYTES = 400_000;

const SYSTEM_PROMPT = `You are a senior engineer doing the last check before a commit. Another AI coding assistant (the
agent) has examined the pending changes step by step; you get its findings, the git diff and the relevant files.

What to check:
- The change does what the agent says it is for, completely: no half-done edits, leftover debug code, commented-out
  blocks, TODOs that matter, or unrelated changes mixed in.
- Correctness of the changed lines and of the code that depends on them: edge cases, error handling, breaking
  changes to public APIs, configuration or data formats, migrations.
- Security: secrets or credentials in the diff, unsafe input handling, widened permissions.
- Tests and docs: changed behaviour without tests, tests that no longer test anything, docs now wrong.
Report only issues at or above the severity filter, each with a location and a fix.

Answer with this JSON:
{"status": "validation_complete",
 "summary": "<is this ready to commit, and why>",
 "commit_ready": true,
 "issues": [{"severity": "critical|high|medium|low", "file": "path", "line": "<line or range>",
   "description": "...", "fix": "..."}],
 "missing": ["<tests, docs, migration, changelog … that the change needs>"],
 "suggested_commit_message": "<imperative subject line, optional body>"}`;

const FIELDS = {
  path: z
    .string()
    .optional()
    .describe(
      'Absolute path of the git repository, or of a folder in it to limit the check to. Required at step 1.',
    ),
  compare_to: z
    .string()
    .optional()
    .describe(
      'A branch, tag or commit: check the commits since it (ref...HEAD) instead of the pending changes.',
    ),
  include_staged: z
    .boolean()
    .optional()
    .describe('Check staged changes (ignored with compare_to). Default: true.'),
  include_unstaged: z
    .boolean()
    .optional()
    .describe('Check unstaged and untracked changes (ignored with compare_to). Default: true.'),
  focus_on: z
    .string()
    .optional()
    .describe('Aspects to check closely, e.g. "the migration" or "error handling".'),
  severity_filter: severityFilterField,
};
type View = StepView<typeof FIELDS>;

interface GitSettings {
  path: string;
  compareTo: string | undefined;
  staged: boolean;
  unstaged: boolean;
}

function gitSettings(view: View): GitSettings | undefined {
  const path = latestExtra(view.state, 'path');
  if (path === undefined) return undefined;
  const compareTo = latestExtra(view.state, 'compare_to');
  return {
    path,
    compareTo: compareTo === undefined ? undefined : checkRef(compareTo),
    staged: settingOf(view, 'include_staged', true),
    unstaged: settingOf(view, 'include_unstaged', true),
  };
}

/** The diffs to read: commits since compare_to, else the staged and unstaged changes asked for. */
function diffArgs(s: GitSettings, nameStatus: boolean): Array<[string, string[]]> {
  // No textconv or external diff program from the repository's configuration or attributes; submodules
  // compared by their commit only, so git does not look inside them (their configuration is not checked here).
  const safe = ['--no-textconv', '--no-ext-diff', '--ignore-submodules=dirty'];
  const mode = nameStatus ? ['--name-status', ...safe] : ['--no-color', ...safe];
  if (s.compareTo !== undefined)
    return [[`committed since ${s.compareTo}`, ['diff', ...mode, `${s.compareTo}...HEAD`, '--', '.']]];
  const diffs: Array<[string, string[]]> = [];
  if (s.staged) diffs.push(['staged', ['diff', '--cached', ...mode, '--', '.']]);
  if (s.unstaged) diffs.push(['unstaged', ['diff', ...mode, '--', '.']]);
  return diffs;
}

async function changeSummary(
  repo: Repository,
  s: GitSettings,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const top = repo.toplevel;
  const branch = (await repo.run(['branch', '--show-current'], signal)).stdout.trim();
  if (s.compareTo !== undefined) {
    await repo.run(['rev-parse', '--verify', '--quiet', `${s.compareTo}^{commit}`], signal).catch(() => {
      throw new ExaiError(
        'bad_request',
        `compare_to ${s.compareTo} is not a branch, tag or commit of ${top}`,
        {
          retryable: false,
        },
      );
    });
  }
  const changes: Record<string, FileChange[] | string[]> = {};
  for (const [label, args] of diffArgs(s, true))
    changes[label] = parseNameStatus((await repo.run(args, signal)).stdout);
  if (s.compareTo === undefined && s.unstaged) {
    const untracked = await repo.run(['ls-files', '--others', '--exclude-standard', '--', '.'], signal);
    changes.untracked = untracked.stdout.split('\n').filter(Boolean);
  }
  const total = Object.values(changes).reduce((sum, list) => sum + list.length, 0);
  return {
    repository: top,
    path: repo.folder,
    branch: branch || '(detached HEAD)',
    ...(s.compareTo !== undefined && { compare_to: s.compareTo }),
    ...changes,
    ...(total === 0 && { note: 'No pending changes found in this folder for the options given.' }),
    ...(repo.disabled.length > 0 && {
      disabled_filters: repo.disabled,
      disabled_note:
        'The repository configures filter programs; they were not run, so these files are compared as stored.',
    }),
  };
}

async function diffSections(view: View, deps: ToolDeps, signal: AbortSignal): Promise<string[]> {
  const s = gitSettings(view);
  if (!s) return [];
  const repo = await openRepository(s.path, deps.files.roots, signal);
  const sections: string[] = [];
  let left = MAX_DIFF_BYTES;
  for (const [label, args] of diffArgs(s, false)) {
    if (left <= 0) break;
    const { stdout, truncated } = await repo.run(args, signal, left);
    left -= Buffer.byteLength(stdout);
    const body =
      stdout.trim() === ''
        ? '(no changes)'
        : `${stdout}${truncated ? '\n[… diff truncated to fit the budget]' : ''}`;
    sections.push(`=== GIT DIFF (${label}) ===\n${body}\n=== END GIT DIFF (${label}) ===`);
  }
  if (s.compareTo === undefined && s.unstaged) {
    const relevant = new Set(view.consolidated.relevant_files.map(path => resolve(path)));
    const untracked = await untrackedSection(repo, deps, relevant, left, signal);
    if (untracked) sections.push(untracked);
  }
  return sections;
}

/**
 * New files are often most of a commit, and no diff shows them: their contents go to the expert, listed with
 * the same hardened git as the diffs and read through the file policy (allowed roots, secret files, per-file
 * and per-request caps, open-first), within what the diffs left of the change's budget. Files already among
 * the relevant files are embedded there once.
 */
async function untrackedSection(
  repo: Repository,
  deps: ToolDeps,
  relevant: ReadonlySet<string>,
  budget: number,
  signal: AbortSignal,
): Promise<string | undefined> {
  const listed = await repo.run(['ls-files', '-z', '--others', '--exclude-standard', '--', '.'], signal);
  const names = listed.stdout.split('\0');
  // A cut listing ends in part of a name.
  if (listed.truncated) names.pop();
  const paths = names.filter(Boolean).map(name => join(repo.folder, name));
  if (paths.length === 0) return undefined;
  const blocks: string[] = [];
  const left: string[] = [];
  let bytesLeft = Math.min(budget, deps.config.maxRequestFileBytes);
  for (const [index, path] of paths.entries()) {
    if (relevant.has(path)) continue;
    if (index >= deps.config.maxRequestFiles || signal.aborted) {
      left.push(`${path}: over the limit of ${deps.config.maxRequestFiles} files (EXAI_MAX_REQUEST_FILES)`);
      continue;
    }
    const read = await deps.files.readOne(path, Math.max(0, bytesLeft));
    if (!read.ok) {
      left.push(`${path}: ${read.reason}`);
      continue;
    }
    bytesLeft -= read.file.bytes;
    blocks.push(fileBlock(path, read.file.content));
  }
  if (listed.truncated) left.push('(the list of untracked files was cut at 1 MB)');
  const body = [
    ...blocks,
    ...(left.length > 0
      ? [`Untracked files NOT included:\n${left.map(line => `- ${line}`).join('\n')}`]
      : []),
  ].join('\n\n');
  if (body === '') return undefined;
  return `=== UNTRACKED FILES (new, not yet added to git) ===\n${body}\n=== END UNTRACKED FILES ===`;
}

export const precommitTool = defineWorkflowTool({
  name: 'precommit',
  title: 'PreCommit: validate pending git changes',
  description:
    'Validates pending git changes before a commit, in steps. Step 1 needs path: the absolute path of the ' +
    'repository (or a folder in it) under the allowed roots; the tool reads the real state with git (staged and ' +
    'unstaged changes, or the commits since compare_to) and lists the changed files. You examine the changes ' +
    'between calls; at the final step (next_step_required: false) an expert model (GLM or Kimi) reviews the diff ' +
    'and your findings for bugs, security problems, missing tests and incomplete work. Pass the continuation_id ' +
    'from step 1 on later steps.',
  fields: FIELDS,
  requiredAtStep1: ['path'],
  aliases: { precommit_type: validationTypeAlias },
  names: statusNames('validation', 'validation_complete_ready_for_commit', {
    skipped: 'skipped_due_to_certain_validation_confidence',
    exai: { required: 'precommit_required' },
  }),
  defaultTemperature: 0.2,
  expert: {
    systemPrompt: SYSTEM_PROMPT,
    requestTitle: 'COMMIT TO VALIDATE',
    sections: async (view, { deps, budget }) => [
      ...settingsSection('VALIDATION SETTINGS', {
        'Focus on': latestExtra(view.state, 'focus_on'),
        'Severity filter': settingOf(view, 'severity_filter', 'all'),
      }),
      ...(await diffSections(view, deps, budget.signal)),
    ],
    guidance:
      'IMPORTANT: Fix the critical and high issues above (after checking them against the code) before ' +
      'committing, and tell the user about the rest.',
  },
  onStep: async ({ view, deps, budget }) => {
    const settings = gitSettings(view);
    if (!settings || (view.args.step_number !== 1 && !view.final)) return undefined;
    const repo = await openRepository(settings.path, deps.files.roots, budget.signal);
    return { fields: { git_changes: await changeSummary(repo, settings, budget.signal) } };
  },
  requiredActions: view =>
    actionsByConfidence(view, {
      first: [
        'Read the diff of every changed file listed in git_changes',
        'Check each change is complete and belongs in this commit',
        'Look for secrets, debug code and unrelated edits',
      ],
      early: [
        'Read the code that calls or depends on the changed lines',
        'Check error handling and edge cases of the change',
      ],
      middle: [
        'Check tests cover the changed behaviour and docs still match',
        'Verify the issues found so far',
      ],
      late: ['Finalise issues_found; set next_step_required to false for the expert validation'],
    }),
  completionMessage:
    'VALIDATION IS COMPLETE. Fix the critical and high issues before committing, tell the user about the rest, ' +
    'and propose the commit message.',
  certainMessage:
    'Validation complete with CERTAIN confidence. Summarise the changes for the user and proceed to commit if they agree.',
});
