import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../e2e/cli-run.js';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';

const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
/** Makes loading better-sqlite3's addon fail as a NODE_MODULE_VERSION mismatch does; node_modules is untouched. */
const MISMATCH = join(FIXTURES, 'dlopen-mismatch.cjs');

let fake: FakeProvider;
let dataDir: string;
beforeAll(async () => {
  fake = await startFakeProvider();
  dataDir = mkdtempSync(join(tmpdir(), 'exai-native-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string>, stdin = '') {
  return runCli(
    args,
    { PATH: process.env.PATH ?? '', HOME: dataDir, EXAI_DATA_DIR: dataDir, ...env },
    FIXTURES,
    {
      nodeArgs: ['--require', MISMATCH],
      stdin,
    },
  );
}

const FIX = /run `npm rebuild better-sqlite3` with this Node, or set EXAI_STORE=memory/;

describe('better-sqlite3 built for another Node', () => {
  it('the server says how to fix it on the first line of stderr, not that the file may be damaged', async () => {
    const result = await run([], {}, '');
    expect(result.code).toBe(1);
    const first = result.stderr.split('\n')[0] ?? '';
    expect(first).toMatch(/^exai-mcp: cannot start: better-sqlite3 .* was built for another Node\.js/);
    expect(first).toMatch(/NODE_MODULE_VERSION 115; this Node v\d+\.\d+\.\d+ needs 127/);
    expect(first).toMatch(FIX);
    expect(result.stderr).not.toMatch(/damaged|EXAI_DATA_DIR/);
    expect(result.stdout).toBe('');
  });

  it('doctor fails the store check with the fix and still checks the providers and folders', async () => {
    const result = await run(['doctor', '--json'], { GLM_API_KEY: 'k', GLM_API_URL: `${fake.url}/v1` });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      checks: Array<{ name: string; status: string; detail: string; next?: string }>;
    };
    const store = report.checks.find(c => c.name === 'store');
    expect(store?.status).toBe('fail');
    expect(store?.detail).toMatch(FIX);
    expect(store?.next).toMatch(FIX);
    expect(report.checks.find(c => c.name === 'GLM live call')?.status).toBe('ok');
    expect(report.checks.find(c => c.name === 'allowed roots')?.status).toBe('ok');
  });

  it('EXAI_STORE=memory runs without the module', async () => {
    const result = await run(['doctor', '--offline'], { GLM_API_KEY: 'k', EXAI_STORE: 'memory' });
    expect(result.stdout).toMatch(/✓ store\s+memory store opened/);
    expect(result.code).toBe(0);
  });
});
