/**
 * A workflow call answers with one text content holding the JSON (reference §2.4 step 11), and the same
 * object as structuredContent for clients that read the output schema.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';

export const workflowOutputSchema = z
  .looseObject({
    status: z
      .string()
      .describe(
        'pause_for_<work> (do the required_actions, then call next_call), calling_expert_analysis (done, with ' +
          'expert_analysis), a completion status, files_required_to_continue, or error',
      ),
    continuation_id: z.string().optional().describe('Pass it with every later step of this workflow.'),
    next_call: z
      .looseObject({ tool: z.string(), arguments: z.record(z.string(), z.unknown()) })
      .optional()
      .describe('The next call to make, with placeholders in <angle brackets> for you to fill.'),
  })
  .describe('The workflow step result: status, counts, guidance for the next step, and the expert analysis.');

export function workflowResult(data: Record<string, unknown>, isError = false): CallToolResult {
  // A JSON round trip drops undefined fields, so the text and structuredContent are the same document.
  const text = JSON.stringify(data);
  return {
    content: [{ type: 'text', text }],
    structuredContent: JSON.parse(text) as Record<string, unknown>,
    ...(isError && { isError: true }),
  };
}
