import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const DOCS = ['README.md', 'docs/CLIENTS.md'];

/** Every `node dist/cli/main.js <command>` the docs tell a clone's user to run, by file. */
function cloneCommands(): Array<[string, string]> {
  const found = new Set<string>();
  for (const file of DOCS) {
    const text = readFileSync(`${ROOT}${file}`, 'utf8');
    for (const match of text.matchAll(/node dist\/cli\/main\.js (\w+)/g)) found.add(`${file}\t${match[1]}`);
  }
  return [...found].map(entry => entry.split('\t') as [string, string]);
}

describe('the commands the docs give for a clone', () => {
  it('the README addresses a clone with node dist/cli/main.js, doctor included', () => {
    expect(cloneCommands()).toContainEqual(['README.md', 'doctor']);
  });

  it.each(cloneCommands())('%s: `node dist/cli/main.js %s` runs from the clone folder', (_file, command) => {
    const run = spawnSync(process.execPath, ['dist/cli/main.js', command, '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: exai-mcp ${command}`));
  });
});
