/**
 * The built binary as `exai-mcp http`, driven by the real MCP client over Streamable HTTP (both protocol
 * eras) against the fake provider: tools, progress, cancellation, the guards in front of /mcp, and shutdown.
 */

import { spawn } from 'node:child_process';
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';
import {
  assertBuilt,
  BIN,
  exited,
  FAKE,
  fakeAndWorkDir,
  type HttpProcess,
  outputOf,
  serverEnv,
  startHttpProcess,
  stopChild,
  upstreamActive,
  type WorkDir,
  workDir,
} from './harness.js';

type Era = 'legacy' | 'modern';

/** Fails instead of hanging: a test that waits on a client promise must not wait for the 60 s SDK default. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function connect(url: string, era: Era, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client(
    { name: `e2e-http-${era}`, version: '0' },
    era === 'modern' ? { versionNegotiation: { mode: 'auto' } } : {},
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

interface RawResponse {
  status: number;
  body: string;
}

/** node:http rather than fetch: fetch will not send a Host header of our choosing. */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', chunk => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('HTTP server on loopback', () => {
  let fake: FakeProvider;
  let dir: WorkDir;
  let server: HttpProcess;

  beforeAll(async () => {
    assertBuilt();
    fake = await startFakeProvider();
    dir = await workDir();
    server = await startHttpProcess(
      dir,
      serverEnv(dir, { fakeUrl: fake.url, extra: { EXAI_HTTP_MAX_BODY_BYTES: '4096' } }),
    );
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    await dir?.cleanup();
  });

  it('answers GET /healthz with status, version and uptime', async () => {
    const res = await raw(`${server.origin}/healthz`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({
      status: 'ok',
      version: expect.any(String),
      uptime: expect.any(Number),
    });
    expect(server.stderr()).toContain(`claude mcp add --transport http exai ${server.url}`);
  });

  for (const era of ['legacy', 'modern'] as const) {
    describe(`${era === 'legacy' ? '2025-era' : '2026-07-28'} client`, () => {
      let client: Client;
      beforeAll(async () => {
        client = await connect(server.url, era);
      });
      afterAll(async () => {
        await client?.close();
      });

      it('negotiates the expected protocol era', () => {
        expect(client.getProtocolEra()).toBe(era);
      });

      it('serves every tool', async () => {
        const { tools } = await client.listTools();
        expect(tools.slice(0, 5).map(t => t.name)).toEqual([
          'chat',
          'challenge',
          'listmodels',
          'status',
          'version',
        ]);
        const chat = outputOf(
          await client.callTool({ name: 'chat', arguments: { prompt: `hello from ${era}` } }),
        );
        expect(chat).toMatchObject({ status: 'continuation_available', content: `echo: hello from ${era}` });
        for (const name of ['listmodels', 'status', 'version']) {
          const result = await client.callTool({ name, arguments: {} });
          expect(result.isError, name).toBeFalsy();
        }
        const challenge = await client.callTool({ name: 'challenge', arguments: { prompt: 'no way' } });
        expect(challenge.isError).toBeFalsy();
        const bad = await client.callTool({ name: 'chat', arguments: {} });
        expect(bad.isError).toBe(true);
        await expect(client.callTool({ name: 'missing-tool', arguments: {} })).rejects.toThrow(
          /missing-tool/,
        );
      });

      it('streams progress notifications during a slow call', async () => {
        const seen: number[] = [];
        const result = await client.callTool(
          { name: 'chat', arguments: { prompt: 'slow', model: FAKE.slow } },
          { onprogress: p => seen.push(p.progress), resetTimeoutOnProgress: true },
        );
        expect(result.isError).toBeFalsy();
        expect(seen.length).toBeGreaterThanOrEqual(2);
        for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
      });

      it('a cancel closes the upstream request', async () => {
        const controller = new AbortController();
        const call = client.callTool(
          { name: 'chat', arguments: { prompt: 'hang', model: FAKE.hang } },
          { signal: controller.signal },
        );
        const rejected = expect(call).rejects.toThrow();
        await upstreamActive(fake);
        controller.abort('stop');
        await rejected;
        await fake.waitForActive(0, 5_000);
      });
    });
  }

  it('a 2025-era client that disconnects mid-call cancels the upstream call', async () => {
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      new Promise<{ req: ClientRequest; res: IncomingMessage }>((resolve, reject) => {
        const req = httpRequest(
          server.url,
          { method: 'POST', headers: { ...JSON_HEADERS, ...headers } },
          res => resolve({ req, res }),
        );
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });
    const init = await post(JSON.parse(INIT));
    init.res.resume();
    const session = {
      'mcp-session-id': String(init.res.headers['mcp-session-id']),
      'mcp-protocol-version': '2025-06-18',
    };
    (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)).res.resume();
    const call = await post(
      {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'chat', arguments: { prompt: 'x', model: FAKE.hang } },
      },
      session,
    );
    await upstreamActive(fake);
    call.req.on('error', () => {});
    call.req.destroy();
    await fake.waitForActive(0, 5_000);
  });

  it('refuses a foreign Origin and a foreign Host (DNS rebinding)', async () => {
    const origin = await raw(server.url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, origin: 'https://evil.example' },
      body: INIT,
    });
    expect(origin.status).toBe(403);
    const host = await raw(server.url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, host: 'evil.example:8079' },
      body: INIT,
    });
    expect([403, 421]).toContain(host.status);
    const localOrigin = await raw(server.url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, origin: server.origin },
      body: INIT,
    });
    expect(localOrigin.status).toBe(200);
  });

  it('refuses a body over EXAI_HTTP_MAX_BODY_BYTES with 413, and unknown paths with 404', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'ping',
      params: { pad: 'x'.repeat(10_000) },
    });
    const res = await raw(server.url, { method: 'POST', headers: JSON_HEADERS, body: big });
    expect(res.status).toBe(413);
    expect(res.body).toMatch(/EXAI_HTTP_MAX_BODY_BYTES/);
    expect((await raw(`${server.origin}/elsewhere`)).status).toBe(404);
  });
});

