/**
 * Local failures through the built HTTP server and the real MCP client: a request body over our own cap
 * (PROVIDER_MAX_REQUEST_BYTES) once went upstream, was retried four times as `network`, and five such calls
 * opened GLM's breaker for every client. Now it fails at once on our side: never sent, never retried, never
 * counted by the breaker, never handed to the fallback provider.
 */
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, connectHttp } from './files-fixtures.js';
import { fakeAndWorkDir, type HttpProcess, reportOf, serverEnv, startHttpProcess } from './harness.js';

describe('a request too large to send (HTTP server)', () => {
  const shared = fakeAndWorkDir();
  let server: HttpProcess;
  let attacker: Client;
  let bystander: Client;

  beforeAll(async () => {
    server = await startHttpProcess(
      shared.dir,
      serverEnv(shared.dir, {
        fakeUrl: shared.fake.url,
        extra: {
          PROVIDER_MAX_REQUEST_BYTES: '8192',
          BREAKER_FAILURE_THRESHOLD: '2',
          FALLBACK_ON_FAILURE: 'true',
          PROVIDER_MAX_RETRIES: '3',
        },
      }),
    );
    attacker = await connectHttp(server.url);
    bystander = await connectHttp(server.url);
  });

  afterAll(async () => {
    await attacker?.close();
    await bystander?.close();
    await server?.stop();
  });

  it('fails five times as local, sends nothing, and leaves GLM open to another client', async () => {
    const big = 'x'.repeat(20_000);
    for (let i = 0; i < 5; i++) {
      const result = await chat(attacker, { prompt: big, model: 'glm-4.6' });
      expect(result.isError).toBe(true);
      expect(result.output.metadata).toMatchObject({
        error_kind: 'local',
        retryable: false,
        attempts: 1,
        provider_used: 'glm',
      });
      expect(result.output.content).toMatch(
        /^GLM glm-4\.6: request not sent: its body is \d+ KiB, over the 8 KiB limit \(PROVIDER_MAX_REQUEST_BYTES\)/,
      );
      // No fallback: Kimi would get the same body.
      expect(result.output.metadata.fallback_from).toBeUndefined();
    }
    // Nothing reached either provider: no attempt, no retry, no fallback.
    expect(shared.fake.requests).toHaveLength(0);

    const status = reportOf(await bystander.callTool({ name: 'status', arguments: {} }));
    const glm = status.data.providers.find((p: { provider: string }) => p.provider === 'glm');
    expect(glm.breaker).toMatchObject({ state: 'closed', consecutive_failures: 0 });
    expect(glm.retries).toBe(0);
    expect(glm.fallbacks).toBe(0);

    // Another client's ordinary call goes to GLM and is answered.
    const ordinary = await chat(bystander, { prompt: 'hello', model: 'glm-4.6' });
    expect(ordinary.isError).toBe(false);
    expect(ordinary.output.content).toContain('echo: hello');
    expect(ordinary.output.metadata).toMatchObject({ provider_used: 'glm', attempts: 1 });
    expect(shared.fake.requests).toHaveLength(1);
  });
});
