/**
 * The one gate between tool arguments and the file system. Agents send paths; a path is read only when it is
 * absolute, what was opened (not merely what the path said before opening: see open.ts) is a regular file
 * inside an allowed root, it is not a secret file (deny list, the .env the settings came from), and it fits the
 * count and byte caps. Text must look like text; images must be the image type their name says. Every refusal
 * names the path and why; our own limits name the setting that raises them.
 */
import { realpathSync, type Stats, statSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import { ExaiError } from '../errors.js';
import { estimateTokens } from '../tokens.js';
import { DEFAULT_DENIED_FILES, parseDenyList } from './deny.js';
import { type ExpandedFolder, type Expansion, expandPaths } from './expand.js';
import { imageMismatch, imageTypeOfPath, SNIFF_BYTES } from './image-type.js';
import { fsReason, type OpenedFile, openChecked, Refusal, readAll } from './open.js';
import { isInside } from './roots.js';

export type { ExpandedFolder, Expansion } from './expand.js';
export { rootsFromSetting } from './roots.js';

export interface FilePolicyOptions {
  /** Allowed folders; each is resolved with realpath once, and missing ones are dropped. */
  roots: readonly string[];
  /** Why no folder is shared, said in every file refusal when roots is empty. */
  unshared?: string | undefined;
  /** Problems of the roots setting, for doctor and the startup log. */
  rootProblems?: readonly string[];
  maxFileBytes: number;
  maxRequestBytes: number;
  maxImageBytes: number;
  /** Most entries in one request's file list. Default 1000. */
  maxRequestFiles?: number;
  /** Most images in one request, after de-duplication. Default 10. */
  maxRequestImages?: number;
  /** Most image bytes in one request. Default 20 MiB. */
  maxRequestImageBytes?: number;
  /** EXAI_DENIED_FILES: comma-separated patterns (see deny.ts), `none` for none. */
  deniedFiles?: string;
  /** Files never read whatever the deny list says (the .env the configuration was read from). */
  protectedFiles?: readonly string[];
}

export interface LoadedFile {
  /** The path as the caller gave it (what the model and the thread see). */
  path: string;
  content: string;
  bytes: number;
}

export interface OmittedFile {
  path: string;
  reason: string;
}

export interface FittedFiles {
  files: LoadedFile[];
  /**
   * Files left out, in request order: those that did not fit the token budget, and files found in a folder
   * that could not be sent (binary, over a cap, a secret by name).
   */
  omitted: OmittedFile[];
  /** Folders that stood for the files under them. */
  folders: ExpandedFolder[];
}

export type ReadOne = { ok: true; file: LoadedFile } | { ok: false; reason: string };

export interface FilePolicy {
  readonly roots: readonly string[];
  /** Why no folder is shared (roots is empty), or undefined. */
  readonly unshared: string | undefined;
  readonly rootProblems: readonly string[];
  readonly deniedPatterns: readonly string[];
  /** Reads one request's files, all or nothing: throws ExaiError bad_request listing every refused path. */
  readFiles(paths: readonly string[], signal?: AbortSignal): Promise<LoadedFile[]>;
  /**
   * As readFiles, then keeps files in request order while they fit budgetTokens (estimated); the rest are
   * listed in omitted rather than failing the request.
   */
  readFilesWithin(paths: readonly string[], budgetTokens: number, signal?: AbortSignal): Promise<FittedFiles>;
  /**
   * One file under the same rules, with the refusal reason instead of an exception. `maxBytes` (below the
   * per-file cap) is the room left in the caller's byte budget: a bigger file is refused before it is read.
   */
  readOne(path: string, maxBytes?: number): Promise<ReadOne>;
  /**
   * Replaces each folder inside the roots by the text files under it (expand.ts), within the request's
   * file count; other paths, refused folders included, are kept as given for the readers to judge.
   */
  expand(paths: readonly string[], signal?: AbortSignal): Promise<Expansion>;
  /**
   * Why this path may not be named at all (not absolute, no folder shared, outside the roots, a secret),
   * without opening it; undefined when it may, or when it does not exist yet (reading it says so later).
   */
  placeRefusal(path: string): Promise<string | undefined>;
  /** For rebuilding history: the text, or undefined when the file may not or cannot be read now. */
  readText(path: string): Promise<string | undefined>;
  /** Images as data: URLs (paths are read under the same rules; data: URLs are checked and passed on). */
  loadImages(refs: readonly string[], signal?: AbortSignal): Promise<string[]>;
}

const BINARY_SNIFF_BYTES = 8192;
const DATA_URL = /^data:(image\/(?:png|jpeg|gif|webp));base64,([A-Za-z0-9+/=\s]+)$/;
const DEFAULTS = { maxRequestFiles: 1_000, maxRequestImages: 10, maxRequestImageBytes: 20_971_520 };

interface ProtectedFile {
  real: string;
  dev: number;
  ino: number;
}

export function createFilePolicy(
  options: FilePolicyOptions,
  knownProtected: readonly ProtectedFile[] = protectedIdentitiesSync(options.protectedFiles ?? []),
): FilePolicy {
  const roots = [...new Set(options.roots.flatMap(root => existingRealpath(root) ?? []))];
  const unshared =
    roots.length > 0
      ? undefined
      : (options.unshared ??
        'no allowed folder exists, so no file can be read. Set EXAI_ALLOWED_ROOTS to existing folders (separated by the path delimiter) and restart the server');
  const deny = parseDenyList(options.deniedFiles ?? DEFAULT_DENIED_FILES);
  const maxRequestFiles = options.maxRequestFiles ?? DEFAULTS.maxRequestFiles;
  const maxRequestImages = options.maxRequestImages ?? DEFAULTS.maxRequestImages;
  const maxRequestImageBytes = options.maxRequestImageBytes ?? DEFAULTS.maxRequestImageBytes;

  /** Why this real path may not be read (stats given once it is open), or undefined. */
  function refuseReal(real: string, stats?: Stats): string | undefined {
    if (!roots.some(root => isInside(root, real))) {
      return `outside the allowed folders (it resolves to ${real}); allowed: ${roots.join(', ')}. Set EXAI_ALLOWED_ROOTS to allow more`;
    }
    const isProtected = knownProtected.some(
      p => p.real === real || (stats !== undefined && p.dev === stats.dev && p.ino === stats.ino),
    );
    if (isProtected) return 'the .env file holding this server’s settings and keys is never sent';
    const pattern = deny.match(real);
    if (pattern) return deniedReason(pattern);
    return undefined;
  }

  /** Checks that need no file system; then opens the file under every rule. */
  async function openPath(path: string): Promise<OpenedFile> {
    if (typeof path !== 'string' || path.trim() === '') throw new Refusal('an empty path');
    if (!isAbsolute(path))
      throw new Refusal('not an absolute path (give the full path, starting at the root)');
    if (unshared) throw new Refusal(`no folder is shared with this server: ${unshared}`);
    const pattern = deny.match(resolve(path));
    if (pattern) throw new Refusal(deniedReason(pattern));
    return openChecked(path, (real, stats) => {
      const reason = refuseReal(real, stats);
      // Name the target only when it differs from what the caller wrote (a link, '..').
      return reason && real === resolve(path) ? reason.replace(` (it resolves to ${real})`, '') : reason;
    });
  }

  function notShared(what: string): ExaiError {
    return localLimit(`Cannot read ${what}: no folder is shared with this server. ${unshared}`);
  }

  async function readTextFile(path: string, opened: OpenedFile): Promise<LoadedFile> {
    const buffer = await readAll(opened, options.maxFileBytes);
    if (buffer.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
      throw new Refusal('looks binary (a NUL byte in the first 8 KB); only text files can be sent');
    }
    return { path, content: buffer.toString('utf8'), bytes: buffer.length };
  }

  /** The real path of a folder the policy would let a file in be read from, or undefined. */
  async function readableFolder(path: string): Promise<string | undefined> {
    // A path refused before the file system is looked at stays as given: reading it says why.
    if (typeof path !== 'string' || !isAbsolute(path) || unshared || deny.match(resolve(path)))
      return undefined;
    try {
      const real = await realpath(path);
      if (!(await stat(real)).isDirectory() || refuseReal(real) !== undefined) return undefined;
      return real;
    } catch {
      return undefined;
    }
  }

  function expand(paths: readonly string[], signal?: AbortSignal): Promise<Expansion> {
    throwIfAborted(signal);
    return expandPaths(paths, { folderOf: readableFolder, maxFiles: maxRequestFiles, signal });
  }

  /** Reads a request's files: a refusal of a named file fails it; one found in a folder is left out. */
  async function readRequest(
    paths: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ loaded: LoadedFile[]; skipped: OmittedFile[]; folders: ExpandedFolder[] }> {
    const unique = [...new Set(paths)];
    if (unshared && unique.length > 0) throw notShared('files');
    if (unique.length > maxRequestFiles) {
      throw localLimit(
        `${unique.length} files in one request, over EXAI_MAX_REQUEST_FILES=${maxRequestFiles}: name fewer files (the most relevant ones), or raise EXAI_MAX_REQUEST_FILES`,
      );
    }
    const expansion = await expand(unique, signal);
    const refusals: string[] = [];
    const skipped: OmittedFile[] = [];
    const loaded: LoadedFile[] = [];
    let total = 0;
    for (const path of expansion.paths) {
      throwIfAborted(signal);
      const found = expansion.fromFolder.has(path);
      let opened: OpenedFile | undefined;
      try {
        opened = await openPath(path);
        const size = opened.stats.size;
        refuseOverFileLimit(size);
        // Sizes from the open descriptors decide before anything is read.
        if (found && total + size > options.maxRequestBytes) {
          throw new Refusal(
            `would bring this request over EXAI_MAX_REQUEST_FILE_BYTES=${options.maxRequestBytes}`,
          );
        }
        total += size;
        if (total > options.maxRequestBytes) {
          throw new Refusal(
            `would bring this request to ${total} bytes of files, over EXAI_MAX_REQUEST_FILE_BYTES=${options.maxRequestBytes}`,
          );
        }
        // Read even after a refusal (all within the byte caps): the answer names every problem at once.
        loaded.push(await readTextFile(path, opened));
      } catch (error) {
        if (found) skipped.push({ path, reason: reasonOf(error) });
        else refusals.push(`${path}: ${reasonOf(error)}`);
      } finally {
        await opened?.handle.close();
      }
    }
    if (refusals.length > 0) throw refused('file', refusals);
    return { loaded, skipped, folders: expansion.folders };
  }

  function refuseOverFileLimit(size: number): void {
    if (size > options.maxFileBytes)
      throw new Refusal(`${size} bytes, over the per-file limit EXAI_MAX_FILE_BYTES=${options.maxFileBytes}`);
  }

  async function readOne(path: string, maxBytes = options.maxFileBytes): Promise<ReadOne> {
    let opened: OpenedFile | undefined;
    try {
      opened = await openPath(path);
      const size = opened.stats.size;
      refuseOverFileLimit(size);
      if (size > maxBytes) {
        throw new Refusal(
          `${size} bytes, more than the ${maxBytes} bytes left of this request's file budget (EXAI_MAX_REQUEST_FILE_BYTES=${options.maxRequestBytes})`,
        );
      }
      return { ok: true, file: await readTextFile(path, opened) };
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    } finally {
      await opened?.handle.close();
    }
  }

  async function placeRefusal(path: string): Promise<string | undefined> {
    if (typeof path !== 'string' || path.trim() === '') return 'an empty path';
    if (!isAbsolute(path)) return 'not an absolute path (give the full path, starting at the root)';
    if (unshared) return `no folder is shared with this server: ${unshared}`;
    const pattern = deny.match(resolve(path));
    if (pattern) return deniedReason(pattern);
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      // Not there (yet): judged by the nearest folder above it that exists.
      real = await nearestReal(resolve(path));
    }
    const reason = refuseReal(real);
    return reason && real === resolve(path) ? reason.replace(` (it resolves to ${real})`, '') : reason;
  }

  return {
    roots,
    unshared,
    rootProblems: options.rootProblems ?? [],
    deniedPatterns: deny.patterns,
    async readFiles(paths, signal) {
      return (await readRequest(paths, signal)).loaded;
    },
    async readFilesWithin(paths, budgetTokens, signal) {
      const { loaded, skipped, folders } = await readRequest(paths, signal);
      const files: LoadedFile[] = [];
      const omitted: OmittedFile[] = [...skipped];
      let used = 0;
      for (const file of loaded) {
        const cost = estimateTokens(file.content);
        if (used + cost > budgetTokens) {
          omitted.push({
            path: file.path,
            reason: `does not fit the files' share of the model's context window (${budgetTokens} tokens)`,
          });
          continue;
        }
        used += cost;
        files.push(file);
      }
      return { files, omitted, folders };
    },
    readOne,
    expand,
    placeRefusal,
    async readText(path) {
      const result = await readOne(path);
      return result.ok ? result.file.content : undefined;
    },
    async loadImages(refs, signal) {
      const unique = [...new Set(refs)];
      if (unshared && unique.some(ref => !ref.startsWith('data:'))) throw notShared('images');
      if (unique.length > maxRequestImages) {
        throw localLimit(
          `${unique.length} different images in one request, over EXAI_MAX_REQUEST_IMAGES=${maxRequestImages}: send fewer images, or raise EXAI_MAX_REQUEST_IMAGES`,
        );
      }
      const refusals: string[] = [];
      const slots: Array<{ ref: string; url?: string; opened?: OpenedFile; type?: string; bytes: number }> =
        [];
      try {
        // First open and size every image, reading nothing: the request's total is known before any read.
        for (const ref of unique) {
          throwIfAborted(signal);
          try {
            slots.push(await openImage(ref));
          } catch (error) {
            refusals.push(`${shorten(ref)}: ${reasonOf(error)}`);
          }
        }
        const total = slots.reduce((sum, slot) => sum + slot.bytes, 0);
        if (total > maxRequestImageBytes) {
          throw localLimit(
            `the ${slots.length} images of this request come to ${total} bytes, over EXAI_MAX_REQUEST_IMAGE_BYTES=${maxRequestImageBytes}: send fewer or smaller images, or raise EXAI_MAX_REQUEST_IMAGE_BYTES`,
          );
        }
        // Within the caps, every image is checked even after a refusal: the answer names every problem.
        const urls: string[] = [];
        for (const slot of slots) {
          throwIfAborted(signal);
          try {
            urls.push(slot.url ?? (await readImage(slot.opened!, slot.type! as ImageMime)));
          } catch (error) {
            refusals.push(`${shorten(slot.ref)}: ${reasonOf(error)}`);
          }
        }
        if (refusals.length > 0) throw refused('image', refusals);
        return urls;
      } finally {
        await Promise.all(slots.map(slot => slot.opened?.handle.close()));
      }
    },
  };

  async function openImage(ref: string) {
    if (ref.startsWith('data:')) {
      const match = DATA_URL.exec(ref);
      if (!match) throw new Refusal('not a base64 data: URL of a PNG, JPEG, GIF or WebP image');
      const base64 = match[2]!.replace(/\s/g, '');
      const bytes = Math.floor((base64.length * 3) / 4);
      if (bytes > options.maxImageBytes) {
        throw new Refusal(`about ${bytes} bytes, over EXAI_MAX_IMAGE_BYTES=${options.maxImageBytes}`);
      }
      const mismatch = imageMismatch(match[1] as ImageMime, Buffer.from(base64.slice(0, 24), 'base64'));
      if (mismatch) throw new Refusal(mismatch);
      return { ref, url: ref, bytes };
    }
    const type = imageTypeOfPath(ref);
    if (!type) throw new Refusal('not an image path (.png, .jpg, .jpeg, .gif, .webp) or a data: URL');
    const opened = await openPath(ref);
    if (opened.stats.size > options.maxImageBytes) {
      await opened.handle.close();
      throw new Refusal(`${opened.stats.size} bytes, over EXAI_MAX_IMAGE_BYTES=${options.maxImageBytes}`);
    }
    return { ref, opened, type, bytes: opened.stats.size };
  }

  async function readImage(opened: OpenedFile, type: ImageMime): Promise<string> {
    const buffer = await readAll(opened, options.maxImageBytes);
    const mismatch = imageMismatch(type, buffer.subarray(0, SNIFF_BYTES));
    if (mismatch) throw new Refusal(mismatch);
    return `data:${type};base64,${buffer.toString('base64')}`;
  }
}

