/**
 * consensus: several models, each with a stance (for, against, neutral), evaluate the same proposal; the
 * agent synthesises their answers. Models named in a step are consulted in that step, concurrently; a
 * later step may name failed or new ones again. Answers are kept in the thread, so the synthesis step (and a
 * restarted server) sees them all.
 */
import { z } from 'zod';
import { tokenBudget } from '../../memory/index.js';
import { chooseModel } from '../../toolkit/model-choice.js';
import { thinkingFrom } from '../../toolkit/schema.js';
import { type Consultation, type ConsultResult, consultAll, type Stance } from '../consult.js';
import { WORKFLOW_AUTO } from '../expert.js';
import { embedFiles } from '../files.js';
import { defineWorkflowTool, type OnStepContext, type StepOutcome } from '../types.js';
import { statusNames } from './common.js';

const STANCES: Record<Stance, string> = {
  for: `You argue FOR the proposal, in good faith: bring out its strengths, the best way to realise it, and how
its risks can be handled. If it is fundamentally unsound (unsafe, infeasible, or clearly worse than an obvious
alternative), say so plainly: an honest "no" beats an advocate's "yes".`,
  against: `You argue AGAINST the proposal, in good faith: find its weaknesses, hidden costs, failure modes and
better alternatives. If it is genuinely the right call, say so plainly: honesty beats opposition for its own sake.`,
  neutral: `You are neutral: weigh benefits against costs and risks evenly, and come down where the evidence points.`,
};

function systemPrompt(stance: Stance, custom: string | undefined): string {
  return `You are one of several senior engineers asked by an AI coding assistant (the agent) to evaluate a proposal
or answer a technical question. The other engineers take other stances; the agent weighs all the answers.

${custom?.trim() || STANCES[stance]}

Judge on: technical feasibility, fit with the project as shown, implementation complexity and effort, user
value, long-term maintenance, performance and security implications, and the alternatives. Use the files given;
say "unknown" rather than guess.

Answer in Markdown with these sections:
## Verdict
<one sentence>
## Analysis
<your reasoning, specific to this project>
## Confidence Score
<1-10, and what would change your mind>
## Key Takeaways
<3-5 bullets>`;
}

/** pal and EXAI consulted one model per step and had the agent carry the answers between calls. */
const PAL_STEP_FIELD =
  'accepted and not needed: every model in models is consulted at step 1 and the answers are kept in the thread';

const modelEntry = z.object({
  model: z.string().min(1, 'models[].model must name a model (see listmodels)'),
  stance: z.enum(['for', 'against', 'neutral']).default('neutral'),
  stance_prompt: z.string().optional().describe('Replaces the stance instructions.'),
});

const entryKey = (m: { model: string; stance: Stance }) => `${m.model.toLowerCase()}:${m.stance}`;

const FIELDS = {
  models: z
    .array(modelEntry)
    .min(1, 'models must list at least one model')
    .max(10, 'models is limited to 10 entries')
    .refine(list => new Set(list.map(entryKey)).size === list.length, {
      error:
        'each model+stance pair in models must be unique: give a model twice only with different stances',
    })
    .optional()
    .describe('Required at step 1; see listmodels.'),
};

function responsesOf(data: Record<string, unknown>): ConsultResult[] {
  return Array.isArray(data.responses) ? (data.responses as ConsultResult[]) : [];
}

