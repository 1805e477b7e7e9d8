/**
 * Which model a tool call uses: the name or alias asked for, else DEFAULT_MODEL; `auto` becomes the registry's
 * default for the tool's role on whichever provider has a key. A model whose provider has no key, a retired
 * id or a model this server does not allow fails here, before any work, saying what to do.
 */
import { ExaiError } from '../errors.js';
import type { ModelGateway } from '../providers/gateway.js';
import type { ModelRole, ModelSpec } from '../providers/models.js';
import type { ChatResponse, ProviderName } from '../providers/types.js';
import type { ToolDeps } from './types.js';

/** A tool's `auto`: the role whose default model it uses (see DEFAULT_ROLES in providers/models.ts). */
export type AutoModels = ModelRole;

export const CHAT_AUTO: AutoModels = 'chat';

export function autoModel(gateway: ModelGateway, role: AutoModels): string {
  return gateway.autoModel(role).name;
}

export function chooseModel(
  deps: Pick<ToolDeps, 'config' | 'gateway'>,
  requested: string | undefined,
  role: AutoModels,
  _thinking?: boolean,
): ModelSpec {
  const spec = resolveModel(deps, requested, role);
  assertUsable(deps, spec);
  return spec;
}

/** The model a name means, whether or not its provider has a key (a retired or unknown name still fails). */
export function resolveModel(
  deps: Pick<ToolDeps, 'config' | 'gateway'>,
  requested: string | undefined,
  role: AutoModels,
): ModelSpec {
  const name = requested?.trim() || deps.config.defaultModel;
  return name.toLowerCase() === 'auto' ? deps.gateway.autoModel(role) : deps.gateway.resolveModel(name);
}

/**
 * A stored thread's model, or its successor when the vendor has retired it: a conversation outlives model
 * ids, so it continues on the successor and the answer says so.
 */
export function threadModel(
  gateway: ModelGateway,
  stored: string | undefined,
): { model: string | undefined; replacedFrom?: string } {
  if (stored === undefined) return { model: undefined };
  const retired = gateway.registry.retired(stored);
  return retired ? { model: retired.successor, replacedFrom: retired.name } : { model: stored };
}

/** Throws not_configured, naming the key to set, when no configured provider can answer for this model. */
export function assertUsable(deps: Pick<ToolDeps, 'config' | 'gateway'>, spec: ModelSpec): void {
  const { gateway } = deps;
  if (gateway.isConfigured(spec.provider)) return;
  const providers = gateway.status();
  const keys = (name: ProviderName) =>
    providers.find(p => p.provider === name)?.keyVariables.join(' or ') ?? '';
  if (!providers.some(p => p.configured)) {
    throw new ExaiError(
      'not_configured',
      `No model provider is configured, so ${spec.name} cannot be called. Set ${keys('glm')} (GLM, Z.ai) or ` +
        `${keys('kimi')} (Kimi, Moonshot) in the server's environment or .env file, then restart the server`,
      { retryable: false, model: spec.name, provider: spec.provider },
    );
  }
  // The gateway falls back to the equivalent model when the first provider has no key: allow that path.
  const equivalent = gateway.registry.equivalentOf(spec);
  if (deps.config.fallbackOnFailure && equivalent && gateway.isConfigured(equivalent.provider)) return;
  const label = providers.find(p => p.provider === spec.provider)?.label ?? spec.provider;
  throw new ExaiError(
    'not_configured',
    `${spec.name} is a ${label} model and ${label} is not configured: set ${keys(spec.provider)} and restart ` +
      'the server, or pick a model of a configured provider (see the listmodels tool)',
    { retryable: false, model: spec.name, provider: spec.provider },
  );
}

/** What the model's request rules changed (see RequestAdjustments), under the names callers read. */
export function adjustmentMetadata(response: ChatResponse): Record<string, unknown> {
  const a = response.adjustments;
  if (!a) return {};
  return {
    model_thinking: a.thinking,
    max_output_tokens: a.outputTokens,
    ...(a.reasoningEffort !== undefined && { reasoning_effort: a.reasoningEffort }),
    ...(a.temperatureDropped !== undefined && {
      temperature_dropped: a.temperatureDropped,
      temperature_note: `${response.model} fixes its own sampling, so no temperature was sent.`,
    }),
    ...(a.webSearchSkipped !== undefined && { web_search_skipped: a.webSearchSkipped }),
  };
}
