/**
 * Which folders tools may read, decided once at startup, with every problem of the setting said in words.
 * Unset, the root is the working directory, except when that is the file system root or the home folder (or
 * above it): clients start stdio servers in odd places, and a default that shares the whole disk or ~/.ssh
 * is no default. Then no folder is shared, and each file request says how to set EXAI_ALLOWED_ROOTS.
 */
import { realpathSync } from 'node:fs';
import { delimiter, isAbsolute, parse, relative, resolve, sep } from 'node:path';

export interface RootsInForce {
  /** Existing folders, resolved with realpath. */
  readonly roots: readonly string[];
  /** What is wrong with the setting (a missing, relative or mis-separated entry), one sentence each. */
  readonly problems: readonly string[];
  /** Set when no folder is shared: why, and how to share one. */
  readonly unshared: string | undefined;
}

const HOW =
  `Set EXAI_ALLOWED_ROOTS to the project folder(s) tools may read, e.g. EXAI_ALLOWED_ROOTS=/path/to/project ` +
  `(several separated by '${delimiter}'), and restart the server`;

/** The configured roots as absolute paths (relative ones against cwd); the default when the setting is blank. */
export function rootsFromSetting(value: string | undefined, cwd: string, home?: string): string[] {
  const roots = entries(value).map(entry => resolve(cwd, entry));
  if (roots.length > 0) return roots;
  return tooBroad(cwd, home) ? [] : [cwd];
}

export function rootsInForce(value: string | undefined, cwd: string, home?: string): RootsInForce {
  const given = entries(value);
  const problems: string[] = [];
  const roots: string[] = [];
  if (given.length === 0) {
    const broad = tooBroad(cwd, home);
    if (broad) {
      return {
        roots: [],
        problems: [],
        unshared: `EXAI_ALLOWED_ROOTS is unset and the working directory ${cwd} is ${broad}, too broad to share by default, so no folder is shared. ${HOW}`,
      };
    }
    const real = realOrUndefined(cwd);
    return real
      ? { roots: [real], problems: [], unshared: undefined }
      : { roots: [], problems: [], unshared: `the working directory ${cwd} cannot be read. ${HOW}` };
  }
  for (const entry of given) {
    const absolute = resolve(cwd, entry);
    const real = realOrUndefined(absolute);
    const relativeNote = isAbsolute(entry)
      ? ''
      : ` is relative (resolved against the working directory ${cwd} as ${absolute}); give absolute paths, and it`;
    if (real) {
      roots.push(real);
      if (relativeNote) problems.push(`EXAI_ALLOWED_ROOTS entry "${entry}"${relativeNote} is used as such`);
      continue;
    }
    if (entry.includes(',')) {
      problems.push(
        `EXAI_ALLOWED_ROOTS entry "${entry}" does not exist: roots are separated by '${delimiter}', not ','`,
      );
    } else {
      problems.push(`EXAI_ALLOWED_ROOTS entry "${entry}"${relativeNote || ''} does not exist`);
    }
  }
  const unique = [...new Set(roots)];
  return {
    roots: unique,
    problems,
    unshared:
      unique.length === 0 ? `none of the configured roots exists: ${problems.join('; ')}. ${HOW}` : undefined,
  };
}

/** True when child is root itself or inside it; a name that merely starts with '..' is inside. */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function entries(value: string | undefined): string[] {
  return (value ?? '')
    .split(delimiter)
    .map(part => part.trim())
    .filter(part => part !== '');
}

/** Why cwd is too broad to be the default root, or undefined. */
function tooBroad(cwd: string, home: string | undefined): string | undefined {
  if (parse(cwd).root === cwd) return 'the root of the file system';
  if (home && resolve(home) === resolve(cwd)) return 'the home folder';
  if (home && isInside(cwd, home)) return `above the home folder ${home}`;
  return undefined;
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
