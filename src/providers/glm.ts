/** GLM (Z.ai / ZhipuAI) specifics: the `thinking` parameter and the built-in `web_search` tool. */
import { basePayload, type Dialect } from './dialect.js';

export const glmDialect: Dialect = {
  name: 'glm',
  label: 'GLM',
  keyVariables: ['GLM_API_KEY', 'ZHIPUAI_API_KEY'],
  buildPayload(input) {
    const payload = basePayload(input);
    if (input.model.thinking === 'param')
      payload.thinking = { type: input.thinking ? 'enabled' : 'disabled' };
    if (input.webSearch && input.model.webSearch) {
      payload.tools = [
        {
          type: 'web_search',
          web_search: { enable: true, search_engine: 'search_pro_jina', search_result: true },
        },
      ];
      // glm-4.6 answers tool calls as plain text unless tool_choice is given explicitly.
      payload.tool_choice = 'auto';
    }
    return payload;
  },
};
