/**
 * listmodels: providers, models, aliases and capabilities, and which models the configured keys can reach.
 * No model call, so it works before any key is set.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { redactUrl } from '../observability/redact.js';
import { MODEL_ROLES, type ModelSpec } from '../providers/models.js';
import { leanSchema } from '../toolkit/json-schema.js';
import { autoModel, CHAT_AUTO } from '../toolkit/model-choice.js';
import { reportResult } from '../toolkit/output.js';
import { runTool } from '../toolkit/run.js';
import type { ToolDeps } from '../toolkit/types.js';

const DESCRIPTION =
  'The models (GLM, Kimi) with aliases, context window, thinking kind and effort levels, vision, web search,\n' +
  'prices and defaults; which are usable with the configured keys and allowed here; retired ids and successors.';

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
    const yes = (b: boolean | string) => (typeof b === 'string' ? b : b ? 'yes' : 'no');
    lines.push(
      `| ${m.name} | ${m.provider} | ${m.aliases.join(', ') || '-'} | ${yes(m.available)} | ${m.context_window.toLocaleString('en-US')} | ${m.thinking === false ? 'no' : m.thinking} | ${yes(m.vision)} | ${yes(m.web_search)} |`,
    );
  }
  if (data.next_steps) lines.push('', data.next_steps);
  return lines.join('\n');
}

export function listing(deps: Pick<ToolDeps, 'gateway' | 'config'>) {
  const { gateway } = deps;
  const { registry } = gateway;
  const providers = gateway.status();
  const configured = (m: ModelSpec) => gateway.isConfigured(m.provider);
  const models = registry.list();
  return {
    providers: providers.map(p => {
      const allowed = registry.allowedNames(p.provider);
      return {
        name: p.provider,
        label: p.label,
        configured: p.configured,
        key_variables: p.keyVariables,
        base_url: redactUrl(p.baseUrl),
        models: models.filter(m => m.provider === p.provider).length,
        ...(allowed && { allowed_models: allowed }),
        defaults: Object.fromEntries(
          MODEL_ROLES.map(role => [role, registry.defaultFor(p.provider, role).name]),
        ),
      };
    }),
    default_model: deps.config.defaultModel,
    auto: {
      note: 'model "auto" (or no model when DEFAULT_MODEL=auto) picks per tool among configured providers',
      chat: autoModel(gateway, CHAT_AUTO),
      workflow_expert: autoModel(gateway, 'expert'),
    },
    models: models.map(m => ({
      name: m.name,
      provider: m.provider,
      aliases: m.aliases,
      available: configured(m),
      context_window: m.contextWindow,
      max_output_tokens: m.maxOutputTokens,
      thinking: THINKING[m.thinking],
      ...(m.effort.length > 0 && { reasoning_effort: m.effort }),
      vision: m.vision,
      web_search: m.webSearch ? (m.webSearchNeedsThinkingOff ? 'only with thinking off' : true) : false,
      ...(m.webSearch && m.webSearchCost && { web_search_cost: m.webSearchCost }),
      temperature:
        m.temperature === 'omit'
          ? 'fixed by the model (never sent)'
          : 'fixed' in m.temperature
            ? m.temperature.fixed
            : [m.temperature.min, m.temperature.max],
      ...(m.price && {
        price_usd_per_1m_tokens: {
          input: m.price.input,
          ...(m.price.cachedInput !== undefined && { cached_input: m.price.cachedInput }),
          output: m.price.output,
        },
      }),
      ...(registry.equivalentOf(m) && { fallback: registry.equivalentOf(m)?.name }),
      description: m.description,
    })),
    retired: registry.retiredList().map(r => ({ name: r.name, use: r.successor })),
    ...(!providers.some(p => p.configured) && {
      next_steps: `No provider is configured: set ${providers.map(p => p.keyVariables[0]).join(' or ')} and restart the server.`,
    }),
  };
}

const THINKING: Record<ModelSpec['thinking'], string | false> = {
  toggle: 'on request (thinking_mode above minimal)',
  always: 'always',
  none: false,
};
