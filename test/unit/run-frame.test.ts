import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type CallToolResult, Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { type App, createApp } from '../../src/server/app.js';
import { createServer, toolDeps } from '../../src/server/create-server.js';
import { runTool } from '../../src/toolkit/run.js';
import type { ToolCallObservation } from '../../src/toolkit/types.js';

/** Values a buggy tool (or a library under it) may throw: not all of them are Errors, or even objects. */
const THROWN: Array<[string, unknown, string]> = [
  ['null', null, 'null'],
  ['undefined', undefined, 'undefined'],
  ['a string', 'plain words', 'plain words'],
  ['a number', 42, '42'],
  ['a TypeError', new TypeError('x is not a function'), 'x is not a function'],
];

describe('the tool run frame', () => {
  let dir: string;
  let app: App;
  let client: Client;
  const logLines: string[] = [];
  const observed: ToolCallObservation[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'exai-run-'));
    const config = loadConfig({
      envFile: false,
      env: { EXAI_STORE: 'memory', EXAI_DATA_DIR: dir, EXAI_ALLOWED_ROOTS: dir, LOG_LEVEL: 'info' },
    });
    const destination = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    app = createApp(config, { logger: createLogger({ level: 'info', destination }), cwd: dir });
    const deps = { ...toolDeps(app), observeToolCall: (call: ToolCallObservation) => observed.push(call) };
    const server = createServer(app, deps);
    server.registerTool(
      'throws',
      {
        description: 'Throws the value at the given index of THROWN.',
        inputSchema: z.object({ which: z.number() }),
      },
      ({ which }, ctx) =>
        runTool(deps, 'throws', ctx, async () => {
          throw (THROWN[which] as [string, unknown, string])[1];
        }),
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    client = new Client({ name: 'run-frame', version: '0' });
    await client.connect(clientSide);
  });

  afterAll(async () => {
    await client.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(THROWN.map(([name, , text], which) => [name, which, text] as const))(
    'a tool that throws %s answers an internal error, logs it, and records the outcome',
    async (_name, which, text) => {
      const result = (await client.callTool({ name: 'throws', arguments: { which } })) as CallToolResult;
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toMatchObject({
        status: 'error',
        metadata: { tool_name: 'throws', error_kind: 'internal' },
      });
      expect(String((result.structuredContent as { content: string }).content)).toContain(
        `internal error in the throws tool: ${text}`,
      );
      expect(observed.at(-1)).toMatchObject({ tool: 'throws', outcome: 'internal' });
      expect(logLines.some(line => line.includes('"event":"tool_bug"'))).toBe(true);
    },
  );
});
