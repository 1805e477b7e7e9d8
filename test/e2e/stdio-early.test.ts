/**
 * The stdio server answers initialize before it has loaded (src/server/stdio-early.ts). A client that sends
 * its first messages at once, as IDEs do, gets exactly one answer to initialize and then the full server's
 * answers; settings the server refuses still stop it with their message and exit code 2.
 */
import { spawn } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TOOL_NAMES } from '../../src/config/tool-names.js';
import { assertBuilt, BIN, exited, serverEnv, stopChild, type WorkDir, workDir } from './harness.js';

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '0' } },
};
const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };
const TOOLS_LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

interface Session {
  /** Every line the server wrote to stdout, parsed. */
  answers: Array<Record<string, unknown>>;
  stderr: string;
  code: number | null;
}

/** Writes `messages` at spawn, waits for answers to `waitFor` ids (or the exit), then closes stdin. */
async function session(env: Record<string, string>, messages: object[], waitFor: number[]): Promise<Session> {
  const child = spawn(process.execPath, [BIN], { cwd: dir?.path, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const answers: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr.on('data', chunk => {
    stderr += chunk;
  });
  const exit = exited(child);
  try {
    await new Promise<void>(resolve => {
      let stdout = '';
      child.stdout.on('data', chunk => {
        stdout += chunk;
        const lines = stdout.split('\n');
        stdout = lines.pop() ?? '';
        for (const line of lines) answers.push(JSON.parse(line) as Record<string, unknown>);
        if (waitFor.every(id => answers.some(a => a.id === id))) resolve();
      });
      void exit.then(() => resolve());
      child.stdin.write(messages.map(m => `${JSON.stringify(m)}\n`).join(''));
    });
    child.stdin.end();
    return { answers, stderr, code: await exit };
  } finally {
    await stopChild(child, 'SIGKILL');
  }
}

let dir: WorkDir | undefined;
beforeAll(assertBuilt);
afterEach(async () => {
  await dir?.cleanup();
  dir = undefined;
});

describe('the early answer to initialize over stdio', () => {
  it('is the only answer to initialize; the full server then lists every tool', async () => {
    dir = await workDir('exai-early-');
    const { answers, stderr, code } = await session(
      serverEnv(dir, { extra: { LOG_LEVEL: 'info' } }),
      [INITIALIZE, INITIALIZED, TOOLS_LIST],
      [1, 2],
    );
    expect(code).toBe(0);
    expect(answers.map(a => a.id)).toEqual([1, 2]);
    expect(answers[0]).toMatchObject({
      result: {
        protocolVersion: '2025-06-18',
        serverInfo: { name: 'exai-mcp' },
        capabilities: { tools: {} },
      },
    });
    const { tools } = (answers[1]?.result ?? {}) as { tools: Array<{ name: string }> };
    expect(tools.map(t => t.name)).toEqual([...TOOL_NAMES]);
    // The server checked its own answer to the replayed request against the early one, and it matched.
    expect(stderr).toContain('"event":"listening"');
    expect(stderr).not.toContain('early_initialize_mismatch');
  });

  it('follows EXAI_TOOLS in its instructions, as the full server does', async () => {
    dir = await workDir('exai-early-');
    const { answers } = await session(
      serverEnv(dir, { extra: { EXAI_TOOLS: 'chat,status' } }),
      [INITIALIZE, INITIALIZED, TOOLS_LIST],
      [1, 2],
    );
    const { instructions } = (answers[0]?.result ?? {}) as { instructions: string };
    expect(instructions).toContain('chat: ask another model');
    expect(instructions).not.toContain('codereview:');
    const { tools } = (answers[1]?.result ?? {}) as { tools: Array<{ name: string }> };
    expect(tools.map(t => t.name)).toEqual(['chat', 'status']);
  });

  it('is not given when EXAI_TOOLS is invalid: the server names the setting and exits 2 without answering', async () => {
    dir = await workDir('exai-early-');
    const { answers, stderr, code } = await session(
      serverEnv(dir, { extra: { EXAI_TOOLS: 'chatt' } }),
      [INITIALIZE],
      [1],
    );
    expect(code).toBe(2);
    expect(answers).toEqual([]);
    expect(stderr).toMatch(/EXAI_TOOLS="chatt": unknown tool "chatt"/);
  });

  it('comes before other settings are checked: one the server refuses still stops it, with its message', async () => {
    dir = await workDir('exai-early-');
    const { answers, stderr, code } = await session(
      serverEnv(dir, { extra: { GLM_TIMEOUT_SECS: 'soon' } }),
      [INITIALIZE, INITIALIZED, TOOLS_LIST],
      [1, 2],
    );
    expect(code).toBe(2);
    // The settings are checked while stdin is read, so which comes first is a race: initialize is answered
    // when its line is read before the settings fail (usually, as it is written at spawn), and not otherwise.
    // Nothing after it ever is.
    expect([[], [1]]).toContainEqual(answers.map(a => a.id));
    for (const answer of answers)
      expect(answer).toMatchObject({ result: { serverInfo: { name: 'exai-mcp' } } });
    expect(stderr).toMatch(/GLM_TIMEOUT_SECS="soon" is not a number/);
  });
});
