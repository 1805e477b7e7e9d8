/** Small helpers the tool definitions share: status names from a noun, actions by confidence. */
import { z } from 'zod';
import type { FieldAlias } from '../../toolkit/arguments.js';
import { latestExtra } from '../state.js';
import type { Consolidated, FieldValue, StatusNames, StepView, ToolFields } from '../types.js';

/**
 * debug's noun is "investigation": investigation_in_progress, pause_for_investigation,
 * investigation_required, investigation_complete, investigation_status, complete_investigation.
 */
export function statusNames(
  noun: string,
  certain: string,
  overrides: Partial<StatusNames> = {},
): StatusNames {
  return {
    inProgress: `${noun}_in_progress`,
    pause: `pause_for_${noun}`,
    required: `${noun}_required`,
    complete: `${noun}_complete`,
    statusKey: `${noun}_status`,
    completeKey: `complete_${noun}`,
    certain,
    skipped: 'skipped_due_to_certain_confidence',
    ...overrides,
  };
}

export interface ActionTable {
  /** Step 1: the investigation has not started. */
  first: string[];
  /** exploring, low */
  early: string[];
  /** medium, high */
  middle: string[];
  /** very_high, almost_certain, certain */
  late: string[];
}

export function actionsByConfidence(view: StepView, table: ActionTable): string[] {
  if (view.args.step_number === 1) return table.first;
  switch (view.args.confidence) {
    case 'exploring':
    case 'low':
      return table.early;
    case 'medium':
    case 'high':
      return table.middle;
    default:
      return table.late;
  }
}

/**
 * Settings a workflow takes at step 1 and keeps: optional in the schema (a default filled in at every step
 * would override what step 1 chose), with the default applied when read, by {@link settingOf}.
 */
export const severityFilterField = z.enum(['critical', 'high', 'medium', 'low', 'all']).optional();

/** The latest value the workflow was given for one of its settings, else its default. */
export function settingOf<F extends ToolFields, K extends keyof F & string>(
  view: StepView<F>,
  name: K,
  fallback: FieldValue<F, K>,
): FieldValue<F, K> {
  return latestExtra(view.state, name) ?? fallback;
}

/** "Label: value" lines for the fields that are set, as one prompt section. */
export function settingsSection(title: string, entries: Record<string, unknown>): string[] {
  const lines = Object.entries(entries)
    .filter(
      ([, value]) => value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0),
    )
    .map(([label, value]) => `${label}: ${Array.isArray(value) ? value.join(', ') : String(value)}`);
  return lines.length > 0 ? [`=== ${title} ===\n${lines.join('\n')}\n=== END ${title} ===`] : [];
}

/**
 * pal's `review_validation_type` (codereview) and `precommit_type` (precommit): "internal" finishes without the
 * expert, which here is use_assistant_model false; "external", pal's default, is ours too.
 */
export const validationTypeAlias: FieldAlias = {
  map: value => (value === 'internal' ? { use_assistant_model: false } : {}),
  ignored: '"external" is the default: the expert checks the final step',
};

/** analyze and testgen ask the expert once there is a file or a single finding, as pal and EXAI do. */
export const fileOrFinding = (c: Consolidated): boolean =>
  c.relevant_files.length > 0 || c.findings.length >= 1;
