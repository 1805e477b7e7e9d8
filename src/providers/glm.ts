/** GLM (Z.ai / ZhipuAI) specifics: the output field and thinking from the plan, and the built-in `web_search` tool. */
import { basePayload, type Dialect, planRequest } from './dialect.js';
import type { ChatMessage } from './types.js';

/**
 * The search engine GLM's `web_search` tool names. Z.ai documents `search_pro_jina` for chat; the China
 * platform lists its own engines (search_std, search_pro, search_pro_sogou, search_pro_quark:
 * https://docs.bigmodel.cn/cn/guide/tools/web-search) and does not list jina, so an open.bigmodel.cn
 * endpoint gets `search_pro`.
 */
export function glmSearchEngine(baseUrl: string, configured: string | undefined): string {
  if (configured) return configured;
  return /(^|\.)bigmodel\.cn$/i.test(safeHost(baseUrl)) ? 'search_pro' : 'search_pro_jina';
}

export function createGlmDialect(options: { searchEngine: string }): Dialect {
  return {
    name: 'glm',
    label: 'GLM',
    keyVariables: ['GLM_API_KEY', 'ZHIPUAI_API_KEY'],
    buildPayload(input) {
      const plan = planRequest(input);
      const payload = basePayload({ ...input, messages: input.messages.map(bareImageData) }, plan);
      if (plan.webSearch) {
        payload.tools = [
          {
            type: 'web_search',
            web_search: { enable: true, search_engine: options.searchEngine, search_result: true },
          },
        ];
        // glm-4.6 answers tool calls as plain text unless tool_choice is given explicitly.
        payload.tool_choice = 'auto';
      }
      return payload;
    },
  };
}

/** The international endpoint's dialect. */
export const glmDialect: Dialect = createGlmDialect({ searchEngine: 'search_pro_jina' });

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/**
 * GLM takes an inline image as bare base64: its official SDK strips the `data:image/...;base64,` prefix before
 * sending (zai-org/z-ai-sdk-python, `_utils.drop_prefix_image_data`), and whether the API accepts the prefix is
 * undocumented, so the documented form is what we send.
 */
function bareImageData(message: ChatMessage): ChatMessage {
  if (!Array.isArray(message.content) || !message.content.some(p => p.type === 'image_url')) return message;
  return {
    ...message,
    content: message.content.map(part =>
      part.type === 'image_url' && part.image_url.url.startsWith('data:')
        ? { ...part, image_url: { ...part.image_url, url: part.image_url.url.replace(/^data:[^,]*,/, '') } }
        : part,
    ),
  };
}
