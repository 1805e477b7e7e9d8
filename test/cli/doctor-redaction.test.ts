/**
 * `exai-mcp doctor --json` (the built CLI) with provider URLs and REDIS_URL that carry credentials: the
 * report names where each one points and never the credentials.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;
let dataDir: string;

function doctor(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'doctor', ...args], {
      cwd: new URL('../fixtures/', import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? '', EXAI_DATA_DIR: dataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', d => {
      stdout += d;
    });
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', code => resolve({ code, stdout }));
  });
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'exai-doctor-redact-'));
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('exai-mcp doctor with credentials in URLs', () => {
  it('shows the URL settings and provider URLs without userinfo or secret query values', async () => {
    const run = await doctor(['--json', '--offline'], {
      GLM_API_KEY: 'sk-doctor-key',
      GLM_API_URL: 'http://glm-user:glm-pass@127.0.0.1:9/api/paas/v4',
      KIMI_API_URL: 'http://127.0.0.1:9/v1?token=kimi-query-token',
      EXAI_STORE: 'memory',
      // Nothing listens on port 1: replicas' shared health stays degraded, which is all this needs.
      REDIS_URL: 'redis://:redis-pass@127.0.0.1:1/0',
    });
    const report = JSON.parse(run.stdout) as {
      settings: Array<{ name: string; value: string }>;
      checks: Array<{ name: string; detail: string }>;
    };
    const setting = (name: string) => report.settings.find(s => s.name === name)?.value;
    expect(setting('GLM_API_URL')).toBe('http://***@127.0.0.1:9/api/paas/v4');
    expect(setting('KIMI_API_URL')).toBe('http://127.0.0.1:9/v1?token=***');
    expect(setting('REDIS_URL')).toBe('redis://***@127.0.0.1:1/0');
    expect(report.checks.find(c => c.name === 'GLM key')?.detail).toBe(
      'set (http://***@127.0.0.1:9/api/paas/v4)',
    );
    for (const secret of ['glm-user', 'glm-pass', 'kimi-query-token', 'redis-pass', 'sk-doctor-key'])
      expect(run.stdout).not.toContain(secret);
  });
});
