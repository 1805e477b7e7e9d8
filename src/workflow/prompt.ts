/**
 * The expert's prompt: the tool's system prompt plus the shared JSON contract, and a user message built
 * from the consolidated findings in the sections of the Python system (reference §2.4 "Prompt"), ordered
 * for the providers' prefix caches.
 */
import type { ContentPart } from '../providers/types.js';
import type { EmbeddedFiles } from './files.js';
import type { StepView } from './types.js';

/** Appended to every expert system prompt: how to ask for files, and what the answer must look like. */
const JSON_CONTRACT = `
OUTPUT RULES (apply to every answer)
- Answer with ONE JSON object and nothing else: no prose before or after it, no Markdown code fence.
- Base every claim on the findings and files given. Each line of an embedded file starts with its line
  number and "│" (not part of the file): cite code as path:line. Say "unknown" rather than guess; never
  invent APIs, flags or versions.
- The agent has already investigated; do not repeat its findings back. Add what it missed, confirm or refute
  its conclusions, and be specific enough to act on.
- If you cannot answer well without files you were not given, answer only:
  {"status": "files_required_to_continue", "mandatory_instructions": "<what the agent must do and why>",
   "files_needed": ["<absolute path or the name to look for>", "..."]}`;

export function expertSystemPrompt(toolPrompt: string): string {
  return `${toolPrompt.trim()}\n${JSON_CONTRACT}`;
}

/** Files left out that the prompt names one by one. */
const MAX_SKIPPED_LINES = 50;

function section(title: string, body: string): string {
  return `=== ${title} ===\n${body}\n=== END ${title} ===`;
}

const ALMOST_CERTAIN =
  'The agent is almost certain but has NOT confirmed its conclusion. Validate the hypothesis against the ' +
  'evidence, name any missing evidence or overlooked cause, and say what would confirm or refute it.';

export interface ExpertPromptInput {
  view: StepView;
  requestTitle: string;
  toolSections: readonly string[];
  files: EmbeddedFiles;
  /** Images as data: URLs, when the model can see them. */
  images: readonly string[];
  imagesWithheld: number;
}

/**
 * Stable material first, so a second final step on the same thread (after the expert asked for files, or
 * a step sent again) begins with the text of the first and the providers' prefix caches serve it at a
 * fraction of the price: the files (in the order the steps named them, so a new file lands after the
 * others), the tool's own sections (diffs, settings), the workflow's request (fixed at step 1), then the
 * step history, which only grows at its end. What describes this call alone (counts, confidence, what was
 * left out, the instruction to answer) closes the message.
 */
export function expertUserContent(input: ExpertPromptInput): string | ContentPart[] {
  const { view, files } = input;
  const c = view.consolidated;
  const parts: string[] = [];
  if (files.text) parts.push(section('ESSENTIAL FILES', files.text));
  parts.push(...input.toolSections);
  parts.push(section(input.requestTitle, view.state.initial_request));
  parts.push(section("AGENT'S INVESTIGATION FINDINGS", c.findings.join('\n')));
  if (c.relevant_context.length > 0) {
    parts.push(section('RELEVANT METHODS/FUNCTIONS', c.relevant_context.map(m => `- ${m}`).join('\n')));
  }
  if (c.hypotheses.length > 0) {
    const lines = c.hypotheses.map(h => `Step ${h.step} (${h.confidence} confidence): ${h.hypothesis}`);
    parts.push(section('HYPOTHESIS EVOLUTION', lines.join('\n')));
  }
  if (c.issues_found.length > 0) {
    const lines = c.issues_found.map(
      i => `- [${i.severity ?? 'unrated'}] ${i.description ?? JSON.stringify(i)}`,
    );
    parts.push(section('ISSUES FOUND BY THE AGENT', lines.join('\n')));
  }
  parts.push(
    `Steps: ${view.state.steps.length}; files examined: ${c.files_checked.length}; relevant files: ` +
      `${c.relevant_files.length}; code elements: ${c.relevant_context.length}; confidence now: ${c.confidence}`,
  );
  if (c.confidence === 'almost_certain')
    parts.push(section('IMPORTANT: ALMOST CERTAIN CONFIDENCE', ALMOST_CERTAIN));
  if (files.skipped.length > 0) {
    // A folder can leave out hundreds of files; the answer's files_skipped has them all.
    const lines = files.skipped.slice(0, MAX_SKIPPED_LINES).map(s => `- ${s.path}: ${s.reason}`);
    const more = files.skipped.length - lines.length;
    if (more > 0) lines.push(`- … and ${more} more`);
    parts.push(`Relevant files NOT included (ask for them if you need them):\n${lines.join('\n')}`);
  }
  if (input.imagesWithheld > 0) {
    parts.push(`${input.imagesWithheld} image(s) were collected but this model cannot see images.`);
  }
  parts.push('Answer with the JSON object described in your instructions, and nothing else.');
  const text = parts.join('\n\n');
  if (input.images.length === 0) return text;
  return [
    { type: 'text', text },
    ...input.images.map(url => ({ type: 'image_url' as const, image_url: { url } })),
  ];
}
