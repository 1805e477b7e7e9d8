/**
 * Provider base URLs and REDIS_URL may carry credentials. version, status and listmodels, called through the
 * real MCP client, show where the server connects (scheme, host, port, path) and never the credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkflowServer, type WorkflowServer } from '../helpers/workflow-server.js';

const SECRETS = ['glm-user', 'glm-pass', 'kimi-query-token', 'redis-pass'];

describe('URLs with credentials in tool output', () => {
  let server: WorkflowServer;

  beforeAll(async () => {
    server = await startWorkflowServer({
      env: {
        GLM_API_URL: 'http://glm-user:glm-pass@127.0.0.1:9/api/paas/v4',
        KIMI_API_URL: 'http://127.0.0.1:9/v1?api_key=kimi-query-token&region=intl',
        // Nothing listens on port 1: replicas' shared health stays degraded, which is all this test needs.
        REDIS_URL: 'redis://:redis-pass@127.0.0.1:1/0',
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('version shows each URL setting without its userinfo or secret query values', async () => {
    const { result } = await server.call('version', {});
    const { config } = (
      result.structuredContent as { content: { config: Array<{ env: string; value: unknown }> } }
    ).content;
    const value = (env: string) => config.find(c => c.env === env)?.value;
    expect(value('GLM_API_URL')).toBe('http://***@127.0.0.1:9/api/paas/v4');
    expect(value('KIMI_API_URL')).toBe('http://127.0.0.1:9/v1?api_key=***&region=intl');
    expect(value('REDIS_URL')).toBe('redis://***@127.0.0.1:1/0');
    for (const secret of SECRETS) expect(JSON.stringify(result)).not.toContain(secret);
  });

  it('status shows each provider base URL without credentials', async () => {
    const { result } = await server.call('status', {});
    const { providers } = (
      result.structuredContent as { content: { providers: Array<{ provider: string; base_url: string }> } }
    ).content;
    expect(providers.map(p => [p.provider, p.base_url])).toEqual([
      ['glm', 'http://***@127.0.0.1:9/api/paas/v4'],
      ['kimi', 'http://127.0.0.1:9/v1?api_key=***&region=intl'],
    ]);
    for (const secret of SECRETS) expect(JSON.stringify(result)).not.toContain(secret);
  });

  it('listmodels shows each provider base URL without credentials', async () => {
    const { result } = await server.call('listmodels', {});
    expect(JSON.stringify(result)).toContain('http://***@127.0.0.1:9/api/paas/v4');
    for (const secret of SECRETS) expect(JSON.stringify(result)).not.toContain(secret);
  });
});
