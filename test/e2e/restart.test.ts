/**
 * Threads live in SQLite under EXAI_DATA_DIR, so a conversation continues after the server restarts
 * (an IDE restarts its stdio server often).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { fakeAndWorkDir, outputOf, serverEnv } from './harness.js';
import { RecordingStdioTransport } from './stdio-transport.js';

describe('conversation threads across a restart', () => {
  const ctx = fakeAndWorkDir();

  async function session<T>(use: (client: Client) => Promise<T>): Promise<T> {
    const env = serverEnv(ctx.dir, { fakeUrl: ctx.fake.url, store: 'sqlite' });
    const transport = new RecordingStdioTransport({ env, cwd: ctx.dir.path });
    const client = new Client({ name: 'e2e-restart', version: '0' });
    await client.connect(transport);
    try {
      return await use(client);
    } finally {
      await client.close();
      expect(transport.child.exitCode).toBe(0);
    }
  }

  it('continues a thread started before the restart', async () => {
    const id = await session(async client => {
      const output = outputOf(
        await client.callTool({ name: 'chat', arguments: { prompt: 'my favourite colour is teal' } }),
      );
      return output.continuation_offer?.continuation_id;
    });
    expect(id).toBeDefined();
    expect(existsSync(join(ctx.dir.path, 'data', 'conversations.db'))).toBe(true);

    const after = await session(async client =>
      outputOf(
        await client.callTool({ name: 'chat', arguments: { prompt: 'which colour?', continuation_id: id } }),
      ),
    );
    expect(after.status).toBe('continuation_available');
    // The first exchange, read back from SQLite by the new process, leads the request as its own messages.
    const body = ctx.fake.requests.at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(body.messages.map(m => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(body.messages[1]?.content).toBe('my favourite colour is teal');
    expect(body.messages[2]?.content).toBe('echo: my favourite colour is teal');
    expect(after.content).toBe('echo: which colour?\n\n(Turn 3/40)');
    expect(after.continuation_offer?.continuation_id).toBe(id);
  });

  it('says clearly when a thread id is unknown', async () => {
    const output = await session(async client =>
      outputOf(
        await client.callTool({
          name: 'chat',
          arguments: { prompt: 'hi', continuation_id: '3f0e9d1c-0000-4000-8000-000000000000' },
        }),
      ),
    );
    expect(output.status).toBe('error');
    expect(output.metadata.error_kind).toBe('not_found');
    expect(output.content).toMatch(/was not found or has expired.*without continuation_id/);
  });
});
