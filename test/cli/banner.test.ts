import { describe, expect, it } from 'vitest';
import { selfCommand } from '../../src/cli/banner.js';
import { BIN, type HttpProcess, serverEnv, startHttpProcess, workDir } from '../e2e/harness.js';

async function banner(env: (dir: string) => Record<string, string>): Promise<string> {
  const dir = await workDir('exai-banner-');
  let server: HttpProcess | undefined;
  try {
    server = await startHttpProcess(dir, { ...serverEnv(dir), LOG_LEVEL: 'info', ...env(dir.path) });
    // The banner is written in one piece after "listening on"; wait for its last line.
    const deadline = Date.now() + 5_000;
    while (!server.stderr().includes('Stop with Ctrl-C.') && Date.now() < deadline)
      await new Promise(resolve => setTimeout(resolve, 20));
    return server.stderr();
  } finally {
    await server?.stop();
    await dir.cleanup();
  }
}

describe('the HTTP banner', () => {
  it('says a key is set but not checked, and shows the status page, /metrics, the roots and doctor', async () => {
    const text = await banner(() => ({ GLM_API_KEY: 'test-key-glm', LOG_FORMAT: 'text' }));
    const origin = /listening on (http:\/\/127\.0\.0\.1:\d+)\/mcp/.exec(text)?.[1];
    expect(origin).toBeDefined();
    expect(text).toContain('  providers: GLM key set, not checked; Kimi has no key (KIMI_API_KEY)');
    expect(text).not.toMatch(/ready/);
    expect(text).toContain(`  status:    ${origin}/ (live status page)`);
    expect(text).toContain(`  metrics:   ${origin}/metrics (Prometheus)`);
    expect(text).toMatch(/^ {2}roots: {5}\/\S+exai-banner-/m);
    // The working folder is a temporary one, so the script is named by its absolute path.
    expect(text).toContain(`  check:     node ${BIN} doctor (tries each key with one tiny call)`);
    // LOG_FORMAT=text (what a terminal gets by default): log records in words, no JSON among the lines.
    expect(text.split('\n').filter(line => line.trimStart().startsWith('{'))).toEqual([]);
  });

  it('says the status data and /metrics need the token when one is set', async () => {
    const text = await banner(() => ({ EXAI_HTTP_TOKEN: 'a-token-of-enough-length' }));
    expect(text).toMatch(/status: .*\(live status page; its data needs the token\)/);
    expect(text).toMatch(/metrics: .*\/metrics \(Prometheus, with the token\)/);
    expect(text).not.toContain('a-token-of-enough-length');
    // No key here: the note says what still works, workflow steps included.
    expect(text).toContain(
      'listmodels, status, version, challenge and workflow steps before the last\nwork;',
    );
  });
});

describe('the command that runs exai-mcp again', () => {
  it.each([
    ['/usr/local/bin/exai-mcp', '/home/me', 'exai-mcp'],
    ['/home/me/exai-mcp/dist/cli/main.js', '/home/me/exai-mcp', 'node dist/cli/main.js'],
    ['/home/me/exai-mcp/dist/cli/main.js', '/tmp', 'node /home/me/exai-mcp/dist/cli/main.js'],
    ['/home/me/my code/dist/cli/main.js', '/tmp', 'node "/home/me/my code/dist/cli/main.js"'],
  ])('%s run from %s is "%s"', (script, cwd, expected) => {
    expect(selfCommand(script, cwd)).toBe(expected);
  });
});
