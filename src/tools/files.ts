/**
 * The one gate between tool arguments and the file system. Agents send paths; a path is read only when it is
 * absolute, resolves (symlinks followed with realpath, so a link cannot point out) inside an allowed root, is
 * a regular text file, and fits the per-file and per-request byte caps. Every refusal names the path and why.
 */
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { delimiter, extname, isAbsolute, relative, resolve } from 'node:path';
import { ExaiError } from '../errors.js';

export interface FilePolicyOptions {
  /** Allowed folders; each is resolved with realpath once, and missing ones are dropped. */
  roots: readonly string[];
  maxFileBytes: number;
  maxRequestBytes: number;
  maxImageBytes: number;
}

export interface LoadedFile {
  /** The path as the caller gave it (what the model and the thread see). */
  path: string;
  content: string;
  bytes: number;
}

export interface FilePolicy {
  readonly roots: readonly string[];
  /** Reads one request's files, all or nothing: throws ExaiError bad_request listing every refused path. */
  readFiles(paths: readonly string[]): LoadedFile[];
  /** For rebuilding history: the text, or undefined when the file may not or cannot be read now. */
  readText(path: string): string | undefined;
  /** Images as data: URLs (paths are read under the same rules; data: URLs are checked and passed on). */
  loadImages(refs: readonly string[]): string[];
}

const BINARY_SNIFF_BYTES = 8192;
const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};
const DATA_URL = /^data:(image\/(?:png|jpeg|gif|webp));base64,([A-Za-z0-9+/=\s]+)$/;

/** EXAI_ALLOWED_ROOTS split on the platform's path delimiter; the working directory when unset. */
export function rootsFromSetting(value: string | undefined, cwd: string): string[] {
  const parts = (value ?? '').split(delimiter).map(part => part.trim());
  const roots = parts.filter(part => part !== '').map(part => resolve(cwd, part));
  return roots.length > 0 ? roots : [cwd];
}

class Refusal extends Error {}

export function createFilePolicy(options: FilePolicyOptions): FilePolicy {
  const roots = [...new Set(options.roots.flatMap(root => existingRealpath(root) ?? []))];

  function within(real: string): boolean {
    return roots.some(root => {
      const rel = relative(root, real);
      return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
    });
  }

  /** Resolves and checks a path; returns the real path and size, or throws a Refusal saying why. */
  function check(path: string, maxBytes: number, capName: string): { real: string; size: number } {
    if (typeof path !== 'string' || path.trim() === '') throw new Refusal('an empty path');
    if (!isAbsolute(path))
      throw new Refusal('not an absolute path (give the full path, starting at the root)');
    let real: string;
    try {
      real = realpathSync(path);
    } catch (error) {
      throw new Refusal(fsReason(error));
    }
    if (!within(real)) {
      const resolved = real === resolve(path) ? '' : ` (it resolves to ${real})`;
      const allowed = roots.length > 0 ? roots.join(', ') : 'none exist';
      throw new Refusal(
        `outside the allowed folders${resolved}; allowed: ${allowed}. Set EXAI_ALLOWED_ROOTS to allow more`,
      );
    }
    const stats = statSync(real);
    if (stats.isDirectory()) throw new Refusal('a directory, not a file (list the files inside it instead)');
    if (!stats.isFile()) throw new Refusal('not a regular file');
    if (stats.size > maxBytes)
      throw new Refusal(`${stats.size} bytes, over the per-file limit ${capName}=${maxBytes}`);
    return { real, size: stats.size };
  }

  function readText(path: string, maxBytes: number): { content: string; bytes: number } {
    const { real } = check(path, maxBytes, 'EXAI_MAX_FILE_BYTES');
    const buffer = readBounded(real, maxBytes);
    if (buffer.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
      throw new Refusal('looks binary (a NUL byte in the first 8 KB); only text files can be sent');
    }
    return { content: buffer.toString('utf8'), bytes: buffer.length };
  }

  return {
    roots,
    readFiles(paths) {
      const refusals: string[] = [];
      const loaded: LoadedFile[] = [];
      let total = 0;
      for (const path of new Set(paths)) {
        try {
          const file = readText(path, options.maxFileBytes);
          total += file.bytes;
          if (total > options.maxRequestBytes) {
            throw new Refusal(
              `would bring this request to ${total} bytes of files, over EXAI_MAX_REQUEST_FILE_BYTES=${options.maxRequestBytes}`,
            );
          }
          loaded.push({ path, ...file });
        } catch (error) {
          refusals.push(`${path}: ${reasonOf(error)}`);
        }
      }
      if (refusals.length > 0) throw refused('file', refusals);
      return loaded;
    },
    readText(path) {
      try {
        return readText(path, options.maxFileBytes).content;
      } catch {
        return undefined;
      }
    },
    loadImages(refs) {
      const refusals: string[] = [];
      const urls: string[] = [];
      for (const ref of refs) {
        try {
          urls.push(loadImage(ref));
        } catch (error) {
          refusals.push(`${shorten(ref)}: ${reasonOf(error)}`);
        }
      }
      if (refusals.length > 0) throw refused('image', refusals);
      return urls;
    },
  };

  function loadImage(ref: string): string {
    if (ref.startsWith('data:')) {
      const match = DATA_URL.exec(ref);
      if (!match) throw new Refusal('not a base64 data: URL of a PNG, JPEG, GIF or WebP image');
      const bytes = Math.floor((match[2]!.replace(/\s/g, '').length * 3) / 4);
      if (bytes > options.maxImageBytes) {
        throw new Refusal(`about ${bytes} bytes, over EXAI_MAX_IMAGE_BYTES=${options.maxImageBytes}`);
      }
      return ref;
    }
    const type = IMAGE_TYPES[extname(ref).toLowerCase()];
    if (!type) throw new Refusal('not an image path (.png, .jpg, .jpeg, .gif, .webp) or a data: URL');
    const { real } = check(ref, options.maxImageBytes, 'EXAI_MAX_IMAGE_BYTES');
    return `data:${type};base64,${readBounded(real, options.maxImageBytes).toString('base64')}`;
  }
}

/** Reads at most maxBytes + 1 bytes, so a file that grew after stat cannot slip past the cap. */
function readBounded(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw new Refusal(`grew past the limit of ${maxBytes} bytes while being read`);
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

function existingRealpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a part of the path is not a folder';
  if (code === 'ELOOP') return 'too many levels of symbolic links';
  return `cannot be read (${code ?? 'unknown error'})`;
}

function reasonOf(error: unknown): string {
  if (error instanceof Refusal) return error.message;
  return fsReason(error);
}

function shorten(ref: string): string {
  return ref.length > 80 ? `${ref.slice(0, 60)}…` : ref;
}

function refused(what: 'file' | 'image', refusals: string[]): ExaiError {
  const head =
    refusals.length === 1 ? `Cannot use this ${what}` : `Cannot use these ${refusals.length} ${what}s`;
  return new ExaiError('bad_request', `${head}:\n${refusals.map(r => `- ${r}`).join('\n')}`, {
    retryable: false,
  });
}
