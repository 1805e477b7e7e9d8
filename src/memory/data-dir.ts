/** Where the SQLite store lives when the user has not said: the platform's per-user data folder. */
import * as os from 'node:os';
import * as path from 'node:path';

const APP = 'exai-mcp';
export const DB_FILE_NAME = 'conversations.db';

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * `$EXAI_DATA_DIR`, else `$XDG_DATA_HOME/exai-mcp`, else the platform default: `~/.local/share/exai-mcp`,
 * `~/Library/Application Support/exai-mcp` on macOS, `%LOCALAPPDATA%\exai-mcp` on Windows.
 * `platform` and `homedir` are parameters so every branch is testable on any machine.
 */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  homedir: string = os.homedir(),
): string {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const explicit = nonEmpty(env.EXAI_DATA_DIR);
  if (explicit !== undefined) return p.resolve(explicit);
  const xdg = nonEmpty(env.XDG_DATA_HOME);
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  if (xdg !== undefined && p.isAbsolute(xdg)) return p.join(xdg, APP);
  if (platform === 'darwin') return p.join(homedir, 'Library', 'Application Support', APP);
  if (platform === 'win32')
    return p.join(nonEmpty(env.LOCALAPPDATA) ?? p.join(homedir, 'AppData', 'Local'), APP);
  return p.join(homedir, '.local', 'share', APP);
}

/** The default database file inside {@link defaultDataDir}. */
export function defaultDbPath(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  homedir: string = os.homedir(),
): string {
  return (platform === 'win32' ? path.win32 : path.posix).join(
    defaultDataDir(env, platform, homedir),
    DB_FILE_NAME,
  );
}
