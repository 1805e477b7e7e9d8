/**
 * Conversation threads for tools: open a thread from a continuation_id, rebuild its history
 * within the model's token budget, and record a finished exchange. Only a completed exchange is written, so
 * a cancelled or failed call leaves the thread as it was.
 */
import {
  type BuiltConversation,
  buildConversation,
  type ConversationTurn,
  referencedFiles,
  type Thread,
  tokenBudget,
} from '../memory/index.js';
import type { ModelSpec } from '../providers/models.js';
import type { ContinuationOffer } from './output.js';
import type { ToolDeps } from './types.js';

/**
 * MAX_CONVERSATION_TURNS counts exchanges (calls answered), as EXAI's offers do ("19 more exchanges" on a new
 * thread of 20: tools/simple/mixins/continuation_mixin.py in https://github.com/Zazzles2908/EX-AI-MCP-Server). A chat exchange stores two turns (the question and the answer), so a thread holds twice as
 * many turns as exchanges.
 */
export const TURNS_PER_EXCHANGE = 2;

/**
 * The thread to continue, or undefined for a new conversation. Unknown or expired ids fail clearly. A thread
 * at its limit is still answered, as EXAI and pal do; the answer then carries no offer to continue.
 */
export async function openThread(
  deps: ToolDeps,
  continuationId: string | undefined,
): Promise<Thread | undefined> {
  if (continuationId === undefined) return undefined;
  return deps.store.get(continuationId.trim());
}

/** The model of the thread's last answer: a continuation without a model keeps talking to the same one. */
export function lastModel(thread: Thread | undefined): string | undefined {
  if (!thread) return undefined;
  for (let i = thread.turns.length - 1; i >= 0; i--) {
    const turn = thread.turns[i];
    if (turn?.role === 'assistant' && turn.modelName) return turn.modelName;
  }
  return undefined;
}

/**
 * The conversation part of a call's messages: the thread's turns (if any), then `next`, the user turn exactly
 * as recordExchange will store it, so the next call lays it out the same and its request begins with this one.
 * `loaded` holds the new turn's files, already read through the file policy. The thread's own files are read
 * first, asynchronously and under the same policy (newest reference first, at most the per-request file count
 * and bytes), so rebuilding a long thread neither blocks the event loop nor reads without bound.
 */
export async function conversationMessages(
  deps: ToolDeps,
  thread: Thread | undefined,
  model: ModelSpec,
  next: ConversationTurn,
  loaded: ReadonlyArray<{ path: string; content: string }>,
  signal?: AbortSignal,
): Promise<BuiltConversation> {
  const budget = tokenBudget(model.contextWindow);
  const contents = new Map(loaded.map(f => [f.path, f.content]));
  let bytes = loaded.reduce((sum, f) => sum + Buffer.byteLength(f.content), 0);
  for (const path of referencedFiles(thread?.turns ?? []).slice(0, deps.config.maxRequestFiles)) {
    if (signal?.aborted || bytes >= deps.config.maxRequestFileBytes) break;
    if (contents.has(path)) continue;
    const text = await deps.files.readText(path);
    if (text === undefined) continue;
    bytes += Buffer.byteLength(text);
    contents.set(path, text);
  }
  return buildConversation(thread?.turns ?? [], next, {
    historyTokens: budget.history,
    fileTokens: budget.files,
    maxTurns: deps.config.maxConversationTurns * TURNS_PER_EXCHANGE,
    tool: next.toolName ?? 'chat',
    readFile: path => contents.get(path),
  });
}

export interface Exchange {
  thread: Thread | undefined;
  toolName: string;
  user: ConversationTurn;
  assistant: ConversationTurn;
  /** Stored with a new thread: the arguments that started it. */
  initialContext: Record<string, unknown>;
}

/**
 * Writes both turns in one store call (creating the thread on a first call) and returns the offer to continue,
 * if room is left. One atomic write: another replica continuing the thread at once cannot slip its turns
 * between this question and its answer, and the turn limit never keeps the question but refuses the answer.
 */
export async function recordExchange(
  deps: ToolDeps,
  exchange: Exchange,
): Promise<ContinuationOffer | undefined> {
  const { store } = deps;
  const turns = [exchange.user, exchange.assistant];
  const thread = exchange.thread
    ? await store.appendTurns(exchange.thread.id, turns)
    : await store.create({ toolName: exchange.toolName, initialContext: exchange.initialContext, turns });
  return offerFor(thread, deps.config.maxConversationTurns);
}

/** The offer to continue, while the thread has exchanges left; each answer recorded is one exchange. */
export function offerFor(thread: Thread, maxExchanges: number): ContinuationOffer | undefined {
  const remaining = maxExchanges - thread.turns.filter(t => t.role === 'assistant').length;
  if (remaining <= 0) return undefined;
  return {
    continuation_id: thread.id,
    note:
      `You can continue this conversation for ${remaining} more exchanges: pass continuation_id to chat or any ` +
      'other exai tool, and the history and files of this thread come along.',
    remaining_turns: remaining,
  };
}

export function turn(
  role: ConversationTurn['role'],
  content: string,
  extra: Omit<ConversationTurn, 'role' | 'content' | 'timestamp'> = {},
): ConversationTurn {
  return { role, content, timestamp: new Date().toISOString(), ...extra };
}
