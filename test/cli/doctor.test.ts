import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;
let fake: FakeProvider;
let dataDir: string;

function doctor(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'doctor', ...args], {
      cwd: new URL('../fixtures/', import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? '', EXAI_DATA_DIR: dataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => {
      stdout += d;
    });
    child.stderr.on('data', d => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', code => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  fake = await startFakeProvider();
  dataDir = mkdtempSync(join(tmpdir(), 'exai-doctor-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('exai-mcp doctor', () => {
  it('passes when a provider answers, shows each setting with its source and redacts keys', async () => {
    const run = await doctor([], {
      GLM_API_KEY: 'sk-doctor-secret',
      GLM_API_URL: `${fake.url}/v1`,
      KIMI_API_URL: 'http://127.0.0.1:9/unset',
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/GLM_API_KEY\s+set \(redacted\)\s+env/);
    expect(run.stdout).toMatch(/GLM_TIMEOUT_SECS\s+300\s+default/);
    expect(run.stdout).toMatch(/✓ GLM live call\s+glm-4\.7-flash answered in \d+ ms/);
    expect(run.stdout).toMatch(/! Kimi key\s+not set/);
    expect(run.stdout).toMatch(/→ set KIMI_API_KEY or MOONSHOT_API_KEY/);
    expect(run.stdout).not.toContain('sk-doctor-secret');
  });

  it('fails with a next step when the key is refused', async () => {
    const run = await doctor(['--json'], {
      GLM_API_KEY: 'bad',
      GLM_API_URL: `${fake.url}/mode/status,code=401/v1`,
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as {
      checks: Array<{ name: string; status: string; next?: string }>;
    };
    const live = report.checks.find(c => c.name === 'GLM live call');
    expect(live?.status).toBe('fail');
    expect(live?.next).toMatch(/key was refused/);
  });

  it('fails when no provider has a key', async () => {
    const run = await doctor(['--offline'], {});
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✗ providers\s+no provider has a key/);
  });
});
