/**
 * Runs the whole test suite a second time on Node 22, so both LTS lines are proven. The suite runs in a
 * shadow copy whose better-sqlite3 is rebuilt for Node 22's ABI against the headers shipped in the Node 22
 * package (no download); every other package is linked from the real node_modules.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode22 } from './node22.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node22 = ensureNode22(root);
const shadow = join(root, '.cache', 'node22-suite');
const NATIVE = 'better-sqlite3';

rmSync(shadow, { recursive: true, force: true });
mkdirSync(join(shadow, 'node_modules'), { recursive: true });
for (const entry of [
  'src',
  'test',
  'dist',
  // Tests read the docs (their commands are run as written) and start scripts (npm start's first run).
  'docs',
  'scripts',
  'README.md',
  'package.json',
  'tsconfig.json',
  'vitest.config.ts',
]) {
  if (existsSync(join(root, entry))) cpSync(join(root, entry), join(shadow, entry), { recursive: true });
}
for (const entry of readdirSync(join(root, 'node_modules'))) {
  const from = join(root, 'node_modules', entry);
  const to = join(shadow, 'node_modules', entry);
  if (entry === NATIVE) cpSync(from, to, { recursive: true, dereference: true });
  else symlinkSync(from, to);
}

// node-gyp reads its header folder from npm_config_nodedir (npm exports the user's setting, which would
// point at Node 20's headers); point it at the Node 22 package's own.
const env = {
  ...process.env,
  PATH: `${dirname(node22.node)}:${process.env.PATH ?? ''}`,
  npm_config_nodedir: node22.home,
};
const run = (args: string[], cwd: string) =>
  spawnSync(node22.node, args, { cwd, env, stdio: 'inherit' }).status ?? 1;

process.stderr.write(`Rebuilding ${NATIVE} for Node 22 …\n`);
const rebuilt = run([findNodeGyp(), 'rebuild', '--release'], join(shadow, 'node_modules', NATIVE));
if (rebuilt !== 0) process.exit(rebuilt);

process.exit(
  run([join(shadow, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)], shadow),
);

function findNodeGyp(): string {
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout.trim();
  const candidates = [
    join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  const found = candidates.find(existsSync);
  if (!found)
    throw new Error('node-gyp not found (it ships with npm); cannot rebuild better-sqlite3 for Node 22');
  return found;
}
