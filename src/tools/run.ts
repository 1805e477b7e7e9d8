/**
 * The frame every tool handler runs in: one signal that fires on MCP cancellation (or the client going away)
 * and on server shutdown, errors turned into isError results, and one log line per call.
 */
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { withSoftReturnNote } from '../jobs/pending.js';
import { softBudget } from '../jobs/soft-budget.js';
import { errorResult } from './output.js';
import type { ToolDeps } from './types.js';

export interface LinkedSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * Aborts when any source aborts, with that source's reason. A plain controller and listeners rather than
 * AbortSignal.any: the listeners are removed on dispose, so a long-lived source (the shutdown signal) does
 * not collect one dead listener per call.
 */
export function linkSignals(...sources: AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const listeners: Array<() => void> = [];
  const dispose = () => {
    sources.forEach((source, i) => {
      const listener = listeners[i];
      if (listener) source.removeEventListener('abort', listener);
    });
    listeners.length = 0;
  };
  for (const source of sources) {
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const listener = () => {
      controller.abort(source.reason);
      dispose();
    };
    listeners.push(listener);
    source.addEventListener('abort', listener, { once: true });
  }
  if (controller.signal.aborted) dispose();
  return { signal: controller.signal, dispose };
}

/**
 * `client` is the calling client's name (clientInfo): it picks the call's soft budget, how long a model job
 * is waited for before the call answers in_progress (src/jobs/soft-budget.ts).
 */
export async function runTool(
  deps: ToolDeps,
  toolName: string,
  ctx: ServerContext,
  work: (signal: AbortSignal) => Promise<CallToolResult>,
  client?: string,
): Promise<CallToolResult> {
  const started = performance.now();
  const link = linkSignals(ctx.mcpReq.signal, deps.shutdownSignal);
  deps.jobs.begin(ctx, softBudget(client, deps.config.softReturnSecs));
  let outcome = 'ok';
  let result: CallToolResult | undefined;
  try {
    result = await work(link.signal);
    if (result.isError) outcome = 'error';
    if ((result.structuredContent as { status?: unknown } | undefined)?.status === 'in_progress')
      outcome = 'in_progress';
    result = noteSoftReturn(deps, ctx, result);
    return result;
  } catch (error) {
    outcome = (error as { kind?: string }).kind ?? 'internal';
    result = noteSoftReturn(deps, ctx, errorResult(toolName, error, deps.logger));
    return result;
  } finally {
    link.dispose();
    const ms = Math.round(performance.now() - started);
    deps.logger.info({ event: 'tool_call', tool: toolName, ms, outcome }, `tool ${toolName}: ${outcome}`);
    deps.observeToolCall?.({ tool: toolName, outcome, ms, ...modelOf(result) });
  }
}

/** A call that waited for a model job says in its metadata which soft budget it had, and why. */
function noteSoftReturn(deps: ToolDeps, ctx: ServerContext, result: CallToolResult): CallToolResult {
  const frame = deps.jobs.frame(ctx);
  return frame?.usedJob ? withSoftReturnNote(result, frame.budget) : result;
}

/** The model that answered, as the tool reported it in its ToolOutput metadata. */
function modelOf(result: CallToolResult | undefined): { model?: string; provider?: string } {
  const metadata = (result?.structuredContent as { metadata?: Record<string, unknown> } | undefined)
    ?.metadata;
  const model = metadata?.model_used;
  const provider = metadata?.provider_used;
  return {
    ...(typeof model === 'string' && { model }),
    ...(typeof provider === 'string' && { provider }),
  };
}
