/**
 * Rebuilding a thread as prompt text for a continuation (reference §4 "Rebuild on continuation"). Pure:
 * file reading is injected because path rules (allowed roots, size limits) belong to the tools layer.
 */
import type { ConversationTurn, Thread } from './types.js';

export interface TokenBudget {
  /** Everything sent to the model: prompt, history and files. */
  content: number;
  /** Kept free for the model's answer. */
  response: number;
  /** Share of `content` for embedded files. */
  files: number;
  /** Share of `content` for previous turns. */
  history: number;
}

/** The reference's allocation: below 300K tokens 60/40 with files 30% and history 50% of content; from 300K, 80/20 and 40/40. */
export function tokenBudget(contextWindow: number): TokenBudget {
  const window = Math.max(0, Math.floor(contextWindow));
  const large = window >= 300_000;
  const content = Math.floor(window * (large ? 0.8 : 0.6));
  return {
    content,
    response: window - content,
    files: Math.floor(content * (large ? 0.4 : 0.3)),
    history: Math.floor(content * (large ? 0.4 : 0.5)),
  };
}

function isCjk(code: number): boolean {
  return (
    (code >= 0x3040 && code <= 0x30ff) || // Hiragana, Katakana
    (code >= 0x3400 && code <= 0x4dbf) || // CJK Extension A
    (code >= 0x4e00 && code <= 0x9fff) || // CJK Unified Ideographs
    (code >= 0xac00 && code <= 0xd7af) || // Hangul syllables
    (code >= 0xf900 && code <= 0xfaff) || // CJK compatibility ideographs
    (code >= 0xff00 && code <= 0xffef) // full-width forms
  );
}

/**
 * The reference's heuristic, no tokenizer: about 4 characters per token for Latin text and code, but
 * CJK text costs far more per character, so when over 20% of characters are CJK it is length × 0.6.
 * Deliberately rough; budgets built on it keep a margin (the response share) for the error.
 */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  let cjk = 0;
  for (let i = 0; i < text.length; i++) if (isCjk(text.charCodeAt(i))) cjk++;
  return cjk / text.length > 0.2 ? Math.ceil(text.length * 0.6) : Math.ceil(text.length / 4);
}

export interface HistoryOptions {
  /** Budget for the turns themselves. */
  historyTokens: number;
  /** Budget for embedded file contents, separate from historyTokens. */
  fileTokens: number;
  /** Shown as `Turn k/MAX` so the model knows how much conversation is left. */
  maxTurns: number;
  /** Returns a file's text, or undefined when it cannot or may not be read. Throwing counts as undefined. */
  readFile: (path: string) => string | undefined;
}

export interface BuiltHistory {
  /** Empty when the thread has no turns. */
  text: string;
  /** estimateTokens(text): subtract from the content budget to get what is left for the new prompt. */
  tokensUsed: number;
  /** Paths whose contents are in `text`, newest reference first. */
  filesEmbedded: string[];
  turnsIncluded: number;
}

/** Every path the thread referenced, once each, ordered by its newest reference (newest first). */
export function referencedFiles(turns: readonly ConversationTurn[]): string[] {
  const seen = new Set<string>();
  for (let i = turns.length - 1; i >= 0; i--) {
    for (const file of turns[i]?.files ?? []) seen.add(file);
  }
  return [...seen];
}

interface FileSection {
  blocks: string[];
  embedded: string[];
  omitted: string[];
}

function embedFiles(
  paths: readonly string[],
  budget: number,
  readFile: HistoryOptions['readFile'],
): FileSection {
  const section: FileSection = { blocks: [], embedded: [], omitted: [] };
  let used = 0;
  for (const path of paths) {
    let content: string | undefined;
    try {
      content = readFile(path);
    } catch {
      content = undefined;
    }
    const block =
      content === undefined
        ? undefined
        : `--- BEGIN FILE: ${path} ---\n${content}\n--- END FILE: ${path} ---`;
    const cost = block === undefined ? 0 : estimateTokens(block);
    // A file that does not fit is skipped, not a stop: a smaller, older file may still fit.
    if (block === undefined || used + cost > budget) {
      section.omitted.push(path);
      continue;
    }
    used += cost;
    section.blocks.push(block);
    section.embedded.push(path);
  }
  return section;
}

function formatTurn(turn: ConversationTurn, position: number): string {
  let header = `--- Turn ${position} (${turn.role === 'user' ? 'User' : 'Assistant'}`;
  if (turn.toolName) header += ` using ${turn.toolName}`;
  if (turn.modelName) header += ` via ${turn.modelName}`;
  const lines = [`${header}) ---`];
  if (turn.files?.length) lines.push(`Files used in this turn: ${turn.files.join(', ')}`);
  if (turn.images?.length) lines.push(`Images used in this turn: ${turn.images.join(', ')}`);
  lines.push('', turn.content);
  return lines.join('\n');
}

/**
 * Collects turns newest → oldest until the budget runs out, so the most recent exchange always wins;
 * stops at the first turn that does not fit so the included turns stay contiguous.
 * Returns the formatted blocks oldest first.
 */
function selectTurns(turns: readonly ConversationTurn[], budget: number): string[] {
  const picked: string[] = [];
  let used = 0;
  for (let i = turns.length - 1; i >= 0; i--) {
    const block = formatTurn(turns[i]!, i + 1);
    const cost = estimateTokens(block);
    if (used + cost > budget) break;
    used += cost;
    picked.push(block);
  }
  return picked.reverse();
}

export function buildConversationHistory(thread: Thread, options: HistoryOptions): BuiltHistory {
  const total = thread.turns.length;
  if (total === 0) return { text: '', tokensUsed: 0, filesEmbedded: [], turnsIncluded: 0 };

  const parts = [
    '=== CONVERSATION HISTORY (CONTINUATION) ===',
    `Thread: ${thread.id}`,
    `Tool: ${thread.toolName}`,
    `Turn ${total}/${options.maxTurns}`,
    'You are continuing this conversation thread from where it left off.',
    '',
  ];

  const referenced = referencedFiles(thread.turns);
  const files = embedFiles(referenced, options.fileTokens, options.readFile);
  if (referenced.length > 0) {
    parts.push(
      '=== FILES REFERENCED IN THIS CONVERSATION ===',
      'Files shared during this conversation, newest reference first. Each is embedded once here; the turns ' +
        'below name them by path.',
      '',
      ...files.blocks.flatMap(block => [block, '']),
    );
    if (files.omitted.length > 0) {
      parts.push(`Not embedded (unreadable or over the file budget): ${files.omitted.join(', ')}`, '');
    }
    parts.push('=== END REFERENCED FILES ===', '');
  }

  const turns = selectTurns(thread.turns, options.historyTokens);
  parts.push('Previous conversation turns (oldest first):', '');
  const skipped = total - turns.length;
  if (skipped > 0) {
    parts.push(`[Turns 1–${skipped} omitted to fit the history budget.]`, '');
  }
  parts.push(...turns.flatMap(block => [block, '']), '=== END CONVERSATION HISTORY ===');

  const text = parts.join('\n');
  return {
    text,
    tokensUsed: estimateTokens(text),
    filesEmbedded: files.embedded,
    turnsIncluded: turns.length,
  };
}
