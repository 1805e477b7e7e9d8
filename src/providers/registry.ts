/**
 * Resolves names and aliases to model specs, and is the one place every default model is chosen (per tool
 * `auto`, the thinking upgrade, doctor's probe, fallback equivalents). Built-ins come from models.ts;
 * EXAI_MODELS_FILE adds models or overrides fields of existing ones by name, adds retired ids, and overrides
 * defaults. A server may limit the models it lets callers use (GLM_ALLOWED_MODELS, KIMI_ALLOWED_MODELS).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ExaiError } from '../errors.js';
import {
  BUILTIN_MODELS,
  DEFAULT_ROLES,
  MODEL_ROLES,
  type ModelRole,
  type ModelSpec,
  type ModelSpecInput,
  modelSpecSchema,
  RETIRED_MODELS,
  type RetiredModel,
  retiredModelSchema,
} from './models.js';
import type { ProviderName } from './types.js';

const PROVIDERS: readonly ProviderName[] = ['glm', 'kimi'];
const VENDOR: Record<ProviderName, string> = { glm: 'Z.ai', kimi: 'Moonshot' };
const LABEL: Record<ProviderName, string> = { glm: 'GLM', kimi: 'Kimi' };

export interface RetiredEntry extends RetiredModel {
  /** The successor's provider (whose vendor retired the id). */
  provider: ProviderName;
}

export interface ModelRegistry {
  /**
   * Case-insensitive name or alias → spec. Unknown, retired and not-allowed names are ExaiError bad_request,
   * thrown before any network call: unknown lists what exists, retired names its successor, not-allowed lists
   * the allowed ones.
   */
  resolve(name: string): ModelSpec;
  /** A usable (known, current, allowed) model, or undefined. */
  find(name: string): ModelSpec | undefined;
  /** The usable models, catalogue order. */
  list(): readonly ModelSpec[];
  byProvider(provider: ProviderName): readonly ModelSpec[];
  /** The retired entry for a name, if it is one. */
  retired(name: string): RetiredEntry | undefined;
  retiredList(): readonly RetiredEntry[];
  /** The default model of a provider for a role (always a usable model). */
  defaultFor(provider: ProviderName, role: ModelRole): ModelSpec;
  /** The model on the other provider a call falls back to. */
  equivalentOf(model: ModelSpec): ModelSpec | undefined;
  /** The allowed model names of a provider, or undefined when all are allowed. */
  allowedNames(provider: ProviderName): readonly string[] | undefined;
}

export interface ModelsFile {
  models: unknown[];
  retired?: unknown[];
  /** `{ "glm": { "chat": "glm-5.1" }, "kimi": { ... } }`: per provider, role → model. */
  defaults?: unknown;
}

export interface RegistryOptions {
  /** Per provider, the names (or aliases) callers may use; absent or empty: all. */
  allowed?: Partial<Record<ProviderName, readonly string[] | undefined>>;
  /** Per provider role overrides from settings, with the setting's name for errors. */
  roles?: Partial<
    Record<ProviderName, Partial<Record<ModelRole, { name: string; setting: string } | undefined>>>
  >;
  /** Names of the allowed-list settings, for errors. */
  allowedSettings?: Partial<Record<ProviderName, string>>;
}

const overrideSchema = modelSpecSchema.partial().extend({ name: z.string().min(1) });
const fileSchema = z.object({
  models: z.array(z.unknown()).default([]),
  retired: z.array(z.unknown()).optional(),
  defaults: z.unknown().optional(),
});
const rolesSchema = z.record(z.enum(MODEL_ROLES), z.string().min(1));
const defaultsSchema = z.object({ glm: rolesSchema.optional(), kimi: rolesSchema.optional() }).strict();

const MAX_ECHOED_NAME = 80;

