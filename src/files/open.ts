/**
 * Opens a file the way an attacker who controls the folder cannot subvert: check, open, then check again what
 * was actually opened, and read only from that descriptor.
 *
 * A path checked with realpath/stat and opened later can be swapped in between: for a FIFO (an open that
 * blocks until a writer comes), for a symlink out of the roots, or for a link to /proc/self/environ. So:
 * - the path is resolved with realpath and checked first (refusing early with the clearest reason);
 * - the resolved path is opened with O_NOFOLLOW (a last component swapped for a symlink fails) and O_NONBLOCK
 *   (a FIFO opens at once instead of waiting for a writer), asynchronously, so nothing blocks the event loop;
 * - fstat of the descriptor must say "regular file";
 * - the descriptor's own path (/proc/self/fd/N on Linux, which sees through a swapped parent folder) must pass
 *   the same checks. Without /proc, realpath runs again and must land on the same device and inode.
 */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open, readlink, realpath, stat } from 'node:fs/promises';

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

/** A refusal the caller reports as "<path>: <message>". */
export class Refusal extends Error {}

export interface OpenedFile {
  readonly handle: FileHandle;
  /** The real path of what was opened. */
  readonly real: string;
  readonly stats: Stats;
}

/** Returns why a real path may not be read, or undefined when it may. */
export type PathCheck = (real: string, stats?: Stats) => string | undefined;

export async function openChecked(path: string, check: PathCheck): Promise<OpenedFile> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    throw new Refusal(fsReason(error));
  }
  const early = check(real);
  if (early) throw new Refusal(early);
  let handle: FileHandle;
  try {
    handle = await open(real, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new Refusal('was replaced by a symbolic link while being opened');
    throw new Refusal(fsReason(error));
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new Refusal('a directory, not a file (list the files inside it instead)');
    if (!stats.isFile()) throw new Refusal('not a regular file');
    const opened = await descriptorPath(handle, real, stats);
    const late = check(opened, stats);
    if (late) throw new Refusal(late);
    return { handle, real: opened, stats };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Reads the whole file from the descriptor, at most maxBytes: one byte more than fstat said is a file that grew
 * after the size checks, refused rather than trusted.
 */
export async function readAll(opened: OpenedFile, maxBytes: number): Promise<Buffer> {
  const expected = Math.min(opened.stats.size, maxBytes);
  const buffer = Buffer.alloc(expected + 1);
  let length = 0;
  for (;;) {
    const { bytesRead } = await opened.handle.read(buffer, length, buffer.length - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
    if (length > expected) {
      throw new Refusal(
        expected === 0
          ? 'reports a size of 0 but has content (a pseudo-file such as those under /proc); not read'
          : `grew past ${expected} bytes while being read (limit ${maxBytes})`,
      );
    }
  }
  return buffer.subarray(0, length);
}

async function descriptorPath(handle: FileHandle, real: string, stats: Stats): Promise<string> {
  let viaProc: string | undefined;
  try {
    viaProc = await readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    viaProc = undefined;
  }
  if (viaProc?.startsWith('/')) {
    if (viaProc.endsWith(' (deleted)')) throw new Refusal('was deleted or replaced while being opened');
    return viaProc;
  }
  // No /proc (macOS, BSD): the path must still resolve to the very file that is open.
  let again: string;
  let now: Stats;
  try {
    again = await realpath(real);
    now = await stat(again);
  } catch (error) {
    throw new Refusal(`changed while being opened (${fsReason(error)})`);
  }
  if (again !== real || now.dev !== stats.dev || now.ino !== stats.ino) {
    throw new Refusal('was replaced while being opened');
  }
  return again;
}

export function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a part of the path is not a folder';
  if (code === 'ELOOP') return 'too many levels of symbolic links';
  if (code === 'ENXIO') return 'not a regular file';
  return `cannot be read (${code ?? 'unknown error'})`;
}
