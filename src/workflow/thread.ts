/**
 * A workflow's thread: created at step 1, continued by continuation_id, and the only place its state
 * lives (state kept on the tool object would be one singleton shared by every caller, and lost on restart).
 * Each step is recorded with the store's atomic update, so the state survives a restart (SQLite) and concurrent
 * workflows never see each other's findings.
 */
import type { ToolDeps } from '../toolkit/types.js';
import { readState, recordStep, stateKey, toRecord } from './state.js';
import type { StepArgs, WorkflowState } from './types.js';

/**
 * Response keys that only steer the current call: kept out of the thread's history, where a later call would
 * read a stale instruction ("call me again", "embed these files") as if it were addressed to it.
 */
const NOT_HISTORY = new Set([
  'continuation_id',
  'status',
  'next_step_required',
  'file_context',
  'required_actions',
  'metadata',
  'next_steps',
  'next_call',
  'important_considerations',
  'continuation_required',
  'continuation_available',
  'content_type',
]);

export async function openThread(
  deps: ToolDeps,
  tool: string,
  args: StepArgs,
  extras: Record<string, unknown>,
): Promise<string> {
  if (args.continuation_id !== undefined) return (await deps.store.get(args.continuation_id)).id;
  const thread = await deps.store.create({
    toolName: tool,
    initialContext: {
      step: args.step,
      ...(args.model !== undefined && { model: args.model }),
      ...extras,
    },
  });
  return thread.id;
}

/** Records the step (replacing a resent one, applying a backtrack) and returns the workflow's state. */
export async function saveStep(
  deps: ToolDeps,
  threadId: string,
  tool: string,
  args: StepArgs,
  extras: Record<string, unknown>,
): Promise<WorkflowState> {
  let saved: WorkflowState | undefined;
  await deps.store.updateState(threadId, state => {
    saved = recordStep(readState(state, tool), tool, toRecord(args, extras), args.backtrack_from_step);
    return { ...state, [stateKey(tool)]: saved };
  });
  // The updater always runs before updateState resolves.
  return saved as WorkflowState;
}

export async function saveData(
  deps: ToolDeps,
  threadId: string,
  tool: string,
  data: Record<string, unknown>,
): Promise<void> {
  await deps.store.updateState(threadId, state => {
    const current = readState(state, tool);
    return current ? { ...state, [stateKey(tool)]: { ...current, data } } : state;
  });
}

/**
 * One assistant turn per step, so another tool continuing the thread (chat with this continuation_id) sees
 * the workflow. Best effort: a thread at MAX_CONVERSATION_TURNS keeps its state; the answer says so.
 */
export async function appendStepTurn(
  deps: ToolDeps,
  threadId: string,
  tool: string,
  args: StepArgs,
  response: Record<string, unknown>,
  model: { name: string; provider: string } | undefined,
): Promise<string | undefined> {
  const history = Object.fromEntries(Object.entries(response).filter(([key]) => !NOT_HISTORY.has(key)));
  const content = JSON.stringify({ step: args.step, findings: args.findings, ...history }, null, 2);
  try {
    await deps.store.appendTurn(threadId, {
      role: 'assistant',
      content,
      timestamp: new Date().toISOString(),
      toolName: tool,
      ...(args.relevant_files.length > 0 && { files: args.relevant_files }),
      ...(model && { modelName: model.name, modelProvider: model.provider }),
    });
    return undefined;
  } catch (error) {
    deps.logger.warn(
      { event: 'memory_write_failed', tool, err: error },
      'could not record the workflow step turn',
    );
    return `The step is recorded in the workflow, but not in the conversation history: ${(error as Error).message}`;
  }
}