export function createRegistry(
  file: ModelsFile | readonly unknown[] = [],
  options: RegistryOptions = {},
): ModelRegistry {
  const content: ModelsFile = Array.isArray(file) ? { models: [...file] } : (file as ModelsFile);
  const specs = new Map<string, ModelSpecInput>(BUILTIN_MODELS.map(m => [m.name, m]));
  const builtin = new Set(BUILTIN_MODELS.map(m => m.name));
  const retiredByName = new Map<string, RetiredModel>(RETIRED_MODELS.map(r => [r.name.toLowerCase(), r]));
  content.models.forEach((entry, i) => {
    const parsed = overrideSchema.safeParse(entry);
    if (!parsed.success) throw invalidEntry(i, parsed.error);
    const base = specs.get(parsed.data.name);
    const merged = { ...base, ...stripUndefined(parsed.data) };
    const full = modelSpecSchema.safeParse(merged);
    if (!full.success) throw invalidEntry(i, full.error, base === undefined);
    specs.set(full.data.name, full.data);
    if (base === undefined) builtin.delete(full.data.name);
    // A model the user adds back is served again (a vendor reversal, a proxy that still has it).
    retiredByName.delete(full.data.name.toLowerCase());
  });
  (content.retired ?? []).forEach((entry, i) => {
    const parsed = retiredModelSchema.safeParse(entry);
    if (!parsed.success) throw fileError(`retired entry #${i + 1}`, parsed.error);
    retiredByName.set(parsed.data.name.toLowerCase(), parsed.data);
  });

  const catalogue = [...specs.values()]
    .map(m => modelSpecSchema.parse(m))
    .filter(m => !retiredByName.has(m.name.toLowerCase()));
  const byKey = new Map<string, ModelSpec>();
  for (const model of catalogue) {
    for (const key of [model.name, ...model.aliases]) byKey.set(key.toLowerCase(), model);
  }

  const retiredEntries = new Map<string, RetiredEntry>();
  for (const [key, entry] of retiredByName) {
    const successor = byKey.get(entry.successor.toLowerCase());
    if (!successor) {
      throw new ExaiError(
        'bad_request',
        `Retired model ${entry.name} names successor "${entry.successor}", which is not in the catalogue; fix it in EXAI_MODELS_FILE.`,
      );
    }
    retiredEntries.set(key, { ...entry, successor: successor.name, provider: successor.provider });
  }

  const allowed = allowedSets(options, byKey, retiredEntries);
  const usable = catalogue.filter(m => allowed[m.provider]?.has(m.name) ?? true);
  const index = new Map<string, ModelSpec>();
  for (const model of usable) {
    for (const key of [model.name, ...model.aliases]) index.set(key.toLowerCase(), model);
  }

  const roles = roleTable(content.defaults, options, resolveStrict);
  const defaults = new Map<string, ModelSpec>();
  for (const provider of PROVIDERS) {
    for (const role of MODEL_ROLES) defaults.set(`${provider}:${role}`, pickDefault(provider, role));
  }

  function retiredError(entry: RetiredEntry): ExaiError {
    const when = entry.note ? ` ${entry.note}` : '';
    return new ExaiError(
      'bad_request',
      `${entry.name} was retired by ${VENDOR[entry.provider]}${when}; use ${entry.successor}.`,
      { retryable: false, model: entry.name, provider: entry.provider },
    );
  }

  function resolveStrict(name: string): ModelSpec {
    const key = name.trim().toLowerCase();
    const model = index.get(key);
    if (model) return model;
    const retired = retiredEntries.get(key);
    if (retired) throw retiredError(retired);
    const known = byKey.get(key);
    if (known) {
      const names = usable.filter(m => m.provider === known.provider).map(m => m.name);
      const setting =
        options.allowedSettings?.[known.provider] ?? `${known.provider.toUpperCase()}_ALLOWED_MODELS`;
      throw new ExaiError(
        'bad_request',
        `${known.name} is not allowed on this server (${setting}). Allowed ${LABEL[known.provider]} models: ${names.join(', ')}.`,
        { retryable: false, model: known.name, provider: known.provider },
      );
    }
    const list = usable.map(m => (m.aliases.length ? `${m.name} (${m.aliases.join(', ')})` : m.name));
    // A name is echoed only as far as a model name can reach: a megabyte of it helps nobody.
    const shown =
      name.length > MAX_ECHOED_NAME ? `${name.slice(0, MAX_ECHOED_NAME)}… (${name.length} characters)` : name;
    throw new ExaiError('bad_request', `Unknown model "${shown}". Available models: ${list.join('; ')}.`, {
      retryable: false,
    });
  }

  /** The configured model for the role when usable; else the first usable model of the provider that suits it. */
  function pickDefault(provider: ProviderName, role: ModelRole): ModelSpec {
    const wanted = roles[provider][role];
    const model = index.get(wanted.toLowerCase());
    if (model && model.provider === provider) return model;
    const own = usable.filter(m => m.provider === provider);
    const suits = (m: ModelSpec) =>
      role === 'thinking' || role === 'expert' ? m.thinking !== 'none' : m.thinking !== 'always';
    const fallback = own.find(suits) ?? own[0];
    if (fallback) return fallback;
    // Only reachable when a models file removes every model of a provider: the default still resolves to a
    // spec so that calls fail with the provider's own error (no key, unknown model upstream).
    const any = catalogue.find(m => m.provider === provider);
    if (!any) throw new ExaiError('bad_request', `The catalogue has no ${LABEL[provider]} model.`);
    return any;
  }

  return {
    resolve: resolveStrict,
    find: name => index.get(name.trim().toLowerCase()),
    list: () => usable,
    byProvider: provider => usable.filter(m => m.provider === provider),
    retired: name => retiredEntries.get(name.trim().toLowerCase()),
    retiredList: () => [...retiredEntries.values()],
    defaultFor: (provider, role) => defaults.get(`${provider}:${role}`) as ModelSpec,
    equivalentOf(model) {
      const other: ProviderName = model.provider === 'glm' ? 'kimi' : 'glm';
      if (model.equivalent) {
        const named = index.get(model.equivalent.toLowerCase());
        return named?.provider === other ? named : undefined;
      }
      // A model of the user's own file falls back only where its row says so: a failover that sends the
      // work (and the bill) to another vendor must have been asked for.
      return builtin.has(model.name) ? defaults.get(`${other}:general`) : undefined;
    },
    allowedNames: provider => (allowed[provider] ? [...(allowed[provider] as Set<string>)] : undefined),
  };
}

