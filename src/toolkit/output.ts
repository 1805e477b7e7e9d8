/**
 * The ToolOutput shape agents of the Python EX-AI MCP server were prompted against
 * (https://github.com/Zazzles2908/EX-AI-MCP-Server, tools/shared/base_models.py): one text content holding the
 * JSON, and the same object as `structuredContent`. Reports (listmodels, status, version) are the exception:
 * readable text, with their data as structuredContent.
 * Failures use the same shape with status "error" and `isError: true`, and a message a person can act on.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { type ErrorKind, hintFor, isExaiError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { estimateTokens } from '../tokens.js';

export const continuationOfferSchema = z.object({
  continuation_id: z.string().describe('Pass as continuation_id to any exai tool to continue this thread.'),
  note: z.string(),
  remaining_turns: z.number().int(),
});

export const toolOutputSchema = z.object({
  status: z
    .string()
    .describe(
      'success | continuation_available | error, or a tool-specific status such as challenge_accepted',
    ),
  content: z.string().nullable().describe('The answer, or a JSON document when content_type is json'),
  content_type: z.enum(['text', 'markdown', 'json']),
  metadata: z
    .looseObject({
      tool_name: z.string(),
      model_used: z.string().optional(),
      provider_used: z.string().optional(),
    })
    .describe('tool_name, model_used, provider_used and call details'),
  continuation_offer: continuationOfferSchema.nullable(),
});

export type ToolOutput = z.infer<typeof toolOutputSchema>;
export type ContinuationOffer = z.infer<typeof continuationOfferSchema>;

/** Answers over this many characters say so, so an agent can judge what it is about to read. */
export const LARGE_RESULT_CHARS = 20_000;

export function toolResult(output: ToolOutput, isError = false): CallToolResult {
  const size = output.content?.length ?? 0;
  const sized =
    size > LARGE_RESULT_CHARS
      ? {
          ...output,
          metadata: {
            ...output.metadata,
            content_chars: size,
            approx_tokens: estimateTokens(output.content ?? ''),
          },
        }
      : output;
  // A JSON round trip drops undefined fields, so the text and structuredContent are the same document.
  const text = JSON.stringify(sized);
  const structured = JSON.parse(text) as Record<string, unknown>;
  return {
    content: [{ type: 'text', text }],
    structuredContent: structured,
    ...(isError && { isError: true }),
  };
}

export function successResult(
  toolName: string,
  content: string,
  options: {
    contentType?: ToolOutput['content_type'];
    status?: string;
    metadata?: Record<string, unknown>;
    offer?: ContinuationOffer | undefined;
  } = {},
): CallToolResult {
  return toolResult({
    status: options.status ?? (options.offer ? 'continuation_available' : 'success'),
    content,
    content_type: options.contentType ?? 'text',
    metadata: { tool_name: toolName, ...options.metadata },
    continuation_offer: options.offer ?? null,
  });
}

/**
 * A report for people and agents alike (listmodels, status, version): readable Markdown as the text, and the
 * data itself as structuredContent for clients and scripts, rather than a JSON document escaped in a string.
 */
export function reportResult(
  toolName: string,
  markdown: string,
  data: Record<string, unknown>,
): CallToolResult {
  const structured = JSON.parse(
    JSON.stringify({
      status: 'success',
      content: data,
      content_type: 'json',
      metadata: { tool_name: toolName },
      continuation_offer: null,
    }),
  ) as Record<string, unknown>;
  return { content: [{ type: 'text', text: markdown }], structuredContent: structured };
}

/** Turns anything thrown by a tool into an isError result: never a stack trace, never a secret. */
export function errorResult(toolName: string, error: unknown, logger: Logger): CallToolResult {
  if (!isExaiError(error)) {
    logger.error({ event: 'tool_bug', tool: toolName, err: error }, `internal error in tool ${toolName}`);
    const message = error instanceof Error ? error.message : String(error);
    return toolResult(
      {
        status: 'error',
        content: `exai-mcp hit an internal error in the ${toolName} tool: ${message}. This is a bug; the server log (stderr) has the details.`,
        content_type: 'text',
        metadata: { tool_name: toolName, error_kind: 'internal' satisfies ErrorKind },
        continuation_offer: null,
      },
      true,
    );
  }
  const hint = hintFor(error);
  return toolResult(
    {
      status: 'error',
      content: hint ? `${withStop(error.message)} ${hint}.` : error.message,
      content_type: 'text',
      metadata: {
        tool_name: toolName,
        error_kind: error.kind,
        retryable: error.retryable,
        // A provider without a key was never called: naming it as "used" would say something that did not happen.
        ...(error.kind !== 'not_configured' && error.model !== undefined && { model_used: error.model }),
        ...(error.kind !== 'not_configured' &&
          error.provider !== undefined && { provider_used: error.provider }),
        ...(error.status !== undefined && { http_status: error.status }),
        ...(error.attempts !== undefined && { attempts: error.attempts }),
        ...(error.elapsedMs !== undefined && { elapsed_ms: error.elapsedMs }),
        ...(error.retryAt !== undefined && { retry_at: new Date(error.retryAt).toISOString() }),
      },
      continuation_offer: null,
    },
    true,
  );
}

function withStop(message: string): string {
  return /[.!?]$/.test(message) ? message : `${message}.`;
}
