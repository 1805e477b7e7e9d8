/**
 * A Node 22 toolchain fetched from the npm registry on demand: the official platform package of the Node
 * binary plus the MCP validators that need Node >= 22 (the conformance suite and the Inspector CLI). Kept out
 * of package.json so `npm ci` stays portable and light; cached under .cache/ between runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const NODE22_VERSION = '22.23.3';
const TOOLS = ['@modelcontextprotocol/conformance@0.1.16', '@modelcontextprotocol/inspector@2.12.0'];

export interface Node22 {
  /** The Node 22 executable. */
  node: string;
  /** Folder of the Node 22 package: bin/ and include/node (headers for native addons). */
  home: string;
  bin(name: string): string;
}

export function ensureNode22(root: string): Node22 {
  const cache = process.env.EXAI_NODE22_CACHE ?? join(root, '.cache', 'node22');
  const pkg = `node-${process.platform}-${process.arch}`;
  const home = join(cache, 'node_modules', pkg);
  const node = join(home, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  const bin = (name: string) => join(cache, 'node_modules', '.bin', name);
  if (!existsSync(node) || !existsSync(bin('conformance')) || !existsSync(bin('mcp-inspector'))) {
    mkdirSync(cache, { recursive: true });
    process.stderr.write(`Fetching Node ${NODE22_VERSION} (${pkg}) and the MCP validators into ${cache} …\n`);
    const result = spawnSync(
      'npm',
      [
        'install',
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        '--prefix',
        cache,
        `${pkg}@${NODE22_VERSION}`,
        ...TOOLS,
      ],
      { stdio: ['ignore', 2, 2] },
    );
    if (result.status !== 0 || !existsSync(node)) {
      throw new Error(
        `could not install ${pkg}@${NODE22_VERSION} from the npm registry (npm exit ${result.status})`,
      );
    }
  }
  return { node, home, bin };
}
