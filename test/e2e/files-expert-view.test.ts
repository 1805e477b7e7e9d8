/**
 * What files look like to the expert, through the real MCP client with pal's and EXAI's field names: numbered
 * lines, folders standing for their files, chat's resend_prompt and prompt.txt, files outside the allowed
 * roots refused at the step that names them, and precommit's untracked files. The fake provider records
 * every request, so each test reads what the model was actually sent.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
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

const EXPERT_ANSWER = { status: 'analysis_complete', summary: 'Looks sound.' };
const SECRET = 'sk-outside-secret-5521';
const DOTENV_SECRET = 'dotenv-secret-7730';

type Body = { messages: Array<{ role: string; content: string }> };

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, stdio: 'ignore' });
}

describe('files as the expert sees them', () => {
  let fake: FakeProvider;
  let server: WorkflowServer;
  let outside: ReturnType<typeof tempDir>;
  let project: string;
  let session: string;

  /** Every user message the fake received, joined: what the model read. */
  const sent = () =>
    fake.requests
      .flatMap(r => (r.body as Body).messages.filter(m => m.role === 'user').map(m => m.content))
      .join('\n');

  beforeAll(async () => {
    fake = await startFakeProvider();
    server = await startWorkflowServer({
      env: {
        GLM_API_URL: contentUrl(fake.url, JSON.stringify(EXPERT_ANSWER)),
        EXAI_MAX_FILE_BYTES: '4000',
      },
    });
    outside = tempDir();
    write(join(outside.path, 'key.txt'), `${SECRET}\n`);
    project = join(server.dir, 'project');
    session = write(
      join(project, 'src', 'session.ts'),
      "import { tenantOf } from './tenant';\n\nexport const key = (user: string) => 'session:' + user;\n",
    );
    write(join(project, 'src', 'lib', 'tenant.ts'), 'export const tenantOf = (id: string) => id;\n');
    write(join(project, 'src', 'big.ts'), `// ${'x'.repeat(5_000)}\n`);
    write(join(project, 'README.md'), '# Project\n');
    write(join(project, 'node_modules', 'dep', 'index.js'), 'module.exports = "vendored";\n');
    write(join(project, 'dist', 'session.js'), 'exports.key = "built";\n');
    write(join(project, '.cache', 'state.ts'), 'export const hidden = "hidden-state";\n');
    writeFileSync(join(project, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
    outside?.cleanup();
  });
  beforeEach(() => fake.reset());

  describe('line numbers', () => {
    it('codereview embeds relevant_files with numbered lines (  45│ code) for the expert to cite', async () => {
      const [, final] = await walk(server, 'codereview', [
        {
          step: 'Review the session key builder.',
          step_number: 1,
          total_steps: 2,
          next_step_required: true,
          findings: 'Starting with session.ts.',
          relevant_files: [session],
          review_type: 'security',
        },
        {
          step: 'Reviewed.',
          step_number: 2,
          total_steps: 2,
          next_step_required: false,
          findings: 'The key omits the tenant.',
          relevant_files: [session],
          confidence: 'high',
        },
      ]);
      expect(final).toMatchObject({ status: 'calling_expert_analysis', expert_analysis: EXPERT_ANSWER });
      expect(sent()).toContain(
        `--- BEGIN FILE: ${session} ---\n` +
          "   1│ import { tenantOf } from './tenant';\n" +
          '   2│ \n' +
          "   3│ export const key = (user: string) => 'session:' + user;\n" +
          `--- END FILE: ${session} ---`,
      );
      expect((fake.requests[0]!.body as Body).messages[0]!.content).toContain('cite code as path:line');
    });

    it('chat numbers the lines of its files too', async () => {
      const { json } = await server.call('chat', { prompt: 'Is this key safe?', files: [session] });
      expect(json.status).toBe('continuation_available');
      expect(sent()).toContain(`--- BEGIN FILE: ${session} ---\n   1│ import { tenantOf }`);
    });
  });

  describe('a folder stands for its text files', () => {
    it('analyze expands a folder in relevant_files, skipping hidden, vendor, build and binary files', async () => {
      const [first, final] = await walk(server, 'analyze', [
        {
          step: 'Assess the project layout.',
          step_number: 1,
          total_steps: 2,
          next_step_required: true,
          findings: 'Looking at the whole project.',
          relevant_files: [project],
          analysis_type: 'architecture',
        },
        {
          step: 'Done.',
          step_number: 2,
          total_steps: 2,
          next_step_required: false,
          findings: 'Small project, one module.',
          relevant_files: [project],
          confidence: 'high',
        },
      ]);
      expect(first!.status).toBe('pause_for_analysis');
      const bigFile = join(project, 'src', 'big.ts');
      expect(final!.file_context).toMatchObject({
        type: 'fully_embedded',
        files_embedded: 3,
        folders_expanded: [{ path: project, files: 4 }],
        files_skipped: [
          {
            path: bigFile,
            reason: expect.stringContaining('over the per-file limit EXAI_MAX_FILE_BYTES=4000'),
          },
        ],
      });
      const prompt = sent();
      // Files of a folder before its subfolders, each level in name order.
      const order = [join(project, 'README.md'), session, join(project, 'src', 'lib', 'tenant.ts')].map(p =>
        prompt.indexOf(`--- BEGIN FILE: ${p} ---`),
      );
      expect(order.every(i => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      for (const hidden of ['vendored', 'built', 'hidden-state', 'logo.png'])
        expect(prompt).not.toContain(hidden);
      expect(prompt).toContain(`- ${bigFile}: `);
    });

    it('chat reads a folder in files and says what it expanded and left out', async () => {
      const { json, result } = await server.call('chat', {
        prompt: 'Summarise',
        files: [join(project, 'src')],
      });
      expect(result.isError).toBeFalsy();
      const metadata = json.metadata as Record<string, unknown>;
      expect(metadata.files).toEqual([session, join(project, 'src', 'lib', 'tenant.ts')]);
      expect(metadata.files_expanded).toEqual([{ path: join(project, 'src'), files: 3 }]);
      expect(metadata.files_omitted).toEqual([
        { path: join(project, 'src', 'big.ts'), reason: expect.stringContaining('EXAI_MAX_FILE_BYTES') },
      ]);
    });

    it('a folder never leads out of the roots or into a FIFO: links are not followed, only regular files read', async () => {
      const hostile = join(server.dir, 'hostile');
      write(join(hostile, 'ok.ts'), 'export const ok = true;\n');
      symlinkSync(join(outside.path, 'key.txt'), join(hostile, 'key-link.ts'));
      symlinkSync(outside.path, join(hostile, 'outside-dir'));
      execFileSync('mkfifo', [join(hostile, 'pipe.ts')]);
      const started = performance.now();
      const { json, result } = await server.call('chat', { prompt: 'Summarise', files: [hostile] });
      expect(result.isError).toBeFalsy();
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(json.metadata).toMatchObject({
        files: [join(hostile, 'ok.ts')],
        files_expanded: [{ path: hostile, files: 1 }],
      });
      expect(sent()).not.toContain(SECRET);
    });

    it('a folder larger than EXAI_MAX_REQUEST_FILES is listed up to the cap, and the answer says so', async () => {
      const capped = await startWorkflowServer({
        env: {
          GLM_API_URL: contentUrl(fake.url, 'ok'),
          EXAI_MAX_REQUEST_FILES: '3',
        },
      });
      try {
        const many = join(capped.dir, 'many');
        for (let i = 0; i < 6; i++) write(join(many, `f${i}.ts`), `export const v${i} = ${i};\n`);
        const { json } = await capped.call('chat', { prompt: 'Summarise', files: [many] });
        const metadata = json.metadata as Record<string, unknown>;
        expect(metadata.files).toEqual([0, 1, 2].map(i => join(many, `f${i}.ts`)));
        expect(metadata.files_expanded).toEqual([
          { path: many, files: 3, stopped: expect.stringContaining('EXAI_MAX_REQUEST_FILES') },
        ]);
      } finally {
        await capped.close();
      }
    });
  });

  describe('chat: big prompts', () => {
    it('answers resend_prompt for a prompt over 100 000 characters, without calling the model', async () => {
      const { json, result } = await server.call('chat', { prompt: 'x'.repeat(100_001) });
      expect(result.isError).toBe(true);
      expect(json).toMatchObject({
        status: 'resend_prompt',
        content_type: 'text',
        metadata: { tool_name: 'chat', prompt_size: 100_001, limit: 100_000 },
      });
      expect(String(json.content)).toContain('prompt.txt');
      expect(fake.requests).toHaveLength(0);
    });

    it('takes an empty prompt from a prompt.txt among the files (pal), which is then not embedded', async () => {
      const promptFile = write(join(project, 'prompt.txt'), 'Does session.ts isolate tenants?\n');
      const { json } = await server.call('chat', { prompt: '', files: [promptFile, session] });
      expect(json.status).toBe('continuation_available');
      expect(json.metadata).toMatchObject({ prompt_file: promptFile, files: [session] });
      const last = (fake.requests[0]!.body as Body).messages.at(-1)!.content;
      expect(last).toContain('Does session.ts isolate tenants?');
      expect(last).not.toContain(`BEGIN FILE: ${promptFile}`);
      expect(last).toContain(`BEGIN FILE: ${session}`);
    });

    it('refuses an empty prompt without a prompt.txt, saying how to send one', async () => {
      const { json, result } = await server.call('chat', { prompt: ' ', files: [session] });
      expect(result.isError).toBe(true);
      expect(String(json.content)).toMatch(/prompt is empty: .*prompt\.txt/);
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('files outside the allowed roots', () => {
    it('are refused at the step that names them, naming the file and EXAI_ALLOWED_ROOTS', async () => {
      const key = join(outside.path, 'key.txt');
      const { json: first } = await server.call('debug', {
        step: 'Why do sessions leak?',
        step_number: 1,
        total_steps: 2,
        next_step_required: true,
        findings: 'Reproduced.',
      });
      const id = first.continuation_id as string;
      const { json, result } = await server.call('debug', {
        step: 'Read the key file.',
        step_number: 2,
        total_steps: 2,
        next_step_required: true,
        findings: 'It holds the signing key.',
        relevant_files: [session, key],
        continuation_id: id,
      });
      expect(result.isError).toBe(true);
      expect(String(json.content)).toContain(`relevant_files: ${key}: outside the allowed folders`);
      expect(String(json.content)).toContain('EXAI_ALLOWED_ROOTS');
      // The refused step was not recorded: sent again without the file, it is step 2 of the same thread.
      const { json: again } = await server.call('debug', {
        step: 'Read the session code instead.',
        step_number: 2,
        total_steps: 2,
        next_step_required: false,
        findings: 'The key omits the tenant.',
        relevant_files: [session],
        continuation_id: id,
      });
      expect(again).toMatchObject({ status: 'calling_expert_analysis', continuation_id: id });
      expect((again.complete_investigation as { steps_taken: number }).steps_taken).toBe(2);
      expect(sent()).not.toContain(SECRET);
    });

    it('refactor refuses style_guide_examples outside the roots at step 1, before any thread exists', async () => {
      const { json, result } = await server.call('refactor', {
        step: 'Find refactorings.',
        step_number: 1,
        total_steps: 1,
        next_step_required: true,
        findings: 'Start.',
        style_guide_examples: [join(outside.path, 'key.txt')],
      });
      expect(result.isError).toBe(true);
      expect(String(json.content)).toContain(`style_guide_examples: ${join(outside.path, 'key.txt')}`);
      expect(json.continuation_id).toBeUndefined();
    });
  });

  describe('precommit', () => {
    it('sends untracked files to the expert, through the file policy, and leaves ignored ones out', async () => {
      const repo = join(server.dir, 'repo');
      write(join(repo, 'app.ts'), 'export const a = 1;\n');
      write(join(repo, '.gitignore'), 'ignored.ts\n');
      git(repo, 'init', '-q');
      git(repo, 'add', 'app.ts', '.gitignore');
      git(repo, 'commit', '-q', '-m', 'init');
      write(join(repo, 'app.ts'), "export const a = 2;\nexport { feature } from './feature';\n");
      git(repo, 'add', 'app.ts');
      const feature = write(join(repo, 'feature.ts'), 'export const feature = () => "new-feature-body";\n');
      write(join(repo, 'ignored.ts'), 'export const ignored = "ignored-body";\n');
      const huge = write(join(repo, 'generated.ts'), `// ${'g'.repeat(5_000)}\n`);
      write(join(repo, '.env.local'), `TOKEN=${DOTENV_SECRET}\n`);
      symlinkSync(join(outside.path, 'key.txt'), join(repo, 'leak.txt'));

      const [first, final] = await walk(server, 'precommit', [
        {
          step: 'Validate the feature before committing.',
          step_number: 1,
          total_steps: 2,
          next_step_required: true,
          findings: 'A new feature module and its export.',
          path: repo,
        },
        {
          step: 'Checked the change.',
          step_number: 2,
          total_steps: 2,
          next_step_required: false,
          findings: 'The export matches the new module.',
          relevant_files: [join(repo, 'app.ts')],
          confidence: 'high',
        },
      ]);
      expect((first!.git_changes as { untracked: string[] }).untracked).toEqual(
        expect.arrayContaining(['feature.ts', 'leak.txt']),
      );
      expect(final!.status).toBe('calling_expert_analysis');
      const prompt = sent();
      expect(prompt).toContain('=== UNTRACKED FILES (new, not yet added to git) ===');
      expect(prompt).toContain(
        `--- BEGIN FILE: ${feature} ---\n   1│ export const feature = () => "new-feature-body";\n`,
      );
      expect(prompt).toMatch(new RegExp(`- ${join(repo, 'leak.txt')}: outside the allowed folders`));
      expect(prompt).toMatch(new RegExp(`- ${join(repo, '.env.local')}: a secret file by name`));
      expect(prompt).toContain(`- ${huge}: 5004 bytes, over the per-file limit EXAI_MAX_FILE_BYTES=4000`);
      for (const hidden of [SECRET, DOTENV_SECRET, 'ignored-body']) expect(prompt).not.toContain(hidden);
      // app.ts is a relevant file: embedded once, with the relevant files.
      expect(prompt.split(`--- BEGIN FILE: ${join(repo, 'app.ts')} ---`)).toHaveLength(2);
    });
  });
});
