/**
 * The limit on text an agent sends inline (chat's prompt, a workflow's step), and the answer that asks for it
 * again through a file. MCP clients cap what a tool call may carry (pal derives its MCP_PROMPT_SIZE_LIMIT
 * from that, https://github.com/BeehiveInnovations/pal-mcp-server, config.py), and agents prompted on pal
 * and EXAI know the answer: status `resend_prompt`, then the text saved to a file and sent by path.
 */

/** Characters of inline text a call may carry. */
export const MAX_PROMPT_CHARS = 100_000;

/**
 * The `resend_prompt` answer when `text` (sent as `field`) is over the limit, else undefined. `howTo` says
 * where this tool takes the text instead.
 */
export type ResendPrompt = {
  status: 'resend_prompt';
  content: string;
  content_type: 'text';
  metadata: { tool_name: string; prompt_size: number; limit: number };
};

export function oversizedPrompt(
  toolName: string,
  field: string,
  text: string,
  howTo: string,
): ResendPrompt | undefined {
  if (text.length <= MAX_PROMPT_CHARS) return undefined;
  return {
    status: 'resend_prompt',
    content: `${field} is ${text.length} characters, over the limit of ${MAX_PROMPT_CHARS}. ${howTo}`,
    content_type: 'text',
    metadata: { tool_name: toolName, prompt_size: text.length, limit: MAX_PROMPT_CHARS },
  };
}
