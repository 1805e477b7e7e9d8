/**
 * A workflow call answers with one text content holding the JSON (what agents of the Python EX-AI MCP server
 * parse), and the same
 * object as structuredContent. No output schema is declared: hosts do not show it to the model, and each
 * tool's would add its size to every tools/list (structuredContent needs none, MCP 2025-06-18 "Structured
 * Content").
 */
import type { CallToolResult } from '@modelcontextprotocol/server';

/** Answers over this many characters say so (response_chars), so an agent can judge what it reads. */
const LARGE_RESPONSE_CHARS = 20_000;

export function workflowResult(data: Record<string, unknown>, isError = false): CallToolResult {
  // A JSON round trip drops undefined fields, so the text and structuredContent are the same document.
  let text = JSON.stringify(data);
  if (text.length > LARGE_RESPONSE_CHARS) text = JSON.stringify({ ...data, response_chars: text.length });
  return {
    content: [{ type: 'text', text }],
    structuredContent: JSON.parse(text) as Record<string, unknown>,
    ...(isError && { isError: true }),
  };
}
