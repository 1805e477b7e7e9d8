/**
 * What operators read off the HTTP server: Prometheus metrics and readiness. The live status page is tested in
 * a real browser by test/browser (npm run test:browser).
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import {
  assertBuilt,
  type HttpProcess,
  serverEnv,
  startHttpProcess,
  type WorkDir,
  workDir,
} from './harness.js';

let fake: FakeProvider;
let dir: WorkDir;
let server: HttpProcess;
let client: Client;

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

const chat = (model: string, prompt = 'hi') =>
  client.callTool({ name: 'chat', arguments: { prompt, model, use_websearch: false } });

describe('metrics and readiness', () => {
  it('GET /metrics exposes provider call durations, retries, breaker state and tool call durations', async () => {
    await chat('glm-4.6');
    await chat('kimi-k2');
    const text = await (await fetch(`${server.origin}/metrics`)).text();
    expect(text).toMatch(
      /exai_provider_call_duration_seconds_count\{provider="glm",model="glm-4\.6",outcome="ok"\} 1/,
    );
    expect(text).toMatch(
      /exai_provider_call_duration_seconds_count\{provider="kimi",model="kimi-k2-0905-preview",outcome="upstream_error"\} 1/,
    );
    expect(text).toMatch(/exai_tool_call_duration_seconds_count\{tool="chat",status="ok"\} 1/);
    expect(text).toMatch(/exai_tool_call_duration_seconds_count\{tool="chat",status="upstream_error"\} 1/);
    expect(text).toMatch(/exai_provider_breaker_state\{provider="glm"\} 0/);
    expect(text).toMatch(/exai_provider_in_flight\{provider="glm"\} 0/);
    expect(text).toMatch(/exai_active_sessions 1/);
    expect(text).not.toContain('test-key');
  });

  it('GET /readyz is ready while a configured provider breaker is closed', async () => {
    const res = await fetch(`${server.origin}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true, store: 'open', providers: { glm: 'closed' } });
  });
});
