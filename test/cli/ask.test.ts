import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function ask(args: string[], env: Record<string, string>): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'ask', ...args], {
      cwd: new URL('../fixtures/', import.meta.url).pathname,
      env: {
        PATH: process.env.PATH ?? '',
        GLM_API_KEY: 'test-key',
        KIMI_API_KEY: 'test-key',
        GLM_API_URL: 'http://127.0.0.1:9/unset',
        KIMI_API_URL: 'http://127.0.0.1:9/unset',
        FALLBACK_ON_FAILURE: 'false',
        PROVIDER_RETRY_BASE_MS: '10',
        PROVIDER_RETRY_CAP_MS: '50',
        ...env,
      },
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
    child.once('close', code => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

let fake: FakeProvider;
beforeAll(async () => {
  if (!existsSync(BIN))
    throw new Error('dist/cli/main.js is missing: run `npm run build` first (npm test does)');
  fake = await startFakeProvider();
});
afterAll(() => fake.close());

describe('exai-mcp ask', () => {
  it('streams the answer to stdout and exits 0', async () => {
    const run = await ask(['hello there', '--model', 'glm-4.6'], { GLM_API_URL: `${fake.url}/v1` });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('echo: hello there\n');
    expect(run.stderr).toMatch(/✓ glm-4\.6 in .* 1 attempt/);
  });

  it('--json prints the whole response object', async () => {
    const run = await ask(['hi', '--json', '-m', 'kimi-k2'], { KIMI_API_URL: `${fake.url}/v1` });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      content: 'echo: hi',
      provider: 'kimi',
      model: 'kimi-k2.6',
    });
  });

  it('a hanging provider with GLM_TIMEOUT_SECS=1 exits non-zero in about 1 s with a timeout message', async () => {
    const run = await ask(['hi', '-m', 'glm-4.6'], {
      GLM_API_URL: `${fake.url}/mode/hang/v1`,
      GLM_TIMEOUT_SECS: '1',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/timeout: GLM glm-4\.6 call timed out after 1 s/);
    expect(run.ms).toBeGreaterThanOrEqual(950);
    expect(run.ms).toBeLessThan(5_000);
    await fake.waitForActive(0, 2_000);
  });

  it('a dripping provider ends by its idle timeout', async () => {
    const run = await ask(['hi', '-m', 'glm-4.6'], {
      GLM_API_URL: `${fake.url}/mode/drip,every=50/v1`,
      PROVIDER_FIRST_TOKEN_TIMEOUT_SECS: '0.5',
      PROVIDER_MAX_RETRIES: '0',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/stalled: GLM glm-4\.6: no content arrived for 0\.5 s/);
  });

  it('429 with Retry-After is retried and answers', async () => {
    const run = await ask(['hi', '-m', 'glm-4.6'], {
      GLM_API_URL: `${fake.url}/mode/ratelimit,secs=1,key=cli/v1`,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/rate_limited; retrying in 1\.0 s/);
    expect(run.stderr).toMatch(/2 attempt/);
  });

  it('401 is not retried', async () => {
    fake.reset();
    const run = await ask(['hi', '-m', 'glm-4.6'], { GLM_API_URL: `${fake.url}/mode/status,code=401/v1` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/✗ auth: GLM glm-4\.6: HTTP 401/);
    expect(fake.requests).toHaveLength(1);
    expect(run.stderr).not.toContain('test-key');
  });

  it('bad usage exits 2 with a clear message', async () => {
    const run = await ask(['--frobnicate'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Unknown option '--frobnicate'/);
  });

  it('an unknown model lists the available ones', async () => {
    const run = await ask(['hi', '-m', 'gpt-9'], {});
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Unknown model "gpt-9"\. Available models:/);
  });
});