type ImageMime = NonNullable<ReturnType<typeof imageTypeOfPath>>;

function deniedReason(pattern: string): string {
  return `a secret file by name (matches "${pattern}" of EXAI_DENIED_FILES); such files are never sent. To send it anyway, set EXAI_DENIED_FILES without that pattern`;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ExaiError('cancelled', 'The call was cancelled while its files were read');
}

function protectedIdentitiesSync(paths: readonly string[]): ProtectedFile[] {
  return paths.flatMap(path => {
    try {
      const real = realpathSync(path);
      const stats = statSync(real);
      return [{ real, dev: stats.dev, ino: stats.ino }];
    } catch {
      return [];
    }
  });
}

/** The real path of a path that does not exist: its nearest existing folder resolved, the rest appended. */
async function nearestReal(path: string): Promise<string> {
  const rest: string[] = [];
  let dir = path;
  for (;;) {
    try {
      return resolve(await realpath(dir), ...rest.reverse());
    } catch {
      const parent = resolve(dir, '..');
      if (parent === dir) return path;
      rest.push(basename(dir));
      dir = parent;
    }
  }
}

function existingRealpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof Refusal) return error.message;
  return fsReason(error);
}

function shorten(ref: string): string {
  return ref.length > 80 ? `${ref.slice(0, 60)}…` : ref;
}

/** Our own limit, not the provider's: not retried, never counted against a provider. */
function localLimit(message: string): ExaiError {
  return new ExaiError('bad_request', message, { retryable: false });
}

function refused(what: 'file' | 'image', refusals: string[]): ExaiError {
  const head =
    refusals.length === 1 ? `Cannot use this ${what}` : `Cannot use these ${refusals.length} ${what}s`;
  return new ExaiError('bad_request', `${head}:\n${refusals.map(r => `- ${r}`).join('\n')}`, {
    retryable: false,
  });
}