async function consult({
  view,
  deps,
  ctx,
  budget,
  threadId,
}: OnStepContext<typeof FIELDS>): Promise<StepOutcome> {
  const previous = responsesOf(view.state.data);
  const answered = new Set(previous.filter(r => r.status === 'success').map(entryKey));
  const todo = (view.extras.models ?? []).filter(m => !answered.has(entryKey(m)));
  let responses = previous;
  let fresh: ConsultResult[] = [];
  if (todo.length > 0) {
    const thinking = thinkingFrom(view.args.thinking_mode);
    // Every model is resolved before any is called: a typo fails the step at once, listing the models.
    const specs = todo.map(m => chooseModel(deps, m.model, WORKFLOW_AUTO, thinking));
    const fileBudget = Math.min(...specs.map(s => tokenBudget(s.contextWindow).files));
    const files = await embedFiles(deps.files, view.consolidated.relevant_files, fileBudget, {
      maxFiles: deps.config.maxRequestFiles,
      maxBytes: deps.config.maxRequestFileBytes,
      signal: budget.signal,
    });
    const proposal = [
      `=== PROPOSAL ===\n${view.state.initial_request}\n=== END PROPOSAL ===`,
      ...(view.consolidated.findings.length > 0
        ? [`=== THE AGENT'S OWN ANALYSIS ===\n${view.consolidated.findings.join('\n')}\n=== END ANALYSIS ===`]
        : []),
      ...(files.text ? [`=== RELEVANT FILES ===\n${files.text}\n=== END RELEVANT FILES ===`] : []),
      'Evaluate the proposal from your stance, following your instructions.',
    ].join('\n\n');
    const consultations: Consultation[] = todo.map((m, i) => ({
      model: specs[i]!,
      stance: m.stance,
      messages: [
        { role: 'system', content: systemPrompt(m.stance, m.stance_prompt) },
        { role: 'user', content: proposal },
      ],
    }));
    fresh = (
      await consultAll(consultations, {
        deps,
        ctx,
        threadId,
        stepNumber: view.args.step_number,
        workflow: budget,
        temperature: view.args.temperature ?? 0.2,
        thinking,
        webSearch: view.args.use_websearch,
      })
    ).map((r, i) => ({ ...r, model: todo[i]!.model }));
    const replaced = new Set(fresh.map(entryKey));
    responses = [...previous.filter(r => !replaced.has(entryKey(r))), ...fresh];
  }
  const failed = responses.filter(r => r.status === 'error');
  return {
    data: { responses },
    fields: {
      // Which answers this step added; their text is in accumulated_responses only, never sent twice.
      ...(fresh.length > 0 && {
        model_responses: fresh.map(r => ({ model: r.model, stance: r.stance, status: r.status })),
      }),
      accumulated_responses: responses,
      models_consulted: responses.filter(r => r.status === 'success').length,
      ...(failed.length > 0 && {
        models_failed: failed.map(r => `${r.model} (${r.stance}): ${r.error}`),
        retry_hint: 'Name the failed models again in models on the next step to consult them once more.',
      }),
    },
  };
}

export const consensusTool = defineWorkflowTool({
  name: 'consensus',
  title: 'Consensus: several models, each with a stance, on one proposal',
  description:
    'Several models (GLM, Kimi), each with a stance (for, against, neutral), weigh one proposal concurrently. Step 1: the proposal in step, your view in findings, and models. Final step: your synthesis.',
  fields: FIELDS,
  requiredAtStep1: ['models'],
  aliases: {
    current_model_index: { ignored: PAL_STEP_FIELD },
    model_responses: { ignored: PAL_STEP_FIELD },
  },
  findingsOptional: true,
  hide: [
    'issues_found',
    'hypothesis',
    'confidence',
    'backtrack_from_step',
    'use_assistant_model',
    'model',
    'images',
  ],
  names: statusNames('consensus', 'consensus_workflow_complete', {
    inProgress: 'consulting_models',
    pause: 'ready_for_synthesis',
    complete: 'consensus_workflow_complete',
    exai: { complete: 'consensus_complete' },
  }),
  defaultTemperature: 0.2,
  onStep: consult,
  requiredActions: () => [
    'Read every answer in accumulated_responses, noting where the stances agree and where they conflict',
    'Check the disputed points against the code yourself',
    'Write your synthesis (recommendation, points of agreement, open disagreements, risks) as findings',
  ],
  pauseMessage: (view, actions) =>
    `The models have answered. Before calling consensus step ${view.args.step_number + 1} (next_step_required: ` +
    `false):\n${actions.map((a, i) => `${i + 1}. ${a}`).join('\n')}`,
  completionMessage:
    'CONSENSUS IS COMPLETE. Present to the user: the recommendation, where the models agreed, where they ' +
    'disagreed and why, the main risks, and the concrete next steps.',
});
