/**
 * The early answer to initialize (src/server/stdio-early.ts) must be the answer the full server gives: the
 * same request is sent to a server built by createServer, for several protocol versions and tool selections,
 * and the two results compared whole. Plus what gets no early answer, and the filter that keeps the server's
 * own answer to the replayed request off stdout.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { InMemoryTransport, type JSONRPCMessage } from '@modelcontextprotocol/client';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { enabledTools } from '../../src/config/tool-names.js';
import { createLogger } from '../../src/observability/logger.js';
import { createApp } from '../../src/server/app.js';
import { createServer } from '../../src/server/create-server.js';
import { serverIdentity } from '../../src/server/identity.js';
import {
  earlyAnswer,
  INITIALIZE_PROTOCOL_VERSIONS,
  REPLAY_ID,
  sameAnswer,
  servedTools,
  withoutReplayAnswer,
} from '../../src/server/stdio-early.js';
import { packageVersion } from '../../src/server/version.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'exai-early-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function initialize(protocolVersion: string, extra: Record<string, unknown> = {}) {
  return {
    jsonrpc: '2.0' as const,
    id: 7,
    method: 'initialize',
    params: {
      protocolVersion,
      capabilities: { roots: { listChanged: true }, elicitation: {} },
      clientInfo: { name: 'claude-code', version: '2.1.0' },
      ...extra,
    },
  };
}

/** What a server built by createServer answers to `request`, with the settings `env`. */
async function serverAnswer(request: JSONRPCMessage, env: Record<string, string>): Promise<unknown> {
  const config = loadConfig({ envFile: false, env: { EXAI_STORE: 'memory', EXAI_DATA_DIR: dir, ...env } });
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  const app = createApp(config, { logger: createLogger({ level: 'warn', destination: quiet }), cwd: dir });
  const server = createServer(app);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  try {
    await server.connect(serverSide);
    const answer = new Promise<unknown>(resolve => {
      clientSide.onmessage = message => resolve(message);
    });
    await clientSide.start();
    await clientSide.send(request);
    return await answer;
  } finally {
    await server.close();
    await app.close();
  }
}

describe('the early answer to initialize', () => {
  it('negotiates over the same protocol versions as the SDK', () => {
    expect(INITIALIZE_PROTOCOL_VERSIONS).toEqual(SUPPORTED_PROTOCOL_VERSIONS.filter(v => v < '2026-07-28'));
  });

  const cases: Array<[string, string, Record<string, string>]> = [
    ['the latest version, all tools', '2025-11-25', {}],
    ['an older version', '2025-03-26', {}],
    ['an unknown version', '2099-01-01', {}],
    ['the compact profile', '2025-06-18', { EXAI_TOOLS: 'compact' }],
    ['tools without prompts', '2025-06-18', { EXAI_TOOLS: 'listmodels,status,version' }],
    ['disabled tools', '2025-06-18', { EXAI_DISABLED_TOOLS: 'chat,consensus' }],
  ];
  it.each(cases)('is what the server answers: %s', async (_name, version, env) => {
    const request = initialize(version);
    const served = servedTools(env, join(dir, 'no.env'));
    expect(served).toBeDefined();
    const early = earlyAnswer(
      JSON.stringify(request),
      serverIdentity(packageVersion(), served ?? (() => true)),
    );
    if (!early) throw new Error('no early answer');
    expect(early.id).toBe(7);
    const answer = await serverAnswer(request, env);
    expect(answer).toMatchObject({ jsonrpc: '2.0', id: 7 });
    expect(sameAnswer(answer, early.result)).toBe(true);
    expect(sameAnswer(answer, { ...early.result, instructions: `${early.result.instructions} ` })).toBe(
      false,
    );
    // The replay is the same request under its own id.
    expect(JSON.parse(early.replay)).toEqual({ ...request, id: REPLAY_ID });
  });

  it.each([
    ['not JSON', '{"jsonrpc":"2.0","id":1,"method":"initialize"'],
    ['another method', JSON.stringify({ ...initialize('2025-06-18'), method: 'tools/list' })],
    ['a notification', JSON.stringify({ ...initialize('2025-06-18'), id: undefined })],
    ['a null id', JSON.stringify({ ...initialize('2025-06-18'), id: null })],
    ['a 2026-07-28 envelope claim', JSON.stringify(initialize('2026-07-28', { _meta: { x: 1 } }))],
    ['a client without a version', JSON.stringify(initialize('2025-06-18', { clientInfo: { name: 'x' } }))],
    ['an array', '[]'],
  ])('is not given to %s', (_name, line) => {
    expect(
      earlyAnswer(
        line,
        serverIdentity('1.0.0', () => true),
      ),
    ).toBeUndefined();
  });
});

describe('the tools the early answer lists', () => {
  it('come from the environment first, then .env, as the settings read them', () => {
    const envFile = join(dir, 'tools.env');
    writeFileSync(envFile, 'EXAI_TOOLS=compact\nEXAI_DISABLED_TOOLS=chat\n');
    const fromFile = servedTools({}, envFile);
    const fromEnv = servedTools({ EXAI_TOOLS: 'chat,debug' }, envFile);
    const list = (served: ((tool: never) => boolean) | undefined) =>
      enabledTools({ tools: undefined, disabledTools: undefined }).filter(t => served?.(t as never));
    expect(list(fromFile)).toEqual(enabledTools(loadConfig({ envFile, env: {} })));
    expect(list(fromEnv)).toEqual(enabledTools(loadConfig({ envFile, env: { EXAI_TOOLS: 'chat,debug' } })));
    expect(list(fromEnv)).toEqual(['debug']);
  });

  it('are not guessed when a setting is invalid: the settings report it', () => {
    expect(servedTools({ EXAI_TOOLS: 'chatt' }, join(dir, 'no.env'))).toBeUndefined();
    expect(servedTools({ EXAI_DISABLED_TOOLS: 'compact' }, join(dir, 'no.env'))).toBeUndefined();
  });
});

describe('stdout after an early answer', () => {
  it("passes everything through except the server's answer to the replayed request", async () => {
    const written: string[] = [];
    const out = new Writable({
      write(chunk, _encoding, done) {
        written.push(String(chunk));
        done();
      },
    });
    const dropped: unknown[] = [];
    const filter = withoutReplayAnswer(out, message => dropped.push(message));
    const lines = [
      { jsonrpc: '2.0', id: 3, method: 'roots/list' },
      { result: { protocolVersion: '2025-06-18' }, jsonrpc: '2.0', id: REPLAY_ID },
      { result: { tools: [] }, jsonrpc: '2.0', id: 2 },
      { result: { again: true }, jsonrpc: '2.0', id: REPLAY_ID },
    ].map(m => `${JSON.stringify(m)}\n`);
    for (const line of lines) filter.write(line);
    await new Promise<void>(resolve => filter.end(resolve));
    expect(dropped).toEqual([JSON.parse(lines[1] as string)]);
    // Only the first answer under the replay's id is the server's answer to it.
    expect(written).toEqual([lines[0], lines[2], lines[3]]);
  });
});
