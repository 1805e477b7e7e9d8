/**
 * The built CLI refuses a numeric setting out of its range at startup, naming what the user typed (the flag or
 * the variable) and the range the settings table accepts, and exits 2 without serving.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: new URL('../fixtures/', import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? '', EXAI_STORE: 'memory', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', d => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', code => resolve({ code, stderr }));
  });
}

describe('exai-mcp with a setting out of range', () => {
  it('http --port 99999 names the flag and the accepted range', async () => {
    const { code, stderr } = await run(['http', '--port', '99999'], {});
    expect(code).toBe(2);
    expect(stderr).toContain('--port 99999 is out of range: use a whole number from 0 to 65535.');
    expect(stderr).not.toContain('httpPort');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('a variable out of range names the variable and the accepted range', async () => {
    const { code, stderr } = await run(['http'], { EXAI_HTTP_PORT: 'eighty' });
    expect(code).toBe(2);
    expect(stderr).toContain(
      'EXAI_HTTP_PORT="eighty" is not a whole number: use a whole number from 0 to 65535.',
    );
  });
});

describe('exai-mcp doctor with a deadline out of range', () => {
  it('--timeout 0 names the flag, the value and what it accepts', async () => {
    const { code, stderr } = await run(['doctor', '--offline', '--timeout', '0'], {});
    expect(code).toBe(2);
    expect(stderr).toContain(
      '--timeout 0 is out of range: use a number of seconds greater than 0 (default 20).',
    );
  });
});
