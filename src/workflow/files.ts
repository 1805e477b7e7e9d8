/**
 * File context of a workflow: intermediate steps only name the files, so the
 * agent's context is not filled twice; the final step embeds them for the expert, newest evidence first,
 * within the files share of the model's context window. A file that cannot be read or does not fit is
 * skipped with the reason, not a failure of the whole step.
 */
import { ExaiError } from '../errors.js';
import type { ExpandedFolder, FilePolicy } from '../files/policy.js';
import { fileBlock } from '../memory/index.js';
import { estimateTokens } from '../tokens.js';

export interface EmbeddedFiles {
  /** The file blocks, empty when nothing was embedded. */
  text: string;
  embedded: string[];
  skipped: Array<{ path: string; reason: string }>;
  /** Folders among the paths, each replaced by the files under it. */
  folders: ExpandedFolder[];
  tokens: number;
}

export async function embedFiles(
  policy: FilePolicy,
  paths: readonly string[],
  budgetTokens: number,
  options: { maxFiles?: number; maxBytes?: number; signal?: AbortSignal } = {},
): Promise<EmbeddedFiles> {
  const result: EmbeddedFiles = { text: '', embedded: [], skipped: [], folders: [], tokens: 0 };
  const blocks: string[] = [];
  const expansion = await policy.expand(paths, options.signal);
  result.folders = expansion.folders;
  const maxFiles = options.maxFiles ?? Number.POSITIVE_INFINITY;
  let bytesLeft = options.maxBytes ?? Number.POSITIVE_INFINITY;
  for (const [index, path] of expansion.paths.entries()) {
    // Past the cap, or once the call is cancelled, nothing more is read: the rest are named, not opened.
    if (index >= maxFiles) {
      result.skipped.push({
        path,
        reason: `over the limit of ${maxFiles} files per request (EXAI_MAX_REQUEST_FILES)`,
      });
      continue;
    }
    if (options.signal?.aborted) {
      result.skipped.push({ path, reason: 'not read: the call was cancelled' });
      continue;
    }
    // One file per read: the policy's checks apply, and one refused file does not sink the rest.
    const read = await policy.readOne(path, bytesLeft);
    if (!read.ok) {
      result.skipped.push({ path, reason: read.reason });
      continue;
    }
    const block = fileBlock(path, read.file.content);
    const cost = estimateTokens(block);
    if (result.tokens + cost > budgetTokens) {
      result.skipped.push({ path, reason: `does not fit the file budget of ${budgetTokens} tokens` });
      continue;
    }
    bytesLeft -= read.file.bytes;
    result.tokens += cost;
    blocks.push(block);
    result.embedded.push(path);
  }
  result.text = blocks.join('\n\n');
  return result;
}

/**
 * Every path the expert will be sent, checked at the step that names it: a file outside the allowed roots (or a
 * secret by name) fails this step with the reason, rather than being left out silently at the final step.
 * Checked by path only, nothing is opened: a file may not exist yet, and reading is the final step's work.
 */
export async function checkNamedFiles(
  policy: FilePolicy,
  fields: Readonly<Record<string, readonly string[]>>,
): Promise<void> {
  const refusals: string[] = [];
  for (const [field, paths] of Object.entries(fields)) {
    for (const path of new Set(paths)) {
      const reason = await policy.placeRefusal(path);
      if (reason) refusals.push(`${field}: ${path}: ${reason}`);
    }
  }
  if (refusals.length === 0) return;
  const head = refusals.length === 1 ? 'Cannot use this path' : `Cannot use these ${refusals.length} paths`;
  throw new ExaiError(
    'bad_request',
    `${head}:\n${refusals.map(r => `- ${r}`).join('\n')}\nRemove or correct them and send this step again.`,
    { retryable: false },
  );
}

export function referenceContext(paths: readonly string[]): Record<string, unknown> {
  return {
    type: 'reference_only',
    note:
      paths.length > 0
        ? `${paths.length} relevant file(s) noted by path; their contents are read and sent to the expert at the final step.`
        : 'No relevant files yet: list them in relevant_files as you find them.',
    context_optimization: "Files referenced but not embedded to preserve the AI assistant's context window",
  };
}

export function embeddedContext(files: EmbeddedFiles): Record<string, unknown> {
  return {
    type: 'fully_embedded',
    files_embedded: files.embedded.length,
    context_optimization: 'Full file content embedded for expert analysis',
    ...(files.folders.length > 0 && { folders_expanded: files.folders }),
    ...(files.skipped.length > 0 && { files_skipped: files.skipped }),
  };
}
