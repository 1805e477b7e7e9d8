/**
 * listmodels: providers, models, aliases and capabilities, and which models the configured keys can reach.
 * No model call, so it works before any key is set.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ModelSpec } from '../providers/models.js';
import { leanSchema } from './json-schema.js';
import { autoModel, CHAT_AUTO } from './model-choice.js';
import { reportResult } from './output.js';
import { runTool } from './run.js';
import type { ToolDeps } from './types.js';

const DESCRIPTION =
  'The models (GLM, Kimi) with aliases, context window, thinking, vision and web search, and which are usable with the configured keys.';

export function registerListModelsTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    'listmodels',
    {
      title: 'List models and providers',
      description: DESCRIPTION,
      inputSchema: leanSchema(z.object({})),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (_args, ctx) =>
      runTool(deps, 'listmodels', ctx, async () => {
        const data = listing(deps);
        return reportResult('listmodels', listingMarkdown(data), data);
      }),
  );
}

type Listing = ReturnType<typeof listing>;

/** The listing as a short Markdown report: one line per provider, one table row per model. */
export function listingMarkdown(data: Listing): string {
  const lines = ['# Models', ''];
  for (const p of data.providers) {
    lines.push(
      `- **${p.label}** (${p.name}): ${p.configured ? 'configured' : `not configured, set ${p.key_variables[0]}`}; ${p.models} models`,
    );
  }
  lines.push(
    '',
    `Default model: ${data.default_model}${data.auto.chat ? `; auto picks ${data.auto.chat} for chat` : ''}.`,
    '',
    '| model | provider | aliases | usable | context | thinking | vision | web search |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const m of data.models) {
    const yes = (b: boolean) => (b ? 'yes' : 'no');
    lines.push(
      `| ${m.name} | ${m.provider} | ${m.aliases.join(', ') || '-'} | ${yes(m.available)} | ${m.context_window.toLocaleString('en-US')} | ${m.thinking === false ? 'no' : m.thinking} | ${yes(m.vision)} | ${yes(m.web_search)} |`,
    );
  }
  if (data.next_steps) lines.push('', data.next_steps);
  return lines.join('\n');
}

export function listing(deps: Pick<ToolDeps, 'gateway' | 'config'>) {
  const { gateway } = deps;
  const providers = gateway.status();
  const configured = (m: ModelSpec) => gateway.isConfigured(m.provider);
  const models = gateway.registry.list();
  return {
    providers: providers.map(p => ({
      name: p.provider,
      label: p.label,
      configured: p.configured,
      key_variables: p.keyVariables,
      base_url: p.baseUrl,
      models: models.filter(m => m.provider === p.provider).length,
    })),
    default_model: deps.config.defaultModel,
    auto: {
      note: 'model "auto" (or no model when DEFAULT_MODEL=auto) picks per tool among configured providers',
      chat: autoModel(gateway, CHAT_AUTO),
    },
    models: models.map(m => ({
      name: m.name,
      provider: m.provider,
      aliases: m.aliases,
      available: configured(m),
      context_window: m.contextWindow,
      max_output_tokens: m.maxOutputTokens,
      thinking:
        m.thinking === 'none'
          ? false
          : m.thinking === 'switch'
            ? `via ${m.thinkingModel ?? deps.config.kimiThinkingModel}`
            : m.thinking === 'param'
              ? 'on request'
              : 'always',
      vision: m.vision,
      web_search: m.webSearch,
      ...(m.equivalent !== undefined && { fallback: m.equivalent }),
      description: m.description,
    })),
    ...(!providers.some(p => p.configured) && {
      next_steps: `No provider is configured: set ${providers.map(p => p.keyVariables[0]).join(' or ')} and restart the server.`,
    }),
  };
}