describe('HTTP server with EXAI_HTTP_TOKEN', () => {
  const TOKEN = 'a-long-random-test-token-0123456789';
  let dir: WorkDir;
  let server: HttpProcess;

  beforeAll(async () => {
    assertBuilt();
    dir = await workDir();
    server = await startHttpProcess(dir, serverEnv(dir, { extra: { EXAI_HTTP_TOKEN: TOKEN } }));
  });

  afterAll(async () => {
    await server?.stop();
    await dir?.cleanup();
  });

  it('answers 401 without the token or with a wrong one', async () => {
    expect((await raw(server.url, { method: 'POST', headers: JSON_HEADERS, body: INIT })).status).toBe(401);
    const wrong = await raw(server.url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${TOKEN}x` },
      body: INIT,
    });
    expect(wrong.status).toBe(401);
    await expect(connect(server.url, 'legacy')).rejects.toThrow();
  });

  it('serves a client that sends the token', async () => {
    const client = await connect(server.url, 'legacy', { authorization: `Bearer ${TOKEN}` });
    try {
      const result = await client.callTool({ name: 'version', arguments: {} });
      expect(result.isError).toBeFalsy();
      expect(JSON.stringify(result)).not.toContain(TOKEN);
    } finally {
      await client.close();
    }
    expect(server.stderr()).toContain('--header "Authorization: Bearer $EXAI_HTTP_TOKEN"');
  });
});

describe('HTTP server startup and shutdown', () => {
  const ctx = fakeAndWorkDir();

  it('refuses to bind beyond loopback without a token', async () => {
    const child = spawn(process.execPath, [BIN, 'http', '--host', '0.0.0.0', '--port', '0'], {
      cwd: ctx.dir.path,
      env: serverEnv(ctx.dir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', d => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited(child);
    clearTimeout(timer);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Refusing to listen on 0\.0\.0\.0.*EXAI_HTTP_TOKEN/s);
  });

  it('rejects bad flags with exit code 2', async () => {
    const child = spawn(process.execPath, [BIN, 'http', '--port', 'eighty'], {
      cwd: ctx.dir.path,
      env: serverEnv(ctx.dir),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', d => {
      stderr += d;
    });
    expect(await exited(child)).toBe(2);
    expect(stderr).toMatch(/EXAI_HTTP_PORT|port/i);
  });

  it('on SIGTERM answers the calls in flight with a clear error, closes the upstream sockets and exits within seconds', async () => {
    const server = await startHttpProcess(
      ctx.dir,
      serverEnv(ctx.dir, { fakeUrl: ctx.fake.url, store: 'sqlite' }),
    );
    const client = await connect(server.url, 'legacy');
    try {
      const call = client.callTool({ name: 'chat', arguments: { prompt: 'hang', model: FAKE.hang } });
      call.catch(() => {});
      await upstreamActive(ctx.fake);
      const started = performance.now();
      const code = await stopChild(server.child, 'SIGTERM', 8_000);
      expect(performance.now() - started).toBeLessThan(6_000);
      expect(code).toBe(0);
      await ctx.fake.waitForActive(0, 5_000);
      const result = await within(5_000, call);
      expect(result.isError).toBe(true);
      expect(outputOf(result).content).toMatch(/shutting down/);
    } finally {
      await within(5_000, client.close()).catch(() => {});
    }
  });
});
