/** exai-mcp's own version, read from package.json (two folders up from both src/server and dist/server). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached === undefined) {
    try {
      const json = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version?: unknown;
      };
      cached = typeof json.version === 'string' ? json.version : '0.0.0';
    } catch {
      cached = '0.0.0';
    }
  }
  return cached;
}
