/**
 * The frame every tool handler runs in: one signal that fires on MCP cancellation (or the client going away)
 * and on server shutdown, errors turned into isError results, and one log line per call.
 */
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { isExaiError } from '../errors.js';
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

export async function runTool(
  deps: ToolDeps,
  toolName: string,
  ctx: ServerContext,
  work: (signal: AbortSignal) => Promise<CallToolResult>,
): Promise<CallToolResult> {
  const started = performance.now();
  const link = linkSignals(ctx.mcpReq.signal, deps.shutdownSignal);
  let outcome = 'ok';
  let result: CallToolResult | undefined;
  try {
    result = await work(link.signal);
    if (result.isError) outcome = 'error';
    return result;
  } catch (error) {
    // Anything may be thrown, null included; only an ExaiError carries a kind.
    outcome = isExaiError(error) ? error.kind : 'internal';
    result = errorResult(toolName, error, deps.logger);
    return result;
  } finally {
    link.dispose();
    const ms = Math.round(performance.now() - started);
    deps.logger.info({ event: 'tool_call', tool: toolName, ms, outcome }, `tool ${toolName}: ${outcome}`);
    deps.observeToolCall?.({ tool: toolName, outcome, ms, ...modelOf(result) });
  }
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
