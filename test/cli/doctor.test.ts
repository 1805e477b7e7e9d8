import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

  it('names the Coding Plan endpoint when the general endpoint answers 1113', async () => {
    const run = await doctor(['--json'], {
      GLM_API_KEY: 'coding-plan-key',
      GLM_API_URL: `${fake.url}/mode/glmerror,code=1113/api/paas/v4`,
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as {
      checks: Array<{ name: string; status: string; next?: string }>;
    };
    const live = report.checks.find(c => c.name === 'GLM live call');
    expect(live?.status).toBe('fail');
    expect(live?.next).toMatch(/set GLM_API_URL=https:\/\/api\.z\.ai\/api\/coding\/paas\/v4/);
  });

  it('names the data folder it opened, not "the default data folder"', async () => {
    const run = await doctor(['--offline'], { GLM_API_KEY: 'k' });
    expect(run.stdout).toContain(`✓ store          sqlite store opened in ${dataDir}`);
    const home = mkdtempSync(join(tmpdir(), 'exai-home-'));
    try {
      const defaulted = await doctor(['--offline'], { GLM_API_KEY: 'k', EXAI_DATA_DIR: '', HOME: home });
      expect(defaulted.stdout).toContain(
        `sqlite store opened in ${join(home, '.local', 'share', 'exai-mcp')}`,
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('a 404 names the base URL as the likely cause, and a single attempt is "1 attempt"', async () => {
    const run = await doctor(['--json'], {
      GLM_API_KEY: 'k',
      GLM_API_URL: `${fake.url}/mode/status,code=404/v1`,
    });
    const report = JSON.parse(run.stdout) as {
      checks: Array<{ name: string; detail: string; next?: string }>;
    };
    expect(report.checks.find(c => c.name === 'GLM live call')?.next).toMatch(
      /answered 404: check the base URL \(GLM_API_URL ends in \/api\/paas\/v4/,
    );
    const failing = await doctor(['--json'], {
      GLM_API_KEY: 'k',
      GLM_API_URL: `${fake.url}/mode/status,code=500/v1`,
    });
    const detail = (
      JSON.parse(failing.stdout) as { checks: Array<{ name: string; detail: string }> }
    ).checks.find(c => c.name === 'GLM live call')?.detail;
    expect(detail).toMatch(/HTTP 500/);
    expect(detail).toMatch(/\(gave up after 1 attempt\)$/);
  });

  it('fails when no provider has a key', async () => {
    const run = await doctor(['--offline'], {});
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✗ providers\s+no provider has a key/);
  });

  it("names the catalogue's Kimi ids that Kimi's live GET /models does not list", async () => {
    // The fake provider serves only chat completions: this server lists models and forwards the rest to it.
    const seen: Array<string | undefined> = [];
    const kimi: Server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/v1/models') {
        seen.push(req.headers.authorization);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'kimi-k2.6' }, { id: 'kimi-k3' }] }));
        return;
      }
      const upstream = request(
        `${fake.url}${req.url}`,
        { method: req.method, headers: req.headers },
        answer => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>(resolve => kimi.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = kimi.address() as AddressInfo;
      const run = await doctor(['--json'], {
        KIMI_API_KEY: 'sk-kimi-secret',
        KIMI_API_URL: `http://127.0.0.1:${port}/v1`,
      });
      const report = JSON.parse(run.stdout) as {
        checks: Array<{ name: string; status: string; detail: string; next?: string }>;
      };
      expect(report.checks.find(c => c.name === 'Kimi live call')).toMatchObject({ status: 'ok' });
      expect(report.checks.find(c => c.name === 'Kimi live call')?.detail).toMatch(/^kimi-k2\.6 answered/);
      const catalogue = report.checks.find(c => c.name === 'Kimi catalogue');
      expect(catalogue?.status).toBe('warn');
      expect(catalogue?.detail).toMatch(/unknown upstream .*: kimi-k2\.7-code, kimi-k2\.7-code-highspeed;/);
      expect(catalogue?.next).toMatch(/EXAI_MODELS_FILE/);
      expect(seen).toEqual(['Bearer sk-kimi-secret']);
      expect(run.stdout).not.toContain('sk-kimi-secret');
      expect(run.code).toBe(0);
    } finally {
      kimi.closeAllConnections();
      await new Promise(resolve => kimi.close(resolve));
    }
  });
});
