/**
 * A stdio message over the 10 MiB limit costs that message only: the request gets a JSON-RPC error naming the
 * limit (or, without a recoverable id, a line on stderr) and the server keeps serving the same connection.
 */
import { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, serverEnv, type WorkDir, workDir } from './harness.js';
import { RecordingStdioTransport } from './stdio-transport.js';

const OVER_LIMIT = 'x'.repeat(10 * 1024 * 1024 + 1_000);

describe('stdio message size limit', () => {
  let dir: WorkDir;
  let transport: RecordingStdioTransport;
  let client: Client;

  beforeAll(async () => {
    assertBuilt();
    dir = await workDir();
    transport = new RecordingStdioTransport({ env: serverEnv(dir), cwd: dir.path });
    client = new Client({ name: 'stdio-limits', version: '0' });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close().catch(() => {});
    await dir?.cleanup();
  });

  it('answers a request over 10 MiB with an error for that request and keeps serving', async () => {
    await expect(
      client.callTool({ name: 'chat', arguments: { prompt: OVER_LIMIT } }, { timeout: 20_000 }),
    ).rejects.toThrow(/over the limit of 10485760 bytes \(10 MiB\)/);
    const { tools } = await client.listTools();
    expect(tools.map(t => t.name)).toContain('chat');
    expect(transport.child.exitCode).toBeNull();
    expect(transport.badLines).toEqual([]);
  });

  it('logs a notification over 10 MiB to stderr (it has no id to answer) and keeps serving', async () => {
    await transport.send({ jsonrpc: '2.0', method: 'notifications/padding', params: { pad: OVER_LIMIT } });
    await expect.poll(() => transport.stderr, { timeout: 10_000 }).toMatch(/stdio_message_too_large/);
    const result = await client.callTool({ name: 'version', arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(transport.child.exitCode).toBeNull();
  });
});
