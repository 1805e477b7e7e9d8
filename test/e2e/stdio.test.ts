/**
 * The built binary over stdio, driven by the real MCP client, against the fake provider: every tool,
 * threads, files, progress, cancellation, deadlines, errors, and a stdout that carries only JSON-RPC.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import {
  assertBuilt,
  FAKE,
  fakeAndWorkDir,
  outputOf,
  reportOf,
  serverEnv,
  stopChild,
  upstreamActive,
  type WorkDir,
  workDir,
} from './harness.js';
import { RecordingStdioTransport } from './stdio-transport.js';

const SECRETS = ['test-key-glm-secret', 'test-key-kimi-secret'];

interface ChatBody {
  messages: Array<{ role: string; content: string }>;
}
const SIMPLE_TOOLS = ['chat', 'challenge', 'listmodels', 'status', 'version'];

async function connect(dir: WorkDir, env: Record<string, string>) {
  const transport = new RecordingStdioTransport({ env, cwd: dir.path });
  const client = new Client({ name: 'e2e-stdio', version: '0' });
  try {
    await client.connect(transport);
  } catch (error) {
    await transport.close();
    throw new Error(`the server did not start: ${(error as Error).message}\nstderr: ${transport.stderr}`);
  }
  return { client, transport };
}

describe('stdio server with both providers configured', () => {
  let fake: FakeProvider;
  let dir: WorkDir;
  let client: Client;
  let transport: RecordingStdioTransport;

  beforeAll(async () => {
    assertBuilt();
    fake = await startFakeProvider();
    dir = await workDir();
    await writeFile(join(dir.path, 'notes.md'), '# Notes\nThe cache is keyed by user id.\n');
    await writeFile(join(dir.path, 'blob.bin'), Buffer.from([0x89, 0x50, 0x00, 0x01, 0x02]));
    ({ client, transport } = await connect(dir, serverEnv(dir, { fakeUrl: fake.url })));
  });

  afterAll(async () => {
    await client?.close();
    await fake?.close();
    await dir?.cleanup();
  });

  it('lists its tools in a fixed order, without output schemas (structuredContent needs none)', async () => {
    const { tools } = await client.listTools();
    // The simple tools come first; workflow tools follow them. The order never changes between listings.
    expect(tools.slice(0, 5).map(t => t.name)).toEqual(SIMPLE_TOOLS);
    expect((await client.listTools({}, { cacheMode: 'bypass' })).tools.map(t => t.name)).toEqual(
      tools.map(t => t.name),
    );
    for (const tool of tools) expect(tool.outputSchema).toBeUndefined();
    const chat = tools[0]!;
    expect(Object.keys(chat.inputSchema.properties ?? {})).toEqual([
      'prompt',
      'files',
      'images',
      'model',
      'temperature',
      'thinking_mode',
      'use_websearch',
      'continuation_id',
    ]);
    expect(chat.inputSchema.required).toEqual(['prompt']);
  });

  it('answers chat with a ToolOutput and a continuation offer', async () => {
    const result = await client.callTool({ name: 'chat', arguments: { prompt: 'is this design sound?' } });
    expect(result.isError).toBeFalsy();
    const output = outputOf(result);
    expect(output.status).toBe('continuation_available');
    expect(output.content).toBe('echo: is this design sound?');
    expect(output.content_type).toBe('text');
    expect(output.metadata).toMatchObject({
      tool_name: 'chat',
      model_used: 'glm-4.7',
      provider_used: 'glm',
    });
    expect(output.continuation_offer?.continuation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(output.continuation_offer?.remaining_turns).toBe(18);
  });

  it('continues a thread: history and files come along, each file embedded once', async () => {
    const notes = join(dir.path, 'notes.md');
    const first = outputOf(
      await client.callTool({ name: 'chat', arguments: { prompt: 'look at the notes', files: [notes] } }),
    );
    const id = first.continuation_offer?.continuation_id;
    expect(first.content).toContain(`--- BEGIN FILE: ${notes} ---`);
    const second = outputOf(
      await client.callTool({
        name: 'chat',
        arguments: { prompt: 'and now?', files: [notes], continuation_id: id },
      }),
    );
    // The second request is the first one, then its answer, then the new question; the file is embedded
    // once, where the first turn brought it, not again with the new question. (The fake echoes whole prompts,
    // so the first answer quotes the file too; that is the answer, not an embedding.)
    const [firstBody, secondBody] = fake.requests.slice(-2).map(r => r.body as ChatBody);
    expect(secondBody!.messages.slice(0, 2)).toEqual(firstBody!.messages);
    expect(secondBody!.messages.map(m => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    const userTexts = secondBody!.messages.filter(m => m.role === 'user').map(m => m.content);
    expect(userTexts.join('\n').split(`--- BEGIN FILE: ${notes} ---`)).toHaveLength(2);
    expect(userTexts[0]).toMatch(/^--- BEGIN FILE: .*notes\.md ---\n {3}1│ # Notes\n {3}2│ /);
    expect(userTexts[0]).toContain('look at the notes');
    expect(userTexts[1]).toMatch(/^and now\?\n/);
    expect(userTexts[1]).not.toContain('BEGIN FILE');
    expect(second.continuation_offer?.continuation_id).toBe(id);
    expect(second.continuation_offer?.remaining_turns).toBe(16);
  });

  it('answers challenge, listmodels, status and version without calling a model or showing a key', async () => {
    const before = fake.requests.length;
    const challenge = outputOf(
      await client.callTool({ name: 'challenge', arguments: { prompt: 'You are wrong about X' } }),
    );
    expect(challenge.content_type).toBe('json');
    expect(JSON.parse(challenge.content ?? '')).toMatchObject({
      status: 'challenge_accepted',
      original_statement: 'You are wrong about X',
    });
    expect(JSON.parse(challenge.content ?? '').challenge_prompt).toContain('CRITICAL REASSESSMENT');

    const listed = reportOf(await client.callTool({ name: 'listmodels', arguments: {} }));
    expect(listed.text).toMatch(/^# Models\n/);
    expect(listed.text).toMatch(/\| glm-4\.5-flash \| glm \| [^|]* \| yes \|/);
    const models = listed.data;
    expect(
      models.providers.map((p: { name: string; configured: boolean }) => [p.name, p.configured]),
    ).toEqual([
      ['glm', true],
      ['kimi', true],
    ]);
    expect(models.models.find((m: { name: string }) => m.name === 'glm-4.7-flash')).toMatchObject({
      aliases: ['flash'],
      available: true,
      vision: false,
    });

    const reported = reportOf(await client.callTool({ name: 'status', arguments: {} }));
    expect(reported.text).toMatch(/^# Provider status\n/);
    expect(reported.text).toContain('breaker closed');
    const status = reported.data;
    const glm = status.providers.find((p: { provider: string }) => p.provider === 'glm');
    expect(glm).toMatchObject({ configured: true, breaker: { state: 'closed' } });
    expect(glm.calls).toBeGreaterThan(0);
    expect(glm.latency_ms).toHaveProperty('p95');
    expect(status.deadlines).toMatchObject({ glm_timeout_secs: 300, progress_interval_secs: 0.2 });

    const versionResult = await client.callTool({ name: 'version', arguments: {} });
    const { text: versionText, data: version } = reportOf(versionResult);
    expect(versionText).toMatch(/^# exai-mcp \d+\.\d+\.\d+/);
    expect(versionText).toContain('GLM_API_KEY = "set (redacted)" (env)');
    expect(version).toMatchObject({ name: 'exai-mcp', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(version.config.find((c: { env: string }) => c.env === 'GLM_API_KEY')).toMatchObject({
      value: 'set (redacted)',
      source: 'env',
    });
    for (const secret of SECRETS) expect(JSON.stringify(versionResult)).not.toContain(secret);
    expect(fake.requests.length).toBe(before);
  });

  it('refuses bad arguments, unknown tools, unknown models and unreadable files with clear errors', async () => {
    const bad = await client.callTool({ name: 'chat', arguments: { prompt: 42 } });
    expect(bad.isError).toBe(true);
    expect(JSON.stringify(bad.content)).toMatch(/prompt/);

    await expect(client.callTool({ name: 'nope', arguments: {} })).rejects.toThrow(/nope/);

    const model = await client.callTool({ name: 'chat', arguments: { prompt: 'hi', model: 'gpt-17' } });
    expect(model.isError).toBe(true);
    expect(outputOf(model)).toMatchObject({ status: 'error', metadata: { error_kind: 'bad_request' } });
    expect(outputOf(model).content).toMatch(/Unknown model "gpt-17".*glm-4\.6/);

    const files = await client.callTool({
      name: 'chat',
      arguments: {
        prompt: 'hi',
        files: ['relative.md', '/etc/hostname', join(dir.path, 'blob.bin'), join(dir.path, 'gone.md')],
      },
    });
    expect(files.isError).toBe(true);
    const text = outputOf(files).content ?? '';
    expect(text).toMatch(/relative\.md: not an absolute path/);
    expect(text).toMatch(/\/etc\/hostname: outside the allowed folders/);
    expect(text).toMatch(/blob\.bin: looks binary/);
    expect(text).toMatch(/gone\.md: does not exist/);
    expect(text).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('sends progress notifications, strictly increasing, while a slow call runs', async () => {
    const seen: Array<{ progress: number; message?: string | undefined }> = [];
    const result = await client.callTool(
      { name: 'chat', arguments: { prompt: 'slowly', model: FAKE.slow } },
      { onprogress: p => seen.push(p), timeout: 30_000, resetTimeoutOnProgress: true },
    );
    expect(result.isError).toBeFalsy();
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
    expect(seen.at(-1)?.message).toMatch(/chat · fake-slow.*elapsed/);
  });

  it('a cancel closes the upstream request and stores nothing for the cancelled turn', async () => {
    const first = outputOf(await client.callTool({ name: 'chat', arguments: { prompt: 'remember me' } }));
    const id = first.continuation_offer?.continuation_id;
    const controller = new AbortController();
    const call = client.callTool(
      { name: 'chat', arguments: { prompt: 'this will hang', model: FAKE.hang, continuation_id: id } },
      { signal: controller.signal },
    );
    const rejected = expect(call).rejects.toThrow();
    await upstreamActive(fake);
    controller.abort('user pressed stop');
    await rejected;
    await fake.waitForActive(0, 5_000);

    const after = outputOf(
      await client.callTool({ name: 'chat', arguments: { prompt: 'still there?', continuation_id: id } }),
    );
    // The thread holds the first exchange only: the question is its third turn, and the hung one is not there.
    expect(after.content).toContain('(Turn 3/20)');
    const body = fake.requests.at(-1)?.body as ChatBody;
    expect(body.messages.map(m => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(JSON.stringify(body.messages)).not.toContain('this will hang');
  });

  it('writes nothing but JSON-RPC to stdout', () => {
    expect(transport.stdoutLines.length).toBeGreaterThan(10);
    expect(transport.badLines).toEqual([]);
  });
});

describe('stdio server deadlines', () => {
  let fake: FakeProvider;
  let dir: WorkDir;
  let client: Client;

  beforeAll(async () => {
    assertBuilt();
    fake = await startFakeProvider();
    dir = await workDir();
    ({ client } = await connect(
      dir,
      serverEnv(dir, {
        fakeUrl: fake.url,
        extra: {
          GLM_TIMEOUT_SECS: '1',
          KIMI_TIMEOUT_SECS: '1',
          EXPERT_ANALYSIS_TIMEOUT_SECS: '2',
          WORKFLOW_TOOL_TIMEOUT_SECS: '3',
        },
      }),
    ));
  });

  afterAll(async () => {
    await client?.close();
    await fake?.close();
    await dir?.cleanup();
  });

  it('a hanging provider ends in a timeout error at the deadline, not a hang', async () => {
    const started = performance.now();
    const result = await client.callTool({ name: 'chat', arguments: { prompt: 'hang', model: FAKE.hang } });
    const ms = performance.now() - started;
    expect(result.isError).toBe(true);
    const output = outputOf(result);
    expect(output.metadata).toMatchObject({ error_kind: 'timeout', model_used: FAKE.hang });
    expect(output.content).toMatch(/timed out after 1(\.0)? s/);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(10_000);
    await fake.waitForActive(0, 5_000);
  });
});

describe('stdio server without API keys', () => {
  let dir: WorkDir;
  let client: Client;

  beforeAll(async () => {
    assertBuilt();
    dir = await workDir();
    ({ client } = await connect(dir, serverEnv(dir)));
  });

  afterAll(async () => {
    await client?.close();
    await dir?.cleanup();
  });

  it('starts, serves the tools that need no model, and names the variables to set for chat', async () => {
    for (const name of ['listmodels', 'status', 'version']) {
      const result = await client.callTool({ name, arguments: {} });
      expect(result.isError, name).toBeFalsy();
    }
    const challenge = await client.callTool({ name: 'challenge', arguments: { prompt: 'surely not' } });
    expect(challenge.isError).toBeFalsy();
    const chat = await client.callTool({ name: 'chat', arguments: { prompt: 'hello' } });
    expect(chat.isError).toBe(true);
    const output = outputOf(chat);
    expect(output.metadata.error_kind).toBe('not_configured');
    expect(output.content).toMatch(/GLM_API_KEY/);
    expect(output.content).toMatch(/KIMI_API_KEY/);
  });
});

describe('stdio server shutdown', () => {
  const ctx = fakeAndWorkDir();

  async function hangingCall() {
    const { client, transport } = await connect(
      ctx.dir,
      serverEnv(ctx.dir, { fakeUrl: ctx.fake.url, store: 'sqlite' }),
    );
    const call = client.callTool({ name: 'chat', arguments: { prompt: 'hang', model: FAKE.hang } });
    const settled = call.then(
      result => result,
      (error: Error) => error,
    );
    await upstreamActive(ctx.fake);
    return { client, transport, settled };
  }

  it('the client closing stdin mid-call aborts the upstream call and the server exits 0', async () => {
    const { client, transport } = await hangingCall();
    const started = performance.now();
    await client.close();
    expect(transport.child.exitCode).toBe(0);
    expect(performance.now() - started).toBeLessThan(5_000);
    await ctx.fake.waitForActive(0, 5_000);
  });

  it('SIGTERM answers the call in flight with a clear error, closes upstream and exits within seconds', async () => {
    const { client, transport, settled } = await hangingCall();
    const started = performance.now();
    const code = await stopChild(transport.child, 'SIGTERM', 8_000);
    expect(code).toBe(0);
    expect(performance.now() - started).toBeLessThan(6_000);
    await ctx.fake.waitForActive(0, 5_000);
    const result = await settled;
    if (result instanceof Error) throw result;
    expect(result.isError).toBe(true);
    expect(outputOf(result).content).toMatch(/shutting down/);
    await client.close().catch(() => {});
  });
});
