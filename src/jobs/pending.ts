/**
 * A call's soft budget ran out while its model job still runs. Thrown by the job registry and caught by the
 * tool that started the step, which answers `in_progress` with a `next_call` repeating the step; never an
 * error the agent sees.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { SoftBudget } from './soft-budget.js';
import { agentView, describeJob, type JobView } from './view.js';

export class JobPending extends Error {
  override readonly name = 'JobPending';
  constructor(
    readonly jobs: readonly JobView[],
    /** The thread the job belongs to; absent for a chat that starts no thread until it has its answer. */
    readonly thread: string | undefined,
    readonly budget: SoftBudget,
  ) {
    super(`still running after the soft budget: ${jobs.map(describeJob).join('; ')}`);
  }

  /** Several jobs of one step (consensus) still running: one answer naming them all. */
  static merge(pending: readonly JobPending[]): JobPending {
    const first = pending[0]!;
    return new JobPending(
      pending.flatMap(p => p.jobs),
      first.thread,
      first.budget,
    );
  }
}

export function isJobPending(value: unknown): value is JobPending {
  return value instanceof JobPending;
}

/**
 * The fields of an `in_progress` answer: the job, the exact call that collects it, and one sentence saying
 * so. `args` are the arguments of the call as received; the thread is added so a first step that created
 * it lands on the same job.
 */
export function inProgressFields(
  pending: JobPending,
  tool: string,
  args: Record<string, unknown>,
): Record<string, unknown> {
  const [first, ...others] = pending.jobs;
  const doing = pending.jobs.map(describeJob).join('; ');
  return {
    status: 'in_progress',
    ...(pending.thread !== undefined && { continuation_id: pending.thread }),
    ...(first && { job: agentView(first) }),
    ...(others.length > 0 && { other_jobs: others.map(agentView) }),
    next_steps:
      `The ${tool} answer is still being prepared (${doing}): call ${tool} again with the same arguments ` +
      '(next_call) to collect it; you may do other work first.',
    next_call: {
      tool,
      arguments: { ...args, ...(pending.thread !== undefined && { continuation_id: pending.thread }) },
    },
  };
}

/** One JSON text content and the same object as structuredContent, as every model-backed answer is shaped. */
export function jsonResult(data: Record<string, unknown>): CallToolResult {
  const text = JSON.stringify(data);
  return {
    content: [{ type: 'text', text }],
    structuredContent: JSON.parse(text) as Record<string, unknown>,
  };
}

/**
 * Adds `metadata.soft_return` (which budget the call had, and why) to a JSON answer; anything else is left
 * as it is.
 */
export function withSoftReturnNote(result: CallToolResult, budget: SoftBudget): CallToolResult {
  const structured = result.structuredContent as Record<string, unknown> | undefined;
  const metadata = structured?.metadata;
  if (!structured || typeof metadata !== 'object' || metadata === null) return result;
  const noted = {
    ...structured,
    metadata: { ...metadata, soft_return: { budget_s: budget.ms / 1000, reason: budget.reason } },
  };
  return { ...jsonResult(noted), ...(result.isError && { isError: true }) };
}
