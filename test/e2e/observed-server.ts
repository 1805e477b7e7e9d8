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
  /** Any tool, through the same client. */
  call(name: string, args: Record<string, unknown>): ReturnType<Client['callTool']>;
  /** Step 1 of consensus, which consults the models (the first for, the others against). */
  consensus(models: string[]): ReturnType<Client['callTool']>;
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
      return this.call('chat', { prompt, model, use_websearch: false });
    },
    consensus(models) {
      return this.call('consensus', {
        step: 'Should the cache be keyed by user id?',
        step_number: 1,
        total_steps: 2,
        next_step_required: true,
        findings: 'Keys by session today.',
        models: models.map((model, i) => ({ model, stance: i === 0 ? 'for' : 'against' })),
      });
    },
    call(name, args) {
      if (!client) throw new Error('the client connects in beforeAll');
      return client.callTool({ name, arguments: args });
    },
  };
}
