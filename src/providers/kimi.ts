/**
 * Kimi (Moonshot) specifics. Thinking is a model switch (resolved by the gateway), and web search is the
 * `$web_search` builtin: the model asks for it with a tool call, we echo the call's arguments back unchanged
 * as the tool message, and Moonshot runs the search server-side on the next request.
 */
import { basePayload, type Dialect } from './dialect.js';
import type { ChatMessage } from './types.js';

const WEB_SEARCH = '$web_search';

export const kimiDialect: Dialect = {
  name: 'kimi',
  label: 'Kimi',
  keyVariables: ['KIMI_API_KEY', 'MOONSHOT_API_KEY'],
  buildPayload(input) {
    const payload = basePayload(input);
    if (input.webSearch && input.model.webSearch) {
      payload.tools = [{ type: 'builtin_function', function: { name: WEB_SEARCH } }];
      payload.tool_choice = 'auto';
    }
    return payload;
  },
  continueToolLoop(messages, result) {
    if (result.finishReason !== 'tool_calls' || result.toolCalls.length === 0) return undefined;
    if (!result.toolCalls.every(call => call.function.name === WEB_SEARCH)) return undefined;
    const assistant: ChatMessage = {
      role: 'assistant',
      content: result.content,
      tool_calls: result.toolCalls,
      // Thinking models reject a follow-up whose assistant turn lost its reasoning.
      ...(result.reasoning && { reasoning_content: result.reasoning }),
    };
    const replies: ChatMessage[] = result.toolCalls.map(call => ({
      role: 'tool',
      tool_call_id: call.id,
      name: call.function.name,
      content: call.function.arguments,
    }));
    return [...messages, assistant, ...replies];
  },
};
