/**
 * What a stdio server loads before it can answer `initialize`: an IDE spawns it and waits. The early answer
 * (src/server/stdio-early.ts) needs no package, so it is written while the server still loads. The Redis client and prom-client are hundreds of modules
 * that only REDIS_URL (or EXAI_STORE=redis) and the HTTP server's /metrics need, so a plain stdio server must
 * not load them even after. Asserted on the module graph the process
 * resolved (test/fixtures/record-modules.mjs), not on time: the machine may be busy.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  BIN,
  exited,
  serverEnv,
  startHttpProcess,
  stopChild,
  type WorkDir,
  workDir,
} from './harness.js';

const RECORDER = fileURLToPath(new URL('../fixtures/record-modules.mjs', import.meta.url));
const REDIS_CLIENT = '/node_modules/@redis/client/';
const PROM_CLIENT = '/node_modules/prom-client/';
const MCP_SDK = '/node_modules/@modelcontextprotocol/server/';
const INITIALIZE = `${JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '0' } },
})}\n`;

let dir: WorkDir | undefined;
beforeAll(assertBuilt);
afterEach(async () => {
  await dir?.cleanup();
  dir = undefined;
});

/** The environment of a server that records the modules it resolves into `out`. */
function recordingEnv(
  work: WorkDir,
  out: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...serverEnv(work, { store: 'sqlite', extra: { GLM_API_KEY: 'test-key-glm-secret', ...extra } }),
    NODE_OPTIONS: `--import=${RECORDER}`,
    RECORD_MODULES_TO: out,
  };
}

/** Spawns the stdio server, sends initialize, waits for its answer, closes stdin and waits for the exit. */
async function stdioModules(env: Record<string, string>, out: string): Promise<string[]> {
  const child = spawn(process.execPath, [BIN], { cwd: dir?.path, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', chunk => {
    stderr += chunk;
  });
  const exit = exited(child);
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout.on('data', chunk => {
        stdout += chunk;
        const line = stdout.split('\n', 1)[0];
        if (stdout.includes('\n') && line !== undefined) resolve(line);
      });
      void exit.then(code => reject(new Error(`exited with ${code} before answering; stderr: ${stderr}`)));
      child.stdin.write(INITIALIZE);
    });
    expect(JSON.parse(answer)).toMatchObject({ id: 1, result: { serverInfo: { name: 'exai-mcp' } } });
    child.stdin.end();
    expect(await exit).toBe(0);
  } finally {
    await stopChild(child, 'SIGKILL');
  }
  return (await readFile(out, 'utf8')).split('\n').filter(Boolean);
}

const loads = (modules: string[], fragment: string) => modules.some(url => url.includes(fragment));

describe('modules loaded on the way to initialize', () => {
  it('a stdio server without REDIS_URL loads neither @redis/client nor prom-client', async () => {
    dir = await workDir('exai-modules-');
    const out = join(dir.path, 'modules.txt');
    const modules = await stdioModules(recordingEnv(dir, out), out);
    // The recorder saw the server's own graph: the MCP SDK is on it.
    expect(loads(modules, MCP_SDK)).toBe(true);
    expect(modules.filter(url => url.includes(REDIS_CLIENT))).toEqual([]);
    expect(modules.filter(url => url.includes(PROM_CLIENT))).toEqual([]);
  });

  it('what answers initialize early loads no package (no zod, no SDK): only node and our own small modules', async () => {
    dir = await workDir('exai-modules-');
    const out = join(dir.path, 'modules.txt');
    const early = new URL('../../dist/server/stdio-early.js', import.meta.url).href;
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', `await import(${JSON.stringify(early)});`],
      {
        cwd: dir.path,
        env: recordingEnv(dir, out),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    expect(await exited(child)).toBe(0);
    const modules = (await readFile(out, 'utf8')).split('\n').filter(Boolean);
    expect(loads(modules, '/dist/server/stdio-early.js')).toBe(true);
    expect(modules.filter(url => !url.startsWith('node:') && !url.includes('/dist/'))).toEqual([]);
  });

  it('with REDIS_URL set, shared provider health loads @redis/client (and still no prom-client)', async () => {
    dir = await workDir('exai-modules-');
    const out = join(dir.path, 'modules.txt');
    // Nothing listens on port 1: shared health reports degraded, which does not stop the server.
    const modules = await stdioModules(recordingEnv(dir, out, { REDIS_URL: 'redis://127.0.0.1:1' }), out);
    expect(loads(modules, REDIS_CLIENT)).toBe(true);
    expect(loads(modules, PROM_CLIENT)).toBe(false);
  });

  it('the HTTP server loads prom-client for /metrics before it listens', async () => {
    dir = await workDir('exai-modules-');
    const out = join(dir.path, 'modules.txt');
    const server = await startHttpProcess(dir, recordingEnv(dir, out));
    // The recorder writes as modules resolve, so how the process ends does not matter here.
    await server.stop();
    const modules = (await readFile(out, 'utf8')).split('\n').filter(Boolean);
    expect(loads(modules, PROM_CLIENT)).toBe(true);
    expect(loads(modules, REDIS_CLIENT)).toBe(false);
  });
});
