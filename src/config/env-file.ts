/**
 * Where a setting's raw text comes from: the environment, then a .env file. Without the settings table (and
 * so without zod), so the stdio server can read the few settings its answer to `initialize` needs before
 * anything else loads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

export function readEnvFile(path: string | false): Record<string, string> {
  if (path === false || !existsSync(path)) return {};
  return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
}

/** The first of `names` set (non-empty) in the environment, else in the .env file; the environment wins. */
export function pick(
  names: readonly string[],
  env: NodeJS.ProcessEnv,
  fileEnv: Record<string, string>,
): { value: string; from: 'env' | '.env'; name: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { value, from: 'env', name };
  }
  for (const name of names) {
    const value = fileEnv[name];
    if (value !== undefined && value !== '') return { value, from: '.env', name };
  }
  return undefined;
}
