/** Lua scripts run by SHA (EVALSHA), falling back to the source once when Redis's script cache is empty. */
import { createHash } from 'node:crypto';
import { isErrorReply, type RedisLink } from './link.js';

export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

export function defineScript(name: string, source: string): Script {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** EVALSHA, then EVAL once after a restart or SCRIPT FLUSH emptied the cache. */
export async function runScript(
  link: RedisLink,
  which: Script,
  keys: string[],
  args: string[],
): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await link.send(['EVALSHA', which.sha, ...tail]);
  } catch (error) {
    if (!(isErrorReply(error) && error.message.startsWith('NOSCRIPT'))) throw error;
    return link.send(['EVAL', which.source, ...tail]);
  }
}
