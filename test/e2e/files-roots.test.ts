/**
 * Which folders the built server shares when EXAI_ALLOWED_ROOTS is unset or wrong, seen through the CLI
 * (doctor, the HTTP banner) and the real MCP client: never / or the home folder by default, never the .env
 * the keys came from, and a clear word about a mis-separated setting.
 */
import { spawn } from 'node:child_process';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import { chat, connectHttp, leaks } from './files-fixtures.js';
import { assertBuilt, BIN, exited, serverEnv, startHttpProcess, type WorkDir, workDir } from './harness.js';

const DOTENV_KEY = 'test-key-from-dotenv-4411';

/** The harness environment without the settings these tests leave unset. */
function envWithout(dir: WorkDir, fake: FakeProvider | undefined, drop: string[], extra = {}) {
  const env = serverEnv(dir, { ...(fake && { fakeUrl: `${fake.url}/mode/ok,content=done` }), extra });
  for (const name of drop) delete env[name];
  return env;
}

async function doctor(cwd: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'doctor', '--offline', '--json'], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', d => {
    stdout += d;
  });
  const code = await exited(child);
  const report = JSON.parse(stdout) as { checks: Array<{ name: string; status: string; detail: string }> };
  return { code, roots: report.checks.find(c => c.name === 'allowed roots') };
}

describe('allowed roots by default and when mis-set', () => {
  let fake: FakeProvider;
  let home: WorkDir;
  let project: WorkDir;

  beforeAll(async () => {
    assertBuilt();
    fake = await startFakeProvider();
    home = await workDir('exai-home-');
    project = await workDir('exai-project-');
    await writeFile(join(project.path, '.env'), `GLM_API_KEY=${DOTENV_KEY}\n`);
    await symlink(join(project.path, '.env'), join(project.path, 'settings.txt'));
    await writeFile(join(project.path, 'notes.md'), 'project notes\n');
  });

  afterAll(async () => {
    await fake?.close();
    await home?.cleanup();
    await project?.cleanup();
  });

  it('doctor fails the roots check in the home folder with EXAI_ALLOWED_ROOTS unset, saying how to set it', async () => {
    const { code, roots } = await doctor(home.path, envWithout(home, fake, ['EXAI_ALLOWED_ROOTS']));
    expect(code).toBe(1);
    expect(roots?.status).toBe('fail');
    expect(roots?.detail).toMatch(/working directory .* is the home folder.*no folder is shared/);
    expect(roots?.detail).toContain('EXAI_ALLOWED_ROOTS=/path/to/project');
  });

  it("doctor says roots are separated by ':' when given a comma-separated list", async () => {
    const env = envWithout(home, fake, [], { EXAI_ALLOWED_ROOTS: `${project.path},${home.path}` });
    const { code, roots } = await doctor(home.path, env);
    expect(code).toBe(1);
    expect(roots?.detail).toContain("roots are separated by ':', not ','");
  });

  it('a server started in the home folder shares nothing, says so in its banner, and every file request says how to share', async () => {
    const server = await startHttpProcess(home, envWithout(home, fake, ['EXAI_ALLOWED_ROOTS']));
    try {
      expect(server.stderr()).toContain('roots:     no folder shared (set EXAI_ALLOWED_ROOTS)');
      const client = await connectHttp(server.url);
      try {
        const result = await chat(client, { files: [join(home.path, 'models.json')] });
        expect(result.isError).toBe(true);
        expect(result.output.metadata.error_kind).toBe('bad_request');
        expect(result.output.content).toMatch(/^Cannot read files: no folder is shared with this server\./);
        expect(result.output.content).toContain('Set EXAI_ALLOWED_ROOTS');
        // Tools without files still work.
        expect((await chat(client, {})).isError).toBe(false);
      } finally {
        await client.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('a server started in a project folder shares it, but never the .env its keys came from', async () => {
    // HOME elsewhere, keys only in the project's .env, and even the deny list switched off.
    const env = envWithout(project, fake, ['EXAI_ALLOWED_ROOTS', 'GLM_API_KEY', 'KIMI_API_KEY'], {
      HOME: home.path,
      EXAI_DENIED_FILES: 'none',
    });
    const server = await startHttpProcess(project, env);
    try {
      expect(server.stderr()).toContain(`roots:     ${project.path}`);
      const client = await connectHttp(server.url);
      try {
        fake.reset();
        const secret = await chat(client, {
          files: [join(project.path, '.env'), join(project.path, 'settings.txt')],
        });
        expect(secret.isError).toBe(true);
        expect(secret.output.content).toContain('.env: the .env file holding this server’s settings');
        expect(secret.output.content).toContain('settings.txt: the .env file holding this server’s settings');
        expect(secret.output.content).not.toContain(DOTENV_KEY);
        const notes = await chat(client, { files: [join(project.path, 'notes.md')] });
        expect(notes.isError).toBe(false);
        expect(leaks(fake, [DOTENV_KEY])).toEqual([]);
        expect(fake.requests.length).toBe(1);
      } finally {
        await client.close();
      }
    } finally {
      await server.stop();
    }
  });
});
