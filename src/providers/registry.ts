/**
 * Resolves names and aliases to model specs. Built-ins come from models.ts; EXAI_MODELS_FILE adds models or
 * overrides fields of existing ones by name.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ExaiError } from '../errors.js';
import { BUILTIN_MODELS, type ModelSpec, type ModelSpecInput, modelSpecSchema } from './models.js';
import type { ProviderName } from './types.js';

export interface ModelRegistry {
  /** Case-insensitive name or alias → spec; unknown → ExaiError bad_request listing what exists. */
  resolve(name: string): ModelSpec;
  find(name: string): ModelSpec | undefined;
  list(): readonly ModelSpec[];
  byProvider(provider: ProviderName): readonly ModelSpec[];
}

const overrideSchema = modelSpecSchema.partial().extend({ name: z.string().min(1) });
const fileSchema = z.object({ models: z.array(z.unknown()) });

export function createRegistry(extra: readonly unknown[] = []): ModelRegistry {
  const specs = new Map<string, ModelSpecInput>(BUILTIN_MODELS.map(m => [m.name, m]));
  extra.forEach((entry, i) => {
    const parsed = overrideSchema.safeParse(entry);
    if (!parsed.success) throw invalidEntry(i, parsed.error);
    const base = specs.get(parsed.data.name);
    const merged = { ...base, ...stripUndefined(parsed.data) };
    const full = modelSpecSchema.safeParse(merged);
    if (!full.success) throw invalidEntry(i, full.error, base === undefined);
    specs.set(full.data.name, full.data);
  });

  const models = [...specs.values()].map(m => modelSpecSchema.parse(m));
  const index = new Map<string, ModelSpec>();
  for (const model of models) {
    for (const key of [model.name, ...model.aliases]) index.set(key.toLowerCase(), model);
  }

  return {
    find: name => index.get(name.trim().toLowerCase()),
    resolve(name) {
      const model = index.get(name.trim().toLowerCase());
      if (model) return model;
      const known = models.map(m => (m.aliases.length ? `${m.name} (${m.aliases.join(', ')})` : m.name));
      throw new ExaiError('bad_request', `Unknown model "${name}". Available models: ${known.join('; ')}.`, {
        retryable: false,
      });
    },
    list: () => models,
    byProvider: provider => models.filter(m => m.provider === provider),
  };
}

/** Reads EXAI_MODELS_FILE: `{ "models": [ { "name": "...", ...fields } ] }`. */
export function loadModelsFile(path: string): unknown[] {
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
    throw new ExaiError('bad_request', `EXAI_MODELS_FILE ${path} must be an object { "models": [ ... ] }.`);
  }
  return parsed.data.models;
}

function invalidEntry(index: number, error: z.ZodError, isNew = false): ExaiError {
  const detail = error.issues.map(i => `${i.path.join('.') || '(entry)'}: ${i.message}`).join('; ');
  const hint = isNew ? ' A new model needs provider, contextWindow, maxOutputTokens and thinking.' : '';
  return new ExaiError(
    'bad_request',
    `Model entry #${index + 1} in EXAI_MODELS_FILE is invalid: ${detail}.${hint}`,
  );
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
