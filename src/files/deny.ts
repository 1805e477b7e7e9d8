/**
 * Secret files a tool never reads, even inside an allowed root: a project folder usually holds a .env with the
 * very API keys this server uses, and an agent (or a prompt injected into one) can name any path it likes.
 *
 * A pattern is a list of path segments separated by '/', where '*' matches any run of characters within one
 * segment. Without a trailing '/', it matches the last segments of a path (`.env*` any file whose name starts
 * with .env, `.git/config` a file named config in a folder named .git). With a trailing '/', it matches every
 * path below a folder of that name (`.aws/` anything under any .aws folder). Matching ignores case, because
 * the default file systems of macOS and Windows do.
 */

import { SETTINGS } from '../config/settings.js';

/** The default of EXAI_DENIED_FILES (one comma-separated string, shown as is in README). */
export const DEFAULT_DENIED_FILES: string = SETTINGS.deniedFiles.default;

/** The value of EXAI_DENIED_FILES that denies nothing by name. */
export const DENY_NOTHING = 'none';

interface Pattern {
  source: string;
  segments: RegExp[];
  folder: boolean;
}

export interface DenyList {
  readonly patterns: readonly string[];
  /** The pattern a path matches, or undefined. */
  match(path: string): string | undefined;
}

export function parseDenyList(value: string): DenyList {
  const sources =
    value.trim().toLowerCase() === DENY_NOTHING
      ? []
      : value
          .split(',')
          .map(part => part.trim())
          .filter(part => part !== '');
  const patterns = sources.map(compile);
  return {
    patterns: sources,
    match(path) {
      const parts = path.split(/[\\/]+/).filter(part => part !== '');
      return patterns.find(pattern => matches(pattern, parts))?.source;
    },
  };
}

function compile(source: string): Pattern {
  const folder = /[\\/]$/.test(source);
  const segments = source
    .split(/[\\/]+/)
    .filter(part => part !== '')
    .map(part => new RegExp(`^${part.split('*').map(escapeRegExp).join('.*')}$`, 'i'));
  return { source, segments, folder };
}

function matches(pattern: Pattern, parts: readonly string[]): boolean {
  const n = pattern.segments.length;
  if (n === 0) return false;
  // A folder pattern matches anywhere above the file; a file pattern only at the end of the path.
  const lastStart = pattern.folder ? parts.length - n - 1 : parts.length - n;
  const firstStart = pattern.folder ? 0 : lastStart;
  for (let start = Math.max(0, firstStart); start <= lastStart; start++) {
    if (pattern.segments.every((segment, i) => segment.test(parts[start + i] ?? ''))) return true;
  }
  return false;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
