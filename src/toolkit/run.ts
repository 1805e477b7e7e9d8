/**
 * The frame every tool handler runs in: one budget whose signal fires on MCP cancellation (or the client going
 * away) and on server shutdown, errors turned into isError results, and one log line per call.
 */
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { isExaiError } from '../errors.js';
import { withSoftReturnNote } from '../jobs/pending.js';
import { softBudget } from '../jobs/soft-budget.js';
import { Deadline } from '../resilience/deadline.js';
import { errorResult } from './output.js';
import type { ToolDeps } from './types.js';

/**
 * `client` is the calling client's name (clientInfo): it picks the call's soft budget, how long a model job
 * is waited for before the call answers in_progress (src/jobs/soft-budget.ts).
 */
export async function runTool(
  deps: ToolDeps,
  toolName: string,
  ctx: ServerContext,
  work: (budget: Deadline) => Promise<CallToolResult>,
  client?: string,
): Promise<CallToolResult> {
  const started = performance.now();
  // No time of its own: the call ends when the client cancels (or goes away) or the server shuts down.
  const budget = Deadline.open({
    parents: [ctx.mcpReq.signal, deps.shutdownSignal],
    label: `${toolName} call`,
  });
  deps.jobs.begin(ctx, softBudget(client, deps.config.softReturnSecs));
  let outcome = 'ok';
  let result: CallToolResult | undefined;
  try {
    result = await work(budget);
    if (result.isError) outcome = 'error';
    if ((result.structuredContent as { status?: unknown } | undefined)?.status === 'in_progress')
      outcome = 'in_progress';
    result = noteSoftReturn(deps, ctx, result);
    return result;
  } catch (error) {
    // Anything may be thrown, null included; only an ExaiError carries a kind.
    outcome = isExaiError(error) ? error.kind : 'internal';
    result = noteSoftReturn(deps, ctx, errorResult(toolName, error, deps.logger));
    return result;
  } finally {
    budget.dispose();
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

/**
 * The model that answered, as the tool reported it: `model_used` in its metadata, or for a consensus step,
 * which names no single model, the models that step consulted.
 */
function modelOf(result: CallToolResult | undefined): { model?: string; provider?: string } {
  const structured = result?.structuredContent as Record<string, unknown> | undefined;
  const metadata = structured?.metadata as Record<string, unknown> | undefined;
  const model = metadata?.model_used;
  const provider = metadata?.provider_used;
  if (typeof model !== 'string') return consultedModels(structured);
  return { model, ...(typeof provider === 'string' && { provider }) };
}

interface Consulted {
  model?: unknown;
  stance?: unknown;
  model_used?: unknown;
  provider_used?: unknown;
}

/**
 * `model_responses` lists the models a consensus step asked (as named); `accumulated_responses` says which
 * model answered each. Shown as "glm-4.6, kimi-k2.6", with the provider only when they all share one.
 */
function consultedModels(structured: Record<string, unknown> | undefined): {
  model?: string;
  provider?: string;
} {
  const fresh = structured?.model_responses;
  if (!Array.isArray(fresh) || fresh.length === 0) return {};
  const answers = (
    Array.isArray(structured?.accumulated_responses) ? structured.accumulated_responses : []
  ) as Consulted[];
  const names = new Set<string>();
  const providers = new Set<string>();
  for (const asked of fresh as Consulted[]) {
    const answer = answers.find(a => a.model === asked.model && a.stance === asked.stance);
    const name = typeof answer?.model_used === 'string' ? answer.model_used : asked.model;
    if (typeof name === 'string') names.add(name);
    if (typeof answer?.provider_used === 'string') providers.add(answer.provider_used);
  }
  if (names.size === 0) return {};
  const [provider] = providers;
  return { model: [...names].join(', '), ...(providers.size === 1 && provider && { provider }) };
}
