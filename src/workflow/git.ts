/**
 * Running git for precommit. git runs as a child process with an argument list (never a shell string), inside
 * a folder under the allowed roots, with a deadline whose signal kills it and with its output capped. A
 * repository's own configuration can name programs for git to run (fsmonitor hooks, clean filters, textconv and
 * external diff drivers, lazy fetches through a remote helper); whoever wrote a file under the roots must not
 * get to run one of them through the server, nor see its environment. So git gets a minimal environment of its
 * own (no API keys), no system or user configuration, and settings on its command line that switch those
 * programs off; git-repo.ts adds the per-repository overrides.
 */
import { spawn } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { ExaiError } from '../errors.js';
import { abortReason, Deadline } from '../resilience/deadline.js';

/** One git command; the workflow deadline caps it further. */
export const GIT_TIMEOUT_MS = 30_000;
const MAX_LIST_BYTES = 1_048_576;

/**
 * Command-line settings outrank every configuration file (https://git-scm.com/docs/git-config#SCOPES):
 * no fsmonitor hook or daemon and no untracked cache while reading the index, no hooks, no network transport
 * at all (a partial clone would otherwise fetch missing objects through the remote's helper or ssh command),
 * no pager, and submodule diffs summarised without running git log inside the submodule.
 */
const SAFE_SETTINGS: readonly string[] = [
  'core.quotepath=off',
  'core.fsmonitor=false',
  'core.untrackedCache=false',
  'core.hooksPath=/dev/null',
  'protocol.allow=never',
  'diff.submodule=short',
];

/**
 * Everything git needs and nothing else: the server's environment holds provider keys and tokens. HOME points
 * nowhere so no user configuration or attributes file is read; GIT_CONFIG_NOSYSTEM and GIT_CONFIG_GLOBAL say
 * the same to git directly. Messages in the C locale, for the error texts matched below.
 */
export function gitEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: '/nonexistent',
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: process.platform === 'win32' ? 'NUL' : '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_NO_LAZY_FETCH: '1',
    GIT_NO_REPLACE_OBJECTS: '1',
  };
  // Windows processes need these to start at all.
  for (const name of ['SystemRoot', 'SYSTEMROOT', 'windir']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export interface GitRun {
  stdout: string;
  truncated: boolean;
}

export interface GitExit extends GitRun {
  code: number | null;
  stderr: string;
}

/** One git command with the safe settings plus `settings` (more `-c name=value`); resolves with its exit. */
export function spawnGit(
  cwd: string,
  args: readonly string[],
  parent: AbortSignal,
  options: { maxBytes?: number; settings?: readonly string[] } = {},
): Promise<GitExit> {
  const maxBytes = options.maxBytes ?? MAX_LIST_BYTES;
  const settings = [...SAFE_SETTINGS, ...(options.settings ?? [])].flatMap(s => ['-c', s]);
  const deadline = Deadline.start(GIT_TIMEOUT_MS, { parents: [parent], label: `git ${args[0] ?? ''}` });
  return new Promise<GitExit>((resolve, reject) => {
    const child = spawn('git', ['--no-pager', ...settings, ...args], {
      cwd,
      signal: deadline.signal,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: gitEnvironment(),
    });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let truncated = false;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (truncated) return;
      bytes += chunk.length;
      chunks.push(chunk);
      if (bytes > maxBytes) {
        truncated = true;
        child.kill();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    child.once('error', error => {
      deadline.dispose();
      if (deadline.signal.aborted) reject(abortReason(deadline.signal));
      else reject(new ExaiError('bad_request', `git could not be run: ${error.message}. Is git installed?`));
    });
    child.once('close', code => {
      deadline.dispose();
      if (deadline.signal.aborted) return;
      const stdout = Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
      resolve({ stdout, truncated, code, stderr: stderr.trim() });
    });
  });
}

/** One git command that must succeed (or be cut at maxBytes); a failure names the command and git's message. */
export async function runGit(
  cwd: string,
  args: readonly string[],
  parent: AbortSignal,
  options: { maxBytes?: number; settings?: readonly string[] } = {},
): Promise<GitRun> {
  const run = await spawnGit(cwd, args, parent, options);
  if (run.code === 0 || run.truncated) return { stdout: run.stdout, truncated: run.truncated };
  throw new ExaiError(
    'bad_request',
    `git ${args.join(' ')} failed: ${run.stderr || `exit code ${run.code}`}`,
  );
}

/** The folder as a real path, refused unless it is a folder under one of the allowed roots. */
export function allowedFolder(path: string, roots: readonly string[]): string {
  const refuse = (why: string) =>
    new ExaiError('bad_request', `Cannot use path ${path}: ${why}`, { retryable: false });
  if (!isAbsolute(path)) throw refuse('give the absolute path of the repository (or a folder in it)');
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw refuse('it does not exist');
  }
  if (!statSync(real).isDirectory()) throw refuse('it is not a folder');
  const inside = roots.some(root => {
    const rel = relative(root, real);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  });
  if (!inside)
    throw refuse(`it is outside the allowed folders (${roots.join(', ')}); set EXAI_ALLOWED_ROOTS`);
  return real;
}

/** A ref passed as an argument must not be mistaken for an option. */
export function checkRef(ref: string): string {
  if (ref.trim() === '' || ref.startsWith('-') || /[\s\0]/.test(ref)) {
    throw new ExaiError('bad_request', `compare_to "${ref}" is not a git ref (a branch, tag or commit)`, {
      retryable: false,
    });
  }
  return ref;
}

export interface FileChange {
  status: string;
  path: string;
}

/** `git diff --name-status` lines: "M\tsrc/a.ts", "R100\told\tnew". */
export function parseNameStatus(text: string): FileChange[] {
  return text
    .split('\n')
    .filter(line => line.trim() !== '')
    .map(line => {
      const [status = '', ...paths] = line.split('\t');
      return { status: status.charAt(0), path: paths.join(' -> ') };
    });
}
