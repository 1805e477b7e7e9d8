import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = new URL('../../scripts/ensure-built.mjs', import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A clone in miniature: the real script, a package without dependencies, no node_modules and no dist. */
function freshClone(): string {
  const root = mkdtempSync(join(tmpdir(), 'exai-clone-'));
  dirs.push(root);
  mkdirSync(join(root, 'scripts'));
  copyFileSync(SCRIPT, join(root, 'scripts', 'ensure-built.mjs'));
  const build = `node -e "require('fs').mkdirSync('dist/cli',{recursive:true});require('fs').writeFileSync('dist/cli/main.js','')"`;
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 'clone', version: '1.0.0', private: true, scripts: { build } }),
  );
  writeFileSync(
    join(root, 'package-lock.json'),
    JSON.stringify({
      name: 'clone',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name: 'clone', version: '1.0.0' } },
    }),
  );
  return root;
}

describe('npm start in a fresh clone', () => {
  it('says it is installing before npm ci runs, then builds', () => {
    const root = freshClone();
    const run = spawnSync(process.execPath, ['scripts/ensure-built.mjs'], {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        npm_config_offline: 'true',
        npm_config_audit: 'false',
        npm_config_fund: 'false',
      },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr.split('\n')[0]).toBe('first run: installing dependencies (npm ci), a few minutes…');
    expect(run.stderr).toContain('first run: building (npm run build)…');
    expect(run.stdout).toBe('');
    expect(existsSync(join(root, 'dist', 'cli', 'main.js'))).toBe(true);
  }, 120_000);

  it('prints nothing once installed and built', () => {
    const root = freshClone();
    mkdirSync(join(root, 'node_modules'));
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(root, 'dist', 'cli', 'main.js'), '');
    const run = spawnSync(process.execPath, ['scripts/ensure-built.mjs'], { cwd: root, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
  });
});
