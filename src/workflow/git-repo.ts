/**
 * Opening a repository for precommit: the folder must be in a git work tree, the repository's data (its git
 * directory) must lie under the allowed roots unless it is the ordinary `.git` folder of that work tree, and
 * every program its configuration names for git to run is switched off for the commands that follow.
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { ExaiError } from '../errors.js';
import { allowedFolder, type GitRun, runGit, spawnGit } from './git.js';

export interface Repository {
  /** The folder asked for (real path): every command runs in it and is limited to its subtree. */
  readonly folder: string;
  /** The top of the work tree. */
  readonly toplevel: string;
  /** Configuration keys that name a program, switched off for this repository's commands. */
  readonly disabled: readonly string[];
  run(args: readonly string[], signal: AbortSignal, maxBytes?: number): Promise<GitRun>;
}

/**
 * Filter drivers run on file contents while git compares the work tree with the index; an empty command
 * leaves the contents as they are (https://git-scm.com/docs/gitattributes#_filter), and `required=false`
 * keeps git from refusing the file without one. textconv and external diff drivers are off by the
 * --no-textconv and --no-ext-diff that every diff gets.
 */
const FILTER_KEY = /^filter\.(.+)\.(clean|smudge|process|required)$/i;
const INCLUDE_KEY = /^(include|includeif\..+)\.path$/i;

const isInside = (path: string, root: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

function refuse(folder: string, why: string): ExaiError {
  return new ExaiError('bad_request', `Cannot check ${folder}: ${why}`, { retryable: false });
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

export async function openRepository(
  path: string,
  roots: readonly string[],
  signal: AbortSignal,
): Promise<Repository> {
  const folder = allowedFolder(path, roots);
  const where = await spawnGit(
    folder,
    ['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir'],
    signal,
  );
  if (where.code !== 0) throw notARepository(folder, where.stderr);
  const [top = '', gitDirRaw = '', commonRaw = ''] = where.stdout.split('\n');
  if (top === '' || gitDirRaw === '' || commonRaw === '')
    throw refuse(folder, 'git found no work tree for it (a bare repository, or a folder inside .git)');
  const toplevel = realOrSelf(top);
  const gitDir = realOrSelf(gitDirRaw);
  const commonDir = realOrSelf(resolve(folder, commonRaw));
  if (!isInside(folder, toplevel))
    throw refuse(
      folder,
      `its repository's work tree is ${toplevel}, which does not contain it (core.worktree)`,
    );
  // The usual layout, `.git` inside the work tree, may sit above the allowed folder (a root that is one package
  // of a monorepo). Anything else (a `.git` file naming another folder, a separate work tree or submodule) is
  // followed only when the repository it leads to is under the allowed roots too.
  const ordinary = gitDir === resolve(toplevel, '.git') && commonDir === gitDir;
  const underRoots = (dir: string) => roots.some(root => isInside(dir, root));
  if (!ordinary) {
    for (const dir of new Set([gitDir, commonDir]))
      if (!underRoots(dir))
        throw refuse(
          folder,
          `its .git points to ${dir}, outside the allowed folders (${roots.join(', ')}); precommit reads only repositories under them`,
        );
  }
  const listed = await runGit(folder, ['config', '--null', '--list', '--show-origin'], signal);
  // A cut listing could hide a filter that would then run.
  if (listed.truncated) throw refuse(folder, 'its git configuration is too large to check (over 1 MB)');
  const disabled: string[] = [];
  const settings: string[] = [];
  for (const entry of parseConfigList(listed.stdout)) {
    if (entry.origin === 'command line:') continue;
    const filter = FILTER_KEY.exec(entry.key);
    if (filter) {
      const [, name, what] = filter;
      disabled.push(entry.key);
      if (name?.includes('=')) throw refuse(folder, `its git configuration has a filter named "${name}"`);
      settings.push(`filter.${name}.${what?.toLowerCase() === 'required' ? 'required=false' : `${what}=`}`);
      continue;
    }
    if (INCLUDE_KEY.test(entry.key)) {
      const file = entry.origin.replace(/^file:/, '');
      const target = realOrSelf(resolve(folder, dirname(file), entry.value));
      // `~/…` includes resolve under HOME, which git sees as /nonexistent: nothing is read.
      if (!entry.value.startsWith('~') && !underRoots(target) && !isInside(target, commonDir))
        throw refuse(
          folder,
          `its git configuration includes ${entry.value}, outside the allowed folders; remove that ${entry.key} or check the repository by hand`,
        );
    }
  }
  return {
    folder,
    toplevel,
    disabled: [...new Set(disabled.map(k => k.replace(/\.(clean|smudge|process|required)$/i, '')))],
    run: (args, runSignal, maxBytes) =>
      runGit(folder, args, runSignal, { settings, ...(maxBytes !== undefined && { maxBytes }) }),
  };
}

interface ConfigEntry {
  origin: string;
  key: string;
  value: string;
}

/** `git config --null --list --show-origin`: origin NUL key LF value NUL, repeated. */
function parseConfigList(text: string): ConfigEntry[] {
  const parts = text.split('\0');
  const entries: ConfigEntry[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const origin = parts[i] ?? '';
    const item = parts[i + 1] ?? '';
    const newline = item.indexOf('\n');
    entries.push(
      newline < 0
        ? { origin, key: item, value: '' }
        : { origin, key: item.slice(0, newline), value: item.slice(newline + 1) },
    );
  }
  return entries;
}

function notARepository(folder: string, stderr: string): ExaiError {
  if (/not a git repository/i.test(stderr))
    return refuse(
      folder,
      'it is not in a git repository (no .git in it or in any folder above it). Give the path of a repository, or of a folder in one.',
    );
  if (/must be run in a work tree/i.test(stderr))
    return refuse(folder, 'git found no work tree for it (a bare repository, or a folder inside .git)');
  if (/dubious ownership/i.test(stderr))
    return refuse(
      folder,
      'the repository belongs to another user, and git refuses to read it for this one (safe.directory settings in user configuration are not used here). Run the server as the owner of the repository.',
    );
  return refuse(folder, `git could not read it as a repository: ${stderr || 'no message'}`);
}