function allowedSets(
  options: RegistryOptions,
  byKey: Map<string, ModelSpec>,
  retired: Map<string, RetiredEntry>,
): Partial<Record<ProviderName, Set<string>>> {
  const sets: Partial<Record<ProviderName, Set<string>>> = {};
  for (const provider of PROVIDERS) {
    const names = (options.allowed?.[provider] ?? []).map(n => n.trim()).filter(Boolean);
    if (names.length === 0) continue;
    const setting = options.allowedSettings?.[provider] ?? `${provider.toUpperCase()}_ALLOWED_MODELS`;
    const set = new Set<string>();
    for (const name of names) {
      const key = name.toLowerCase();
      const old = retired.get(key);
      if (old) {
        throw new ExaiError(
          'bad_request',
          `${setting} names ${old.name}, which was retired; use ${old.successor}.`,
        );
      }
      const model = byKey.get(key);
      if (!model || model.provider !== provider) {
        const own = [...new Set([...byKey.values()].filter(m => m.provider === provider).map(m => m.name))];
        throw new ExaiError(
          'bad_request',
          `${setting} names "${name}", which is not a ${LABEL[provider]} model. ${LABEL[provider]} models: ${own.join(', ')}.`,
        );
      }
      set.add(model.name);
    }
    sets[provider] = set;
  }
  return sets;
}

/** Built-in defaults, overridden by EXAI_MODELS_FILE's `defaults`, overridden by settings; each checked. */
function roleTable(
  fileDefaults: unknown,
  options: RegistryOptions,
  resolve: (name: string) => ModelSpec,
): Record<ProviderName, Record<ModelRole, string>> {
  const parsed = defaultsSchema.safeParse(fileDefaults ?? {});
  if (!parsed.success) throw fileError('defaults', parsed.error);
  const table = {
    glm: { ...DEFAULT_ROLES.glm, ...parsed.data.glm },
    kimi: { ...DEFAULT_ROLES.kimi, ...parsed.data.kimi },
  };
  for (const provider of PROVIDERS) {
    for (const [role, override] of Object.entries(options.roles?.[provider] ?? {})) {
      if (!override) continue;
      let model: ModelSpec;
      try {
        model = resolve(override.name);
      } catch (error) {
        throw new ExaiError('bad_request', `${override.setting}: ${(error as Error).message}`);
      }
      if (model.provider !== provider) {
        throw new ExaiError(
          'bad_request',
          `${override.setting}: ${model.name} is a ${LABEL[model.provider]} model; name a ${LABEL[provider]} model.`,
        );
      }
      table[provider][role as ModelRole] = model.name;
    }
  }
  return table;
}

/** Reads EXAI_MODELS_FILE: `{ "models": [...], "retired": [...], "defaults": {...} }`. */
export function loadModelsFile(path: string): ModelsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ExaiError(
      'bad_request',
      `EXAI_MODELS_FILE ${path} cannot be read: ${(error as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ExaiError(
      'bad_request',
      `EXAI_MODELS_FILE ${path} is not valid JSON: ${(error as Error).message}`,
    );
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    throw new ExaiError(
      'bad_request',
      `EXAI_MODELS_FILE ${path} must be an object { "models": [ ... ], "retired": [ ... ], "defaults": { ... } }.`,
    );
  }
  const { models, retired, defaults } = parsed.data;
  return {
    models,
    ...(retired !== undefined && { retired }),
    ...(defaults !== undefined && { defaults }),
  };
}

function invalidEntry(index: number, error: z.ZodError, isNew = false): ExaiError {
  const detail = error.issues.map(i => `${i.path.join('.') || '(entry)'}: ${i.message}`).join('; ');
  const hint = isNew ? ' A new model needs provider, contextWindow, maxOutputTokens and thinking.' : '';
  return new ExaiError(
    'bad_request',
    `Model entry #${index + 1} in EXAI_MODELS_FILE is invalid: ${detail}.${hint}`,
  );
}

function fileError(what: string, error: z.ZodError): ExaiError {
  const detail = error.issues.map(i => `${i.path.join('.') || '(entry)'}: ${i.message}`).join('; ');
  return new ExaiError('bad_request', `The ${what} in EXAI_MODELS_FILE is invalid: ${detail}.`);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
