/**
 * What a host sees besides the tools, through the real MCP client over stdio and HTTP: the instructions,
 * the prompts (slash commands), the resources (threads, models), and the tool choice of EXAI_TOOLS /
 * EXAI_DISABLED_TOOLS with its startup error for unknown names.
 */
import { spawn } from 'node:child_process';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  exited,
  fakeAndWorkDir,
  type HttpProcess,
  outputOf,
  serverEnv,
  startHttpProcess,
} from './harness.js';
import { RecordingStdioTransport } from './stdio-transport.js';

const COMPACT = [
  'chat',
  'listmodels',
  'status',
  'thinkdeep',
  'debug',
  'codereview',
  'planner',
  'precommit',
  'consensus',
];

async function stdioClient(cwd: string, env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'e2e-surface', version: '0' });
  await client.connect(new RecordingStdioTransport({ env, cwd }));
  return client;
}

/** The same checks against either transport. */
function surfaceChecks(connect: () => Promise<Client>): void {
  let client: Client;
  beforeAll(async () => {
    client = await connect();
  });
  afterAll(async () => {
    await client?.close();
  });

  it('gives instructions within 2 KB that route needs to tools and explain continuation and in_progress', () => {
    const instructions = client.getInstructions() ?? '';
    expect(Buffer.byteLength(instructions)).toBeLessThanOrEqual(2048);
    for (const words of ['chat:', 'debug:', 'codereview:', 'continuation_id', 'in_progress', 'next_call']) {
      expect(instructions).toContain(words);
    }
  });

  it('lists six prompts whose messages name the tool to call and carry the arguments', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map(p => p.name)).toEqual([
      'second-opinion',
      'code-review',
      'pre-commit',
      'debug',
      'consensus',
      'plan',
    ]);
    const review = prompts.find(p => p.name === 'code-review');
    expect(review?.arguments).toEqual([
      expect.objectContaining({ name: 'target', required: true }),
      expect.objectContaining({ name: 'focus', required: false }),
    ]);
    const got = await client.getPrompt({
      name: 'code-review',
      arguments: { target: 'src/cache.ts', focus: 'eviction' },
    });
    const text = got.messages[0]?.content.type === 'text' ? got.messages[0].content.text : '';
    expect(text).toContain('exai codereview tool');
    expect(text).toContain('src/cache.ts');
    expect(text).toContain('focus_on to "eviction"');
    await expect(client.getPrompt({ name: 'code-review', arguments: {} })).rejects.toThrow(/target/);
  });

  it('lists a thread in exai://threads once a chat made it, and reads it back as Markdown', async () => {
    const chat = outputOf(
      await client.callTool({ name: 'chat', arguments: { prompt: 'Is LRU right here?' } }),
    );
    const id = chat.continuation_offer?.continuation_id ?? '';
    const listed = await client.readResource({ uri: 'exai://threads' });
    const first = listed.contents[0];
    const { threads } = JSON.parse(first && 'text' in first ? first.text : '{}') as {
      threads: Array<Record<string, unknown>>;
    };
    expect(threads[0]).toMatchObject({
      id,
      tool: 'chat',
      title: 'Is LRU right here?',
      model: chat.metadata?.model_used,
    });
    expect(threads[0]?.model).toEqual(expect.any(String));
    expect(typeof threads[0]?.updated).toBe('string');

    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map(t => t.uriTemplate)).toContain('exai://threads/{id}');
    const { resources } = await client.listResources();
    expect(resources.map(r => r.uri)).toEqual(
      expect.arrayContaining(['exai://threads', 'exai://models', `exai://threads/${id}`]),
    );

    const thread = await client.readResource({ uri: `exai://threads/${id}` });
    const markdown = thread.contents[0] && 'text' in thread.contents[0] ? thread.contents[0].text : '';
    expect(markdown).toMatch(new RegExp(`^# chat thread ${id}`));
    expect(markdown).toContain('Is LRU right here?');
    expect(markdown).toContain('echo: Is LRU right here?');
    await expect(
      client.readResource({ uri: 'exai://threads/00000000-0000-4000-8000-000000000000' }),
    ).rejects.toThrow(/not found|expired/i);
  });

  it('serves the model catalogue as exai://models', async () => {
    const read = await client.readResource({ uri: 'exai://models' });
    const first = read.contents[0];
    const catalogue = JSON.parse(first && 'text' in first ? first.text : '{}') as {
      models: Array<{ name: string }>;
    };
    expect(catalogue.models.map(m => m.name)).toContain('glm-4.5-flash');
  });
}

describe('surface over stdio', () => {
  const ctx = fakeAndWorkDir();
  surfaceChecks(() => stdioClient(ctx.dir.path, serverEnv(ctx.dir, { fakeUrl: ctx.fake.url })));
});

describe('surface over HTTP', () => {
  const ctx = fakeAndWorkDir();
  let server: HttpProcess | undefined;
  afterAll(async () => {
    await server?.stop();
  });
  surfaceChecks(async () => {
    server = await startHttpProcess(ctx.dir, serverEnv(ctx.dir, { fakeUrl: ctx.fake.url }));
    const client = new Client({ name: 'e2e-surface-http', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    return client;
  });
});

describe('tool choice', () => {
  const ctx = fakeAndWorkDir();

  it('EXAI_TOOLS=compact serves the nine core tools and only their prompts', async () => {
    const client = await stdioClient(
      ctx.dir.path,
      serverEnv(ctx.dir, { fakeUrl: ctx.fake.url, extra: { EXAI_TOOLS: 'compact' } }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.map(t => t.name).sort()).toEqual([...COMPACT].sort());
      const { prompts } = await client.listPrompts();
      expect(prompts.map(p => p.name)).toEqual([
        'second-opinion',
        'code-review',
        'pre-commit',
        'debug',
        'consensus',
        'plan',
      ]);
      expect(client.getInstructions()).not.toContain('secaudit');
    } finally {
      await client.close();
    }
  });

  it('EXAI_DISABLED_TOOLS takes tools away after EXAI_TOOLS, and their prompts with them', async () => {
    const client = await stdioClient(
      ctx.dir.path,
      serverEnv(ctx.dir, {
        fakeUrl: ctx.fake.url,
        extra: { EXAI_TOOLS: 'compact,secaudit', EXAI_DISABLED_TOOLS: 'planner, consensus' },
      }),
    );
    try {
      const names = (await client.listTools()).tools.map(t => t.name);
      expect(names).toContain('secaudit');
      expect(names).not.toContain('planner');
      expect(names).not.toContain('consensus');
      expect((await client.listPrompts()).prompts.map(p => p.name)).not.toContain('plan');
    } finally {
      await client.close();
    }
  });

  it('refuses to start on an unknown tool name, listing the valid names', async () => {
    const child = spawn(process.execPath, [BIN], {
      cwd: ctx.dir.path,
      env: serverEnv(ctx.dir, { extra: { EXAI_TOOLS: 'chat,clink' } }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', d => {
      stderr += d;
    });
    const code = await exited(child);
    expect(code).toBe(2);
    expect(stderr).toContain('EXAI_TOOLS="chat,clink": unknown tool "clink"');
    expect(stderr).toContain('Valid tools: chat, challenge, listmodels, status, version, thinkdeep');
  });
});
