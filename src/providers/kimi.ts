/**
 * Kimi (Moonshot) specifics. Thinking and output budget follow the plan; web search is the `$web_search`
 * builtin: the model asks for it with a tool call, we echo the call's arguments back unchanged as the tool
 * message, and Moonshot runs the search server-side on the next request
 * (https://platform.kimi.com/docs/guide/use-web-search.md).
 */
import { basePayload, type Dialect, planRequest } from './dialect.js';
import type { ChatMessage } from './types.js';

const WEB_SEARCH = '$web_search';

export const kimiDialect: Dialect = {
  name: 'kimi',
  label: 'Kimi',
  keyVariables: ['KIMI_API_KEY', 'MOONSHOT_API_KEY'],
  buildPayload(input) {
    const plan = planRequest(input);
    const payload = basePayload(input, plan);
    if (plan.webSearch) {
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
      // A thinking model refuses a follow-up whose assistant tool-call turn lacks reasoning_content, and an
      // empty string counts as missing: send a single space then. (K2.6 has been seen reasoning even with
      // thinking disabled, so every tool-call turn carries it.)
      reasoning_content: result.reasoning || ' ',
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
