/**
 * Turning the expert's answer into the `expert_analysis` object: its
 * JSON used as is; anything else kept as raw analysis with a note on why it did not parse; empty answers,
 * timeouts and errors as their own statuses, which the response then promotes.
 */
import type { ExaiError } from '../errors.js';
import { formatSeconds } from '../format.js';

export type ExpertAnalysis = Record<string, unknown> & { status?: unknown };

/** Expert statuses that replace the response's status: the agent must act before the workflow can finish. */
export const PROMOTED_STATUSES: ReadonlySet<string> = new Set([
  'files_required_to_continue',
  'investigation_paused',
  'refactoring_paused',
]);

/** Expert statuses that make the call's status "error". */
export const FAILED_STATUSES: ReadonlySet<string> = new Set(['analysis_error', 'analysis_timeout']);

const FENCE = /^```[a-zA-Z0-9_-]*\s*\n([\s\S]*?)\n?```\s*$/;

export function parseExpertText(text: string): ExpertAnalysis {
  const trimmed = text.trim();
  if (trimmed === '') {
    return {
      status: 'empty_response',
      raw_analysis: '',
      error: 'The expert model returned an empty answer.',
    };
  }
  // Models wrap JSON in a Markdown fence or a sentence despite the instructions; accept what is plainly meant.
  const unfenced = FENCE.exec(trimmed)?.[1]?.trim() ?? trimmed;
  const candidates = [unfenced];
  const first = unfenced.indexOf('{');
  const last = unfenced.lastIndexOf('}');
  if (first > 0 || (first >= 0 && last < unfenced.length - 1))
    candidates.push(unfenced.slice(first, last + 1));
  let parseError = 'no JSON object found';
  for (const candidate of candidates) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        return value as ExpertAnalysis;
      parseError = `the JSON is ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}, not an object`;
    } catch (error) {
      parseError = (error as Error).message;
    }
  }
  return {
    status: 'analysis_complete',
    raw_analysis: text,
    parse_error: `The expert's answer is not the JSON object it was asked for (${parseError}); it is kept as raw_analysis.`,
  };
}

export function failedAnalysis(error: ExaiError, budgetMs: number): ExpertAnalysis {
  if (error.kind === 'timeout') {
    return {
      status: 'analysis_timeout',
      error: `Expert analysis did not finish: ${error.message}.`,
      raw_analysis: '',
      timeout_duration: formatSeconds(budgetMs),
    };
  }
  return { status: 'analysis_error', error: `Expert analysis failed: ${error.message}`, raw_analysis: '' };
}

export function statusOf(analysis: ExpertAnalysis): string | undefined {
  return typeof analysis.status === 'string' ? analysis.status : undefined;
}

/** files_needed as a list of strings, whatever shape the expert used. */
export function filesNeeded(analysis: ExpertAnalysis): string[] {
  const raw = analysis.files_needed ?? analysis.required_files ?? analysis.files;
  if (!Array.isArray(raw)) return typeof raw === 'string' && raw !== '' ? [raw] : [];
  return raw.filter((f): f is string => typeof f === 'string' && f !== '');
}
