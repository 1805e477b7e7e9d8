/**
 * Reading a repository's pending changes for precommit. git runs as a child process with an argument list
 * (never a shell string), inside a folder under the allowed roots, limited to that folder's subtree, with
 * a deadline whose signal kills it, and with its output capped.
 */
import { spawn } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { ExaiError } from '../errors.js';
import { abortReason, Deadline } from '../resilience/deadline.js';

/** One git command; the workflow deadline caps it further. */
export const GIT_TIMEOUT_MS = 30_000;
const MAX_LIST_BYTES = 1_048_576;

export interface GitRun {
  stdout: string;
  truncated: boolean;
}

export function runGit(
  cwd: string,
  args: readonly string[],
  parent: AbortSignal,
  maxBytes = MAX_LIST_BYTES,
): Promise<GitRun> {
  const deadline = Deadline.start(GIT_TIMEOUT_MS, { parent, label: `git ${args[0] ?? ''}` });
  return new Promise<GitRun>((resolve, reject) => {
    const child = spawn('git', ['--no-pager', '-c', 'core.quotepath=off', ...args], {
      cwd,
      signal: deadline.signal,
      stdio: ['ignore', 'pipe', 'pipe'],
      // No prompts for credentials, no lock files taken for a read, messages in English for the error text.
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' },
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
      if (code === 0 || truncated) resolve({ stdout, truncated });
      else
        reject(
          new ExaiError(
            'bad_request',
            `git ${args.join(' ')} failed: ${stderr.trim() || `exit code ${code}`}`,
          ),
        );
    });
  });
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
