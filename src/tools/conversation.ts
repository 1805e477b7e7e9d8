/**
 * Conversation threads for tools: open a thread from a continuation_id, rebuild its history
 * within the model's token budget, and record a finished exchange. Only a completed exchange is written, so
 * a cancelled or failed call leaves the thread as it was.
 */
import { ExaiError } from '../errors.js';
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

/** One exchange adds the user's turn and the answer. */
const TURNS_PER_EXCHANGE = 2;

/** The thread to continue, or undefined for a new conversation. Unknown or expired ids fail clearly. */
export async function openThread(
  deps: ToolDeps,
  continuationId: string | undefined,
): Promise<Thread | undefined> {
  if (continuationId === undefined) return undefined;
  const thread = await deps.store.get(continuationId.trim());
  const max = deps.config.maxConversationTurns;
  if (thread.turns.length + TURNS_PER_EXCHANGE > max) {
    throw new ExaiError(
      'bad_request',
      `Conversation thread ${thread.id} has reached its limit of ${max} turns (MAX_CONVERSATION_TURNS). Start a new ` +
        'conversation without continuation_id, summarising what matters from this one in the prompt.',
      { retryable: false },
    );
  }
  return thread;
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
    maxTurns: deps.config.maxConversationTurns,
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

export function offerFor(thread: Thread, maxTurns: number): ContinuationOffer | undefined {
  const remaining = maxTurns - thread.turns.length;
  if (remaining < TURNS_PER_EXCHANGE) return undefined;
  return {
    continuation_id: thread.id,
    note:
      `You can continue this conversation for ${remaining} more turns: pass continuation_id to chat or any ` +
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
