/**
 * A workflow call answers with one text content holding the JSON (reference §2.4 step 11), and the same
 * object as structuredContent. No output schema is declared: hosts do not show it to the model, and each
 * tool's would add its size to every tools/list (structuredContent needs none, MCP 2025-06-18 "Structured
 * Content").
 */
import type { CallToolResult } from '@modelcontextprotocol/server';

export function workflowResult(data: Record<string, unknown>, isError = false): CallToolResult {
  // A JSON round trip drops undefined fields, so the text and structuredContent are the same document.
  const text = JSON.stringify(data);
  return {
    content: [{ type: 'text', text }],
    structuredContent: JSON.parse(text) as Record<string, unknown>,
    ...(isError && { isError: true }),
  };
}
