/**
 * The built HTTP server against the fake provider, with one MCP client, for the tests that read what an
 * operator sees (metrics, readiness, the status page). GLM answers; Kimi fails with 503 and no retry.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import {
  assertBuilt,
  type HttpProcess,
  serverEnv,
  startHttpProcess,
  type WorkDir,
  workDir,
} from './harness.js';

export interface ObservedServer {
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  chat(model: string, prompt?: string): ReturnType<Client['callTool']>;
}

export function observedServer(): ObservedServer {
  let fake: FakeProvider | undefined;
  let dir: WorkDir | undefined;
  let server: HttpProcess | undefined;
  let client: Client | undefined;

  beforeAll(async () => {
    assertBuilt();
    fake = await startFakeProvider();
    dir = await workDir('exai-obs-');
    server = await startHttpProcess(
      dir,
      serverEnv(dir, {
        fakeUrl: fake.url,
        extra: {
          KIMI_API_URL: `${fake.url}/mode/status,code=503/v1`,
          PROVIDER_MAX_RETRIES: '0',
          FALLBACK_ON_FAILURE: 'false',
        },
      }),
    );
    client = new Client({ name: 'obs', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
    await fake?.close();
    await dir?.cleanup();
  });

  return {
    get origin() {
      if (!server) throw new Error('the server starts in beforeAll');
      return server.origin;
    },
    chat(model, prompt = 'hi') {
      if (!client) throw new Error('the client connects in beforeAll');
      return client.callTool({ name: 'chat', arguments: { prompt, model, use_websearch: false } });
    },
  };
}
