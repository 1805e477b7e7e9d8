/**
 * Reads the settings once from the environment and an optional .env file (the environment wins), validates
 * them against the one table in settings.ts, and checks the deadline hierarchy.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pick, readEnvFile } from './env-file.js';
import { SETTINGS, type SettingKey, type SettingSpec, type Settings, type SettingUnit } from './settings.js';

export type SettingSource = { from: 'default' } | { from: 'env' | '.env'; name: string };

export interface Config extends Settings {
  /** Where each value came from, for `doctor` and `version` (values of secrets are never kept here). */
  readonly sources: Readonly<Record<SettingKey, SettingSource>>;
  /** The .env file the settings were read from, if one was: it holds keys, so no tool ever reads it. */
  readonly envFile?: string;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map(p => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Path of a .env file; `false` skips it. Default: `.env` in the working directory. */
  envFile?: string | false;
  /** Values that win over everything (CLI flags). */
  overrides?: Partial<Record<SettingKey, unknown>>;
  /** The flag each override came from (`--port`), so an error names what the user typed. */
  flagNames?: Partial<Record<SettingKey, string>>;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const envPath = options.envFile === undefined ? resolve('.env') : options.envFile;
  const fileEnv = readEnvFile(envPath);
  const envFile = envPath !== false && existsSync(envPath) ? resolve(envPath) : undefined;
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  const sources: Record<string, SettingSource> = {};

  for (const [key, spec] of Object.entries(SETTINGS) as [SettingKey, (typeof SETTINGS)[SettingKey]][]) {
    const found = pick(spec.env, env, fileEnv);
    const override = options.overrides?.[key];
    const raw = override !== undefined ? override : found?.value;
    sources[key] =
      found && override === undefined ? { from: found.from, name: found.name } : { from: 'default' };
    if (raw === undefined) {
      values[key] = spec.default;
      continue;
    }
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) {
      values[key] = parsed.data;
    } else {
      const flag = override !== undefined ? options.flagNames?.[key] : undefined;
      const name = flag ?? found?.name ?? spec.env[0] ?? key;
      problems.push(problemOf(spec, name, flag !== undefined, raw, parsed.error.issues));
    }
  }
  if (problems.length === 0) problems.push(...checkHierarchy(values as Settings, sources));
  if (problems.length === 0) problems.push(...checkStore(values as Settings));
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...(values as Settings),
    sources: sources as Record<SettingKey, SettingSource>,
    ...(envFile && { envFile }),
  });
}

/** What a numeric setting accepts, read from its schema in the settings table. */
function numericRange(spec: SettingSpec): { min: number; max: number; int: boolean } | undefined {
  const schema = spec.schema as Partial<{ minValue: number | null; maxValue: number | null; isInt: boolean }>;
  if (typeof schema.minValue !== 'number' || typeof schema.maxValue !== 'number') return undefined;
  return { min: schema.minValue, max: schema.maxValue, int: schema.isInt === true };
}

const NUMBER_KIND: Partial<Record<SettingUnit, string>> = {
  seconds: 'a number of seconds',
  hours: 'a number of hours',
  ms: 'a whole number of milliseconds',
  bytes: 'a whole number of bytes',
};

/**
 * `--port 99999 is out of range: use a whole number from 0 to 65535`: the name the user typed (flag or
 * variable), what was wrong, and what is accepted. Secrets are never echoed.
 */
function problemOf(
  spec: SettingSpec,
  name: string,
  isFlag: boolean,
  raw: unknown,
  issues: ReadonlyArray<{ code: string; message: string }>,
): string {
  // As typed: `NAME="value"` for a variable, `--flag value` for a flag (quoted only if it holds spaces).
  const quoted = JSON.stringify(raw);
  const shown = spec.secret
    ? '<redacted>'
    : isFlag && typeof raw === 'string' && /^[^\s"]{1,60}$/.test(raw)
      ? raw
      : quoted;
  const given = isFlag ? `${name} ${shown}` : `${name}=${shown}`;
  const range = numericRange(spec);
  if (!range) return `${given}: ${issues.map(i => i.message).join('; ')}`;
  const kind = NUMBER_KIND[spec.unit] ?? (range.int ? 'a whole number' : 'a number');
  const accepted = `use ${kind} from ${range.min} to ${range.max}`;
  if (issues.some(i => i.code === 'too_big' || i.code === 'too_small'))
    return `${given} is out of range: ${accepted}.`;
  return `${given} is not ${range.int ? 'a whole number' : 'a number'}: ${accepted}.`;
}

function envName(key: SettingKey, sources: Record<string, SettingSource>): string {
  const source = sources[key];
  return source && source.from !== 'default' ? source.name : (SETTINGS[key].env[0] ?? key);
}

/** A child budget larger than its parent could never be used: say so at startup instead of silently capping. */
function checkHierarchy(s: Settings, sources: Record<string, SettingSource>): string[] {
  const problems: string[] = [];
  const pairs: [SettingKey, SettingKey][] = [
    ['expertTimeoutSecs', 'workflowTimeoutSecs'],
    ['glmTimeoutSecs', 'expertTimeoutSecs'],
    ['kimiTimeoutSecs', 'expertTimeoutSecs'],
  ];
  for (const [child, parent] of pairs) {
    const c = s[child] as number;
    const p = s[parent] as number;
    if (c > p) {
      problems.push(
        `${envName(child, sources)}=${c} exceeds ${envName(parent, sources)}=${p}: a child deadline must fit inside its parent (lower ${envName(child, sources)} or raise ${envName(parent, sources)}).`,
      );
    }
  }
  if (s.retryBaseMs > s.retryCapMs) {
    problems.push(`PROVIDER_RETRY_BASE_MS=${s.retryBaseMs} exceeds PROVIDER_RETRY_CAP_MS=${s.retryCapMs}.`);
  }
  return problems;
}

function checkStore(s: Settings): string[] {
  if (s.store === 'redis' && s.redisUrl === undefined) {
    return [
      'EXAI_STORE=redis needs REDIS_URL (e.g. REDIS_URL=redis://redis:6379), the Redis every replica shares.',
    ];
  }
  return [];
}

export const secondsToMs = (secs: number): number => Math.round(secs * 1000);
