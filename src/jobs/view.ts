/**
 * What a model job looks like from outside: the `job` object of an `in_progress` answer, a row of the
 * status report, and the words a person reads in a progress message. Pure.
 */
import type { ErrorKind } from '../errors.js';

export type JobPhase =
  | 'starting'
  | 'thinking'
  | 'answering'
  | 'retrying'
  | 'falling_back'
  | 'searching'
  | 'done'
  | 'failed'
  | 'cancelled';

export interface JobView {
  id: string;
  tool: string;
  model: string;
  phase: JobPhase;
  elapsed_s: number;
  attempt: number;
  /** Counted from the stream while the job runs (about 4 characters a token); the provider's figure after. */
  reasoning_tokens: number;
  output_tokens: number;
  /** ISO 8601. */
  started_at: string;
  /** A call has received the answer. */
  collected: boolean;
  /** What happened last, in words ("attempt 2 after a stall", "falling back to kimi-k2.6"). */
  note?: string;
  cost_usd?: number;
  error?: string;
}

/** The part of a view an agent is given in an `in_progress` answer. */
export function agentView(view: JobView): Record<string, unknown> {
  return {
    id: view.id,
    phase: view.phase,
    elapsed_s: view.elapsed_s,
    model: view.model,
    attempt: view.attempt,
    reasoning_tokens: view.reasoning_tokens,
    output_tokens: view.output_tokens,
  };
}

const count = new Intl.NumberFormat('en-US');

/** "glm-5.1 thinking, 74 s, 1,820 reasoning tokens"; "answering, 640 tokens"; "falling back to kimi-k2.6". */
export function describeJob(view: JobView): string {
  const secs = `${Math.round(view.elapsed_s)} s`;
  const parts: string[] = [];
  switch (view.phase) {
    case 'starting':
      parts.push(`${view.model} waiting for the first token`, secs);
      break;
    case 'thinking':
      parts.push(`${view.model} thinking`, secs, `${count.format(view.reasoning_tokens)} reasoning tokens`);
      break;
    case 'answering':
      parts.push(`${view.model} answering`, `${count.format(view.output_tokens)} tokens`, secs);
      break;
    case 'searching':
      parts.push(`${view.model} searching the web`, secs);
      break;
    case 'retrying':
    case 'falling_back':
      parts.push(view.note ?? `${view.model} retrying`, secs);
      break;
    default:
      parts.push(`${view.model} ${view.phase}`, secs);
  }
  // A retry or fallback stays worth saying while the next attempt runs.
  if (view.note && view.phase !== 'retrying' && view.phase !== 'falling_back') parts.push(view.note);
  return parts.join(', ');
}

const REASONS: Partial<Record<ErrorKind, string>> = {
  stalled: 'a stall',
  timeout: 'a timeout',
  rate_limited: 'a rate limit',
  overloaded: 'an overloaded provider',
  network: 'a network error',
  upstream_error: 'a provider error',
};

export function reasonWords(kind: ErrorKind): string {
  return REASONS[kind] ?? `a ${kind.replaceAll('_', ' ')} error`;
}
