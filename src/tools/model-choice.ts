/**
 * Which model a tool call uses: the name or alias asked for, else DEFAULT_MODEL; `auto` becomes the tool's
 * own choice for whichever provider has a key. A model whose provider has no key fails here, before any
 * work, with the variables to set.
 */
import { ExaiError } from '../errors.js';
import type { ModelGateway } from '../providers/gateway.js';
import type { ModelSpec } from '../providers/models.js';
import type { ProviderName } from '../providers/types.js';
import type { ToolDeps } from './types.js';

/** A tool's `auto` model per provider (GLM preferred when both have keys, as in the reference). */
export type AutoModels = Readonly<Record<ProviderName, string>>;

export const CHAT_AUTO: AutoModels = { glm: 'glm-4.5-flash', kimi: 'kimi-k2-turbo-preview' };

export function autoModel(gateway: ModelGateway, auto: AutoModels): string {
  if (gateway.isConfigured('glm')) return auto.glm;
  if (gateway.isConfigured('kimi')) return auto.kimi;
  return auto.glm;
}

export function chooseModel(
  deps: Pick<ToolDeps, 'config' | 'gateway'>,
  requested: string | undefined,
  auto: AutoModels,
  thinking: boolean,
): ModelSpec {
  let name = requested?.trim() || deps.config.defaultModel;
  if (name.toLowerCase() === 'auto') name = autoModel(deps.gateway, auto);
  const spec = deps.gateway.resolveModel(name, { thinking });
  assertUsable(deps, spec);
  return spec;
}

function assertUsable(deps: Pick<ToolDeps, 'config' | 'gateway'>, spec: ModelSpec): void {
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
  const equivalent = spec.equivalent ? gateway.registry.find(spec.equivalent) : undefined;
  if (deps.config.fallbackOnFailure && equivalent && gateway.isConfigured(equivalent.provider)) return;
  const label = providers.find(p => p.provider === spec.provider)?.label ?? spec.provider;
  throw new ExaiError(
    'not_configured',
    `${spec.name} is a ${label} model and ${label} is not configured: set ${keys(spec.provider)} and restart ` +
      'the server, or pick a model of a configured provider (see the listmodels tool)',
    { retryable: false, model: spec.name, provider: spec.provider },
  );
}
