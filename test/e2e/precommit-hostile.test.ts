/**
 * precommit on repositories written to attack the server, through the real MCP client: a repository's own
 * configuration names programs for git to run (fsmonitor hook, clean filter, textconv and external diff
 * drivers), or its `.git` leads to a repository outside the allowed folders. None of those programs may run,
 * and nothing outside the roots may be read; ordinary repositories and work trees keep working.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import {
  contentUrl,
  startWorkflowServer,
  tempDir,
  type WorkflowServer,
  walk,
} from '../helpers/workflow-server.js';

const EXPERT_ANSWER = { status: 'validation_complete', summary: 'Fine.', commit_ready: true, issues: [] };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
}

/** A script that leaves `<markers>/<name>.env` (its environment) behind when anything runs it. */
function markerScript(dir: string, markers: string, name: string, tail: string): string {
  const path = join(dir, `${name}.sh`);
  writeFileSync(path, `#!/bin/sh\nenv > '${join(markers, `${name}.env`)}'\n${tail}\n`);
  chmodSync(path, 0o755);
  return path;
}

const step = (extra: Record<string, unknown>) => ({
  step: 'Validate the change before committing.',
  total_steps: 2,
  findings: 'Reading the changes.',
  ...extra,
});

describe('precommit on hostile repositories', () => {
  let fake: FakeProvider;
  let server: WorkflowServer;
  let outside: ReturnType<typeof tempDir>;
  let markers: string;
  const savedKey = process.env.GLM_API_KEY;

  beforeAll(async () => {
    // If a repository's program ran, its environment dump would show whether it saw this.
    process.env.GLM_API_KEY = 'sk-must-never-reach-git';
    fake = await startFakeProvider();
    server = await startWorkflowServer({
      env: { GLM_API_URL: contentUrl(fake.url, JSON.stringify(EXPERT_ANSWER)) },
    });
    outside = tempDir();
    outside.path = realpathSync(outside.path);
    markers = join(outside.path, 'markers');
    mkdirSync(markers);
  });
  afterAll(async () => {
    if (savedKey === undefined) delete process.env.GLM_API_KEY;
    else process.env.GLM_API_KEY = savedKey;
    await server?.close();
    await fake?.close();
    outside?.cleanup();
  });
  beforeEach(() => fake.reset());

  const ranPrograms = () => readdirSync(markers);

  it('runs none of the programs a repository configures, at step 1 or at the final step', async () => {
    const repo = join(realpathSync(server.dir), 'hostile');
    const scripts = join(outside.path, 'scripts');
    mkdirSync(repo);
    mkdirSync(scripts);
    git(repo, 'init', '-q');
    writeFileSync(join(repo, 'app.ts'), 'export const a = 1;\n');
    git(repo, 'add', 'app.ts');
    git(repo, 'commit', '-q', '-m', 'init');
    writeFileSync(join(repo, 'staged.ts'), 'export const s = 1;\n');
    git(repo, 'add', 'staged.ts');
    // Configured after staging, so setting the repository up ran none of them.
    writeFileSync(join(repo, '.gitattributes'), '* filter=evil diff=evil\n');
    const config = (key: string, value: string) => git(repo, 'config', key, value);
    config('core.fsmonitor', markerScript(scripts, markers, 'fsmonitor', 'exit 1'));
    config('filter.evil.clean', markerScript(scripts, markers, 'clean', 'cat'));
    config('filter.evil.smudge', markerScript(scripts, markers, 'smudge', 'cat'));
    config('filter.evil.required', 'true');
    config('diff.evil.textconv', markerScript(scripts, markers, 'textconv', 'cat "$1"'));
    config('diff.evil.command', markerScript(scripts, markers, 'diffcommand', 'exit 0'));
    config('diff.external', markerScript(scripts, markers, 'external', 'exit 0'));
    // An unstaged edit: git must compare work-tree contents with the index.
    writeFileSync(join(repo, 'app.ts'), 'export const a = 2;\n');
    expect(ranPrograms()).toEqual([]);

    const [first, final] = await walk(server, 'precommit', [
      step({ step_number: 1, next_step_required: true, path: repo }),
      step({ step_number: 2, next_step_required: false, findings: 'Done.', confidence: 'high' }),
    ]);

    expect(ranPrograms()).toEqual([]);
    expect(first!.git_changes).toMatchObject({
      staged: [{ status: 'A', path: 'staged.ts' }],
      unstaged: [{ status: 'M', path: 'app.ts' }],
      disabled_filters: ['filter.evil'],
    });
    expect(final!.status).not.toMatch(/error|failed/);
    const prompt = JSON.stringify(fake.requests.map(r => r.body));
    expect(prompt).toContain('=== GIT DIFF (unstaged) ===');
    expect(prompt).toContain('+export const a = 2;');
    expect(prompt).not.toContain('sk-must-never-reach-git');
  });

  it('refuses a folder whose .git file leads to a repository outside the allowed roots', async () => {
    const secret = join(outside.path, 'secret-repo');
    mkdirSync(secret);
    git(secret, 'init', '-q');
    writeFileSync(join(secret, 'credentials.txt'), 'password=hunter2\n');
    git(secret, 'add', 'credentials.txt');
    const decoy = join(realpathSync(server.dir), 'decoy');
    mkdirSync(decoy);
    writeFileSync(join(decoy, '.git'), `gitdir: ${join(secret, '.git')}\n`);

    const { json, result } = await server.call(
      'precommit',
      step({ step_number: 1, next_step_required: true, path: decoy }),
    );

    expect(result.isError).toBe(true);
    expect(String(json.content)).toContain(
      `Cannot check ${decoy}: its .git points to ${join(secret, '.git')}`,
    );
    expect(String(json.content)).toContain('outside the allowed folders');
    expect(JSON.stringify(json)).not.toContain('credentials.txt');
  });

  it('refuses a repository whose configuration includes a file outside the allowed roots', async () => {
    const repo = join(realpathSync(server.dir), 'includes');
    mkdirSync(repo);
    git(repo, 'init', '-q');
    const included = join(outside.path, 'included.gitconfig');
    writeFileSync(included, '[user]\n\tname = x\n');
    git(repo, 'config', 'include.path', included);

    const { json, result } = await server.call(
      'precommit',
      step({ step_number: 1, next_step_required: true, path: repo }),
    );

    expect(result.isError).toBe(true);
    expect(String(json.content)).toContain(
      `its git configuration includes ${included}, outside the allowed folders`,
    );
  });

  it('refuses a repository whose core.worktree puts its work tree somewhere else', async () => {
    const repo = join(realpathSync(server.dir), 'moved-worktree');
    mkdirSync(repo);
    git(repo, 'init', '-q');
    git(repo, 'config', 'core.worktree', outside.path);

    const { json, result } = await server.call(
      'precommit',
      step({ step_number: 1, next_step_required: true, path: repo }),
    );

    expect(result.isError).toBe(true);
    expect(String(json.content)).toContain(
      `Cannot check ${repo}: its repository's work tree is ${outside.path}`,
    );
  });

  it('still reads a linked work tree whose repository is under the allowed roots', async () => {
    const main = join(realpathSync(server.dir), 'main-repo');
    mkdirSync(main);
    git(main, 'init', '-q');
    writeFileSync(join(main, 'a.ts'), 'export const a = 1;\n');
    git(main, 'add', 'a.ts');
    git(main, 'commit', '-q', '-m', 'init');
    const linked = join(realpathSync(server.dir), 'linked');
    git(main, 'worktree', 'add', '-q', '-b', 'feature', linked);
    writeFileSync(join(linked, 'a.ts'), 'export const a = 3;\n');

    const { json, result } = await server.call(
      'precommit',
      step({ step_number: 1, next_step_required: true, path: linked }),
    );

    expect(result.isError).toBeFalsy();
    expect(json.git_changes).toMatchObject({
      repository: linked,
      branch: 'feature',
      unstaged: [{ status: 'M', path: 'a.ts' }],
    });
  });

  it('still reads a submodule, and its superproject, when both are under the allowed roots', async () => {
    const upstream = join(realpathSync(server.dir), 'lib-upstream');
    mkdirSync(upstream);
    git(upstream, 'init', '-q');
    writeFileSync(join(upstream, 'lib.ts'), 'export const lib = 1;\n');
    git(upstream, 'add', 'lib.ts');
    git(upstream, 'commit', '-q', '-m', 'lib');
    const superproject = join(realpathSync(server.dir), 'superproject');
    mkdirSync(superproject);
    git(superproject, 'init', '-q');
    git(superproject, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', upstream, 'lib');
    const sub = join(superproject, 'lib');
    writeFileSync(join(sub, 'lib.ts'), 'export const lib = 2;\n');

    const inSub = await server.call(
      'precommit',
      step({ step_number: 1, next_step_required: true, path: sub }),
    );
    expect(inSub.result.isError).toBeFalsy();
    expect(inSub.json.git_changes).toMatchObject({
      repository: sub,
      unstaged: [{ status: 'M', path: 'lib.ts' }],
    });
    const inSuper = await server.call(
      'precommit',
      step({ step_number: 1, next_step_required: true, path: superproject }),
    );
    expect(inSuper.result.isError).toBeFalsy();
    expect(inSuper.json.git_changes).toMatchObject({
      repository: superproject,
      staged: expect.arrayContaining([{ status: 'A', path: 'lib' }]),
    });
  });

  it('says a folder is not a git repository, naming the folder', async () => {
    const plain = join(realpathSync(server.dir), 'plain');
    mkdirSync(plain);

    const { json, result } = await server.call(
      'precommit',
      step({ step_number: 1, next_step_required: true, path: plain }),
    );

    expect(result.isError).toBe(true);
    expect(String(json.content)).toMatch(
      new RegExp(
        `^Cannot check ${plain}: it is not in a git repository \\(no \\.git in it or in any folder above it\\)`,
      ),
    );
    expect(String(json.content)).not.toMatch(/fatal:/);

    const another = join(realpathSync(server.dir), 'another');
    mkdirSync(another);
    git(another, 'init', '-q');
    const inGitDir = join(another, '.git');
    const bare = await server.call(
      'precommit',
      step({ step_number: 1, next_step_required: true, path: inGitDir }),
    );
    expect(bare.result.isError).toBe(true);
    expect(String(bare.json.content)).toBe(
      `Cannot check ${inGitDir}: git found no work tree for it (a bare repository, or a folder inside .git)`,
    );
  });

  it('gives git none of the server environment: no provider keys', async () => {
    expect(existsSync(markers)).toBe(true);
    const { gitEnvironment } = await import('../../src/workflow/git.js');
    const env = gitEnvironment();
    expect(Object.values(env)).not.toContain('sk-must-never-reach-git');
    expect(Object.keys(env).sort()).toEqual(
      expect.arrayContaining(['GIT_CONFIG_GLOBAL', 'GIT_CONFIG_NOSYSTEM', 'HOME', 'PATH']),
    );
    expect(Object.keys(env).filter(k => /KEY|TOKEN|SECRET|PASSWORD|URL/i.test(k))).toEqual([]);
  });
});
