/**
 * Rules every store implementation shares, so the agent-facing messages and the validation are identical
 * whichever backend is configured.
 */
import { ExaiError } from '../errors.js';
import type { ConversationTurn, CreateThreadInput, StoreOptions } from './types.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const RESTART_HINT = 'Start a new conversation by calling the tool again without continuation_id.';

export interface ResolvedOptions {
  ttlMs: number;
  maxTurns: number;
  now: () => number;
}

export function resolveOptions(options: StoreOptions): ResolvedOptions {
  if (!(Number.isFinite(options.ttlMs) && options.ttlMs > 0)) {
    throw new ExaiError(
      'not_configured',
      `Conversation store: ttlMs must be a positive number, got ${options.ttlMs}.`,
    );
  }
  if (!(Number.isInteger(options.maxTurns) && options.maxTurns >= 1)) {
    throw new ExaiError(
      'not_configured',
      `Conversation store: maxTurns must be an integer ≥ 1, got ${options.maxTurns}.`,
    );
  }
  return { ttlMs: options.ttlMs, maxTurns: options.maxTurns, now: options.now ?? Date.now };
}

/** Ids come from agents, so they are echoed back shortened: a pasted blob must not flood the reply. */
function quoteId(id: string): string {
  return JSON.stringify(id.length > 64 ? `${id.slice(0, 64)}…` : id);
}

/** Validates a thread id and returns its canonical (lower-case) form; a malformed id is reported as not found. */
export function canonicalId(id: string): string {
  if (typeof id !== 'string' || !UUID_V4.test(id)) {
    throw new ExaiError(
      'not_found',
      `Conversation thread ${quoteId(String(id))} is not a valid continuation_id (expected a UUID). ${RESTART_HINT}`,
    );
  }
  return id.toLowerCase();
}

export function isThreadId(value: string): boolean {
  return UUID_V4.test(value);
}

function formatDuration(ms: number): string {
  if (ms >= 3_600_000) return `${Number((ms / 3_600_000).toFixed(2))} h`;
  if (ms >= 60_000) return `${Number((ms / 60_000).toFixed(1))} min`;
  return `${Number((ms / 1000).toFixed(1))} s`;
}

export function threadNotFound(id: string, ttlMs: number): ExaiError {
  return new ExaiError(
    'not_found',
    `Conversation thread ${quoteId(id)} was not found or has expired (threads expire ${formatDuration(ttlMs)} ` +
      `after their last turn). ${RESTART_HINT}`,
  );
}

/** `adding`: the size of the refused batch (a store does not say how full the thread is, only that it is). */
export function tooManyTurns(id: string, maxTurns: number, adding = 1): ExaiError {
  const why =
    adding === 1
      ? `has reached its limit of ${maxTurns} turns`
      : `has no room for ${adding} more turns within its limit of ${maxTurns} turns`;
  return new ExaiError(
    'bad_request',
    `Conversation thread ${quoteId(id)} ${why}. Start a new conversation without continuation_id, ` +
      'summarising what matters from this one in the prompt.',
  );
}

export function tooManyTurnsToStart(count: number, maxTurns: number): ExaiError {
  return new ExaiError(
    'bad_request',
    `A conversation thread cannot start with ${count} turns: its limit is ${maxTurns} turns.`,
  );
}

export function storeClosed(kind: string): ExaiError {
  return new ExaiError('protocol', `The ${kind} conversation store is closed.`);
}

/** TypeScript guards callers, but turns also arrive from JSON over the wire; refuse what a store cannot hold. */
function checkTurn(turn: ConversationTurn): void {
  if (turn === null || typeof turn !== 'object')
    throw new ExaiError('bad_request', 'A conversation turn must be an object.');
  if (turn.role !== 'user' && turn.role !== 'assistant') {
    throw new ExaiError(
      'bad_request',
      `A conversation turn's role must be "user" or "assistant", got ${JSON.stringify(turn.role)}.`,
    );
  }
  if (typeof turn.content !== 'string')
    throw new ExaiError('bad_request', "A conversation turn's content must be a string.");
}

/**
 * A batch is written whole or not at all, so every turn is checked before anything is stored. An append
 * needs at least one turn; a new thread may start with none.
 */
export function checkTurns(turns: readonly ConversationTurn[], allowEmpty: boolean): void {
  if (!Array.isArray(turns)) throw new ExaiError('bad_request', 'Conversation turns must be an array.');
  if (turns.length === 0 && !allowEmpty) {
    throw new ExaiError('bad_request', 'appendTurns needs at least one turn.');
  }
  for (const turn of turns) checkTurn(turn);
}

/** Validates create()'s input before anything is written; returns the turns the new thread starts with. */
export function checkCreate(input: CreateThreadInput, maxTurns: number): ConversationTurn[] {
  if (input.parentId !== undefined && !isThreadId(input.parentId)) {
    throw new ExaiError('bad_request', 'parentId must be a thread id (UUID).');
  }
  const turns = input.turns ?? [];
  checkTurns(turns, true);
  if (turns.length > maxTurns) throw tooManyTurnsToStart(turns.length, maxTurns);
  return turns;
}

/** The updater runs inside a lock/transaction, so a promise would escape it and its result would be lost. */
export function checkNewState(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ExaiError('bad_request', 'updateState: the updater must return a plain object.');
  }
  if (typeof (value as { then?: unknown }).then === 'function') {
    throw new ExaiError(
      'bad_request',
      'updateState: the updater must be synchronous (it returned a promise).',
    );
  }
  return value as Record<string, unknown>;
}

/** A JSON round trip: both stores hand out exactly what SQLite would give back, and never their own objects. */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * create() also drops expired threads now and then, so a long-running server stays bounded without a timer.
 * Every max(5 min, TTL/10): an expired thread lingers at most that long past its TTL, and the sweep's scan
 * runs rarely enough that no caller notices its cost.
 */
export function sweepIntervalMs(ttlMs: number): number {
  return Math.max(300_000, ttlMs / 10);
}

export function cancelledBeforeStart(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new ExaiError('cancelled', 'Creating the conversation thread was cancelled.', {
      cause: signal.reason,
    });
}
