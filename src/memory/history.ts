/**
 * Laying out a thread as the messages of a continuation (reference §4 "Rebuild on continuation"). Pure:
 * file reading is injected because path rules (allowed roots, size limits) belong to the tools layer.
 *
 * The layout serves the providers' automatic prefix caches (GLM and Kimi bill a request's leading part at a
 * fraction of the price when an earlier request began with the same text, e.g. https://docs.z.ai/help/faq):
 * each stored turn becomes one message, oldest first, rendered only from what the store keeps, so the request
 * of turn N+1 begins with exactly the messages of turn N, then its answer, then the new question. A file is
 * embedded once, ahead of the question of the first user turn that referenced it, and never moves while the
 * turns around it stay; anything that differs from call to call goes after everything stable.
 */
import type { ConversationTurn } from './types.js';

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
  /** Budget for the earlier turns themselves. */
  historyTokens: number;
  /** Budget for embedded file contents, separate from historyTokens. */
  fileTokens: number;
  /** Shown as `Turn k/MAX` on each later user turn so the model knows how much conversation is left. */
  maxTurns: number;
  /** The tool building the prompt: turns recorded by other tools say which tool they came from. */
  tool: string;
  /** Returns a file's text, or undefined when it cannot or may not be read. Throwing counts as undefined. */
  readFile: (path: string) => string | undefined;
}

