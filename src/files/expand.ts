/**
 * A folder named where files are expected stands for the text files under it, as in pal and EXAI
 * (https://github.com/BeehiveInnovations/pal-mcp-server, utils/file_utils.py `expand_paths`): walked
 * recursively, hidden entries and dependency or build folders left out, in a fixed order, and never past the
 * request's file count. Listing only: every file found is still opened and checked by the file policy
 * (open-first, roots, deny list, caps) before a byte of it is read.
 */
import type { Dirent } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** Folders of installed dependencies, virtual environments, caches and build output: not the project's code. */
export const SKIPPED_FOLDERS: ReadonlySet<string> = new Set([
  'node_modules',
  'bower_components',
  'jspm_packages',
  'vendor',
  'dist',
  'build',
  'out',
  'target',
  'coverage',
  'venv',
  'site-packages',
  '__pycache__',
]);

/** Names that say a file is not text: it would be refused as binary after reading, so it is not listed. */
const BINARY_EXTENSIONS: ReadonlySet<string> = new Set(
  (
    '.png .jpg .jpeg .gif .webp .bmp .ico .tif .tiff .heic .avif .psd .pdf .zip .gz .tgz .bz2 .xz .7z .rar ' +
    '.zst .jar .war .class .pyc .pyo .o .a .so .dylib .dll .exe .bin .wasm .woff .woff2 .ttf .otf .eot ' +
    '.mp3 .mp4 .wav .ogg .flac .mov .avi .mkv .webm .sqlite .sqlite3 .db .parquet .pkl .npy .onnx .pt'
  ).split(' '),
);

/**
 * Entries read from disk while listing one request's folders, whatever the file cap: a folder of a million
 * small entries (or of vendor folders) must not keep the call busy long after the cap is reached.
 */
const MAX_ENTRIES_VISITED = 50_000;

export interface FolderListing {
  /** Absolute paths under the folder as given, files of a folder before its subfolders, each by name. */
  files: string[];
  /** Set when listing stopped early: the file cap was reached, or too many entries were visited. */
  stoppedAt?: 'file_cap' | 'entry_cap';
}

/** Whether a name found in a folder is left out of the listing. */
function skipped(entry: Dirent): boolean {
  if (entry.name.startsWith('.')) return true;
  if (entry.isDirectory()) return SKIPPED_FOLDERS.has(entry.name);
  return BINARY_EXTENSIONS.has(extname(entry.name).toLowerCase());
}

/** Code-unit order, not the locale's: the same tree lists the same way on every machine. */
const byName = (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Lists regular files under `folder`, depth first, at most `maxFiles`. Symbolic links are not followed (no
 * cycles, and no way out of the folder through a link); unreadable subfolders are passed over.
 */
export async function listFolder(
  folder: string,
  maxFiles: number,
  signal?: AbortSignal,
): Promise<FolderListing> {
  const files: string[] = [];
  let visited = 0;
  const walk = async (dir: string): Promise<FolderListing['stoppedAt']> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return undefined;
    }
    visited += entries.length;
    if (visited > MAX_ENTRIES_VISITED) return 'entry_cap';
    const kept = entries.filter(entry => !skipped(entry)).sort(byName);
    for (const entry of kept) {
      if (!entry.isFile()) continue;
      if (files.length >= maxFiles) return 'file_cap';
      files.push(join(dir, entry.name));
    }
    for (const entry of kept) {
      if (!entry.isDirectory() || signal?.aborted) continue;
      const stopped = await walk(join(dir, entry.name));
      if (stopped) return stopped;
    }
    return undefined;
  };
  const stoppedAt = await walk(folder);
  return stoppedAt ? { files, stoppedAt } : { files };
}

export interface ExpandedFolder {
  path: string;
  /** Files listed under it (each still read under every rule). */
  files: number;
  /** Why the listing stopped before the end of the folder, when it did. */
  stopped?: string;
}

export interface Expansion {
  /** Every path to read, in request order, each folder replaced by the files under it. */
  paths: string[];
  /** The paths found in a folder: a refusal of one of them leaves it out instead of failing the request. */
  fromFolder: ReadonlySet<string>;
  folders: ExpandedFolder[];
}

export interface ExpandOptions {
  /** The real path of a folder the file policy lets files be read from, else undefined (kept as given). */
  folderOf(path: string): Promise<string | undefined>;
  /** The request's file count: named paths and listed files together. */
  maxFiles: number;
  signal?: AbortSignal | undefined;
}

/** Replaces each readable folder among `paths` by its files, in place, within the request's file count. */
export async function expandPaths(paths: readonly string[], options: ExpandOptions): Promise<Expansion> {
  const unique = [...new Set(paths)];
  const folderAt = await Promise.all(unique.map(options.folderOf));
  const named = new Set(unique.filter((_, i) => folderAt[i] === undefined));
  const fromFolder = new Set<string>();
  const result: Expansion = { paths: [], fromFolder, folders: [] };
  let room = Math.max(0, options.maxFiles - named.size);
  for (const [i, path] of unique.entries()) {
    if (folderAt[i] === undefined) {
      result.paths.push(path);
      continue;
    }
    if (options.signal?.aborted) break;
    const listing = await listFolder(path, room, options.signal);
    // Swapped for a link elsewhere while it was listed: its names are not the folder that was checked.
    if ((await realpath(path).catch(() => undefined)) !== folderAt[i]) {
      result.folders.push({ path, files: 0, stopped: 'the folder changed while it was listed; not read' });
      continue;
    }
    // A file also named on its own is read as named (a refusal of it fails the request), where it was named.
    const found = listing.files.filter(file => !named.has(file) && !fromFolder.has(file));
    room -= found.length;
    for (const file of found) fromFolder.add(file);
    result.paths.push(...found);
    const stopped =
      listing.stoppedAt === 'file_cap'
        ? `listing stopped at the request's limit of ${options.maxFiles} files (EXAI_MAX_REQUEST_FILES): name a smaller folder, or the files themselves`
        : listing.stoppedAt === 'entry_cap'
          ? `listing stopped after ${MAX_ENTRIES_VISITED} entries: name a smaller folder, or the files themselves`
          : undefined;
    result.folders.push({ path, files: found.length, ...(stopped && { stopped }) });
  }
  return result;
}