/** One message of a conversation; the caller puts its system prompt ahead of them. */
export interface PromptMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface BuiltConversation {
  /** Oldest first; the last is a user message ending with the new turn. Never empty. */
  messages: PromptMessage[];
  /** estimateTokens over every message: subtract from the content budget to see what is left. */
  tokensUsed: number;
  /** Paths whose contents are in `messages`, newest reference first. */
  filesEmbedded: string[];
  /** Referenced paths left out: unreadable, or older than the newer files that filled the file budget. */
  filesOmitted: string[];
  /** Earlier turns laid out (the new turn is not counted). */
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

/**
 * After the history outgrows its budget, the oldest turns are dropped until the rest fits this share of it.
 * Dropping one turn per call, just enough to fit, would change the start of every request from then on, so
 * no request would ever begin like the one before and the prefix cache would miss on the whole history each
 * turn. Dropping down to half leaves the other half to fill before the start moves again: the layout stays
 * append-only for several turns, at the cost of sometimes sending less history than would fit.
 */
const KEEP_AFTER_TRIM = 0.5;

/**
 * Index of the oldest turn kept. Replays the thread's growth turn by turn, so the answer depends only on the
 * turns and the budget: the call that added turn N+1 finds the same starting point the call of turn N used,
 * until the budget is exceeded again. The newest turns always win; the newest is kept whenever it alone fits.
 */
export function keptFrom(costs: readonly number[], budget: number): number {
  const target = Math.floor(budget * KEEP_AFTER_TRIM);
  let start = 0;
  let used = 0;
  for (let n = 0; n < costs.length; n++) {
    used += costs[n] ?? 0;
    if (used <= budget) continue;
    while (start <= n && used > target && !(start === n && used <= budget)) {
      used -= costs[start] ?? 0;
      start++;
    }
  }
  return start;
}

/**
 * Each line prefixed with its number, right-aligned in at least four columns, then '│ ': the layout pal and
 * EXAI embed files in (https://github.com/BeehiveInnovations/pal-mcp-server, utils/file_utils.py), so the
 * model can cite path:line instead of counting lines. CR LF and CR are read as line ends; a final newline
 * does not make an extra empty line. A pure function of the text, so a file embedded again in a later
 * request renders the same and the providers' prefix caches still match.
 */
export function numberLines(content: string): string {
  if (content === '') return '';
  const text = content.replace(/\r\n?/g, '\n');
  const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  const width = Math.max(4, String(lines.length).length);
  return lines.map((line, i) => `${String(i + 1).padStart(width)}│ ${line}`).join('\n');
}

/** One embedded file, numbered, between markers that name it. */
export function fileBlock(path: string, content: string): string {
  return `--- BEGIN FILE: ${path} ---\n${numberLines(content)}\n--- END FILE: ${path} ---`;
}

/** What a turn says, without the files embedded ahead of it. Only stored fields: a replay renders the same. */
function renderTurn(turn: ConversationTurn, position: number, options: HistoryOptions): string {
  const lines: string[] = [];
  if (turn.toolName && turn.toolName !== options.tool) {
    const via = turn.modelName ? ` via ${turn.modelName}` : '';
    lines.push(`[${turn.role === 'user' ? 'Sent to' : 'Answered by'} the ${turn.toolName} tool${via}]`);
  }
  lines.push(turn.content);
  if (turn.files?.length) lines.push('', `Files used in this turn: ${turn.files.join(', ')}`);
  if (turn.images?.length) lines.push(`Images used in this turn: ${turn.images.join(', ')}`);
  // A first question goes out as asked; later ones say how far into the thread they are.
  if (turn.role === 'user' && position > 1) lines.push('', `(Turn ${position}/${options.maxTurns})`);
  return lines.join('\n');
}

interface FileChoice {
  blocks: Map<string, string>;
  embedded: string[];
  omitted: string[];
}

/**
 * Newest reference first, as long as the file budget lasts: a file that does not fit is skipped, not a stop,
 * since a smaller, older one may still fit. The new turn's files were asked for by name, so they are always
 * embedded (the request's byte caps bound them), and they come out of the budget first.
 */
function chooseFiles(turns: readonly ConversationTurn[], options: HistoryOptions): FileChoice {
  const required = new Set(turns.at(-1)?.files ?? []);
  const choice: FileChoice = { blocks: new Map(), embedded: [], omitted: [] };
  let used = 0;
  for (const path of referencedFiles(turns)) {
    let content: string | undefined;
    try {
      content = options.readFile(path);
    } catch {
      content = undefined;
    }
    const block = content === undefined ? undefined : fileBlock(path, content);
    const cost = block === undefined ? 0 : estimateTokens(block);
    if (block === undefined || (!required.has(path) && used + cost > options.fileTokens)) {
      choice.omitted.push(path);
      continue;
    }
    used += cost;
    choice.blocks.set(path, block);
    choice.embedded.push(path);
  }
  return choice;
}

/**
 * The messages of a call: the thread's earlier turns, then `next`, the new user turn exactly as it will be
 * stored (so that the next call renders it the same). Consecutive turns of one role (a workflow records one
 * assistant turn per step) share a message, and a history that starts with an answer gets a user message
 * first, so roles alternate as chat APIs expect.
 */
export function buildConversation(
  history: readonly ConversationTurn[],
  next: ConversationTurn,
  options: HistoryOptions,
): BuiltConversation {
  const turns = [...history, { ...next, role: 'user' as const }];
  const costs = history.map((turn, i) => estimateTokens(renderTurn(turn, i + 1, options)));
  const start = keptFrom(costs, options.historyTokens);
  const files = chooseFiles(turns, options);

  // Each file's home: the first user turn at or after its first reference, or the head when that turn was
  // dropped. Visiting turns oldest first, the first claim wins.
  const homes = new Map<number, string[]>();
  const placed = new Set<string>();
  let pending: string[] = [];
  for (let i = 0; i < turns.length; i++) {
    for (const path of turns[i]?.files ?? []) {
      if (files.blocks.has(path) && !placed.has(path)) {
        placed.add(path);
        pending.push(path);
      }
    }
    if (turns[i]?.role === 'user' || i === start - 1) {
      const home = i < start ? -1 : i;
      homes.set(home, [...(homes.get(home) ?? []), ...pending]);
      pending = [];
    }
  }
  const blocksAt = (home: number) => (homes.get(home) ?? []).map(path => files.blocks.get(path) ?? '');

  const segments: PromptMessage[] = [];
  if (start > 0) {
    // The dropped turns' files lead, so they keep their place at the very start of the prompt across a trim.
    const note = `[Turns 1–${start} of this conversation were left out to fit the history budget.]`;
    segments.push({ role: 'user', content: [...blocksAt(-1), note].join('\n\n') });
  }
  for (let i = start; i < turns.length; i++) {
    const turn = turns[i]!;
    const text = renderTurn(turn, i + 1, options);
    segments.push({ role: turn.role, content: [...blocksAt(i), text].join('\n\n') });
  }
  const messages = mergeRoles(segments);
  if (files.omitted.length > 0) {
    // Changes as files come and go, so it goes at the very end, where nothing stable follows it (the next
    // call lays this turn out without it: the one part of a request the next one does not repeat).
    const last = messages.at(-1)!;
    last.content += `\n\nNot embedded (unreadable or over the file budget): ${files.omitted.join(', ')}`;
  }
  return {
    messages,
    tokensUsed: messages.reduce((sum, m) => sum + estimateTokens(m.content), 0),
    filesEmbedded: files.embedded,
    filesOmitted: files.omitted,
    turnsIncluded: history.length - start,
  };
}

function mergeRoles(segments: readonly PromptMessage[]): PromptMessage[] {
  const messages: PromptMessage[] = [];
  if (segments[0]?.role === 'assistant') {
    messages.push({ role: 'user', content: '[Earlier in this conversation:]' });
  }
  for (const segment of segments) {
    const last = messages.at(-1);
    if (last?.role === segment.role) last.content += `\n\n${segment.content}`;
    else messages.push({ ...segment });
  }
  return messages;
}
