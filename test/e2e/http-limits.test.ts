/**
 * The built HTTP server under the abuse a port reachable by others meets, over raw sockets and raw HTTP:
 * trickled headers and bodies, a flood of connections, a flood of sessions holding streams, and cancelled
 * calls whose response streams must not stay open. Real work (long streamed calls) must go on meanwhile.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE,
  fakeAndWorkDir,
  fakeModelEntry,
  type HttpProcess,
  outputOf,
  serverEnv,
  startHttpProcess,
  upstreamActive,
} from './harness.js';
import { initMessage, openSession, openSocket, send, trickle } from './raw-http.js';

/** Room for a loaded 2-core machine on top of a limit. */
const SLACK_MS = 3_000;
/** A streamed answer of about 3 s: longer than the request timeout below. */
const LONG = 'fake-slow,chunks=12,every=250';

const ctx = fakeAndWorkDir();

async function withLongModel(): Promise<void> {
  const model = (name: string) => fakeModelEntry(name);
  await writeFile(
    join(ctx.dir.path, 'models.json'),
    JSON.stringify({ models: [...Object.values(FAKE), LONG].map(model) }),
  );
}

function toolCall(id: number, model: string): Record<string, unknown> {
  return {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'chat', arguments: { prompt: `x ${id}`, model } },
  };
}

describe('slow requests', () => {
  let server: HttpProcess;
  beforeAll(async () => {
    await withLongModel();
    server = await startHttpProcess(
      ctx.dir,
      serverEnv(ctx.dir, {
        fakeUrl: ctx.fake.url,
        extra: { EXAI_HTTP_HEADERS_TIMEOUT_SECS: '1', EXAI_HTTP_REQUEST_TIMEOUT_SECS: '1' },
      }),
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('closes a connection whose headers trickle in past EXAI_HTTP_HEADERS_TIMEOUT_SECS', async () => {
    const { socket, closed } = await openSocket(server.origin);
    const started = performance.now();
    void trickle(
      socket,
      `POST /mcp HTTP/1.1\r\nHost: ${new URL(server.origin).host}\r\n${'X-Pad: y\r\n'.repeat(50)}`,
      100,
    );
    const answer = await closed;
    expect(performance.now() - started).toBeLessThan(1_000 + SLACK_MS);
    expect(answer).toMatch(/^HTTP\/1\.1 408|^$/);
  });

  it('closes a connection whose body trickles in past EXAI_HTTP_REQUEST_TIMEOUT_SECS, logging no error', async () => {
    const { socket, closed } = await openSocket(server.origin);
    const body = JSON.stringify(initMessage());
    socket.write(
      `POST /mcp HTTP/1.1\r\nHost: ${new URL(server.origin).host}\r\nContent-Type: application/json\r\n` +
        `Accept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const started = performance.now();
    void trickle(socket, body, 100);
    await closed;
    expect(performance.now() - started).toBeLessThan(1_000 + SLACK_MS);
    expect(socket.destroyed).toBe(true);
    // A client that was too slow is not the server's failure.
    expect(server.stderr()).not.toMatch(/http_request_failed|"level":50/);
  });

  it('does not cut a streamed answer that takes longer than the request timeout', async () => {
    const client = new Client({ name: 'slow-answer', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    try {
      const started = performance.now();
      const result = await client.callTool({ name: 'chat', arguments: { prompt: 'long', model: LONG } });
      expect(performance.now() - started).toBeGreaterThan(2_000);
      expect(result.isError, JSON.stringify(result)).toBeFalsy();
      expect(outputOf(result).content).toMatch(/^echo: long/);
    } finally {
      await client.close();
    }
  });
});

describe('a flood of connections', () => {
  let server: HttpProcess;
  beforeAll(async () => {
    server = await startHttpProcess(
      ctx.dir,
      serverEnv(ctx.dir, { extra: { EXAI_HTTP_MAX_CONNECTIONS: '4', EXAI_HTTP_HEADERS_TIMEOUT_SECS: '2' } }),
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('closes connections past EXAI_HTTP_MAX_CONNECTIONS at once, and serves again once they are gone', async () => {
    const held = await Promise.all([1, 2, 3, 4].map(() => openSocket(server.origin)));
    const extra = await openSocket(server.origin);
    const started = performance.now();
    await extra.closed;
    expect(performance.now() - started).toBeLessThan(SLACK_MS);
    for (const { socket } of held) socket.destroy();
    await Promise.all(held.map(h => h.closed));
    await expect
      .poll(async () => (await fetch(`${server.origin}/healthz`).catch(() => undefined))?.status, {
        timeout: 5_000,
      })
      .toBe(200);
  });
});

describe('a flood of sessions', () => {
  let server: HttpProcess;
  beforeAll(async () => {
    server = await startHttpProcess(
      ctx.dir,
      serverEnv(ctx.dir, {
        fakeUrl: ctx.fake.url,
        // Every hung call must reach the provider, so the per-key concurrency cap is no bottleneck here.
        extra: {
          EXAI_HTTP_MAX_SESSIONS_PER_CLIENT: '3',
          EXAI_HTTP_MAX_STREAMS_PER_CLIENT: '2',
          GLM_MAX_CONCURRENCY: '16',
        },
      }),
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('lets new sessions replace idle ones holding streams, never one with a call in flight', async () => {
    const busy = await openSession(server.url);
    const call = await send(server.url, { headers: busy, body: toolCall(7, FAKE.hang) });
    await upstreamActive(ctx.fake);

    const flood: Array<{ headers: Record<string, string>; stream: Awaited<ReturnType<typeof send>> }> = [];
    for (let i = 0; i < 6; i++) {
      const headers = await openSession(server.url);
      const stream = await send(server.url, { method: 'GET', headers });
      expect(stream.res.statusCode).toBe(200);
      flood.push({ headers, stream });
    }
    // Evicted sessions lost their stream and are gone; the newest stayed.
    await flood[0]?.stream.ended;
    const gone = await send(server.url, {
      headers: flood[0]?.headers,
      body: { jsonrpc: '2.0', id: 1, method: 'ping' },
    });
    await gone.ended;
    expect(gone.res.statusCode).toBe(404);
    const newest = flood.at(-1);
    const alive = await send(server.url, {
      headers: newest?.headers,
      body: { jsonrpc: '2.0', id: 1, method: 'ping' },
    });
    await alive.ended;
    expect(alive.res.statusCode).toBe(200);

    // The session with a call in flight survived the flood: its call is still running and it still answers.
    expect(call.res.closed).toBe(false);
    const ping = await send(server.url, { headers: busy, body: { jsonrpc: '2.0', id: 2, method: 'ping' } });
    await ping.ended;
    expect(ping.res.statusCode).toBe(200);
    call.req.destroy();
    await ctx.fake.waitForActive(0, 5_000);
    for (const { stream } of flood) stream.req.destroy();
  });

  it('refuses a new session with 429 naming the limit when every session of the address has a call in flight', async () => {
    const calls = [];
    for (let i = 0; i < 3; i++) {
      const headers = await openSession(server.url);
      calls.push(await send(server.url, { headers, body: toolCall(i + 1, FAKE.hang) }));
    }
    await upstreamActive(ctx.fake, 3);
    const refused = await send(server.url, { body: initMessage() });
    await refused.ended;
    expect(refused.res.statusCode).toBe(429);
    expect(refused.text()).toMatch(/EXAI_HTTP_MAX_SESSIONS_PER_CLIENT=3/);
    for (const call of calls) call.req.destroy();
    await ctx.fake.waitForActive(0, 5_000);
  });

  it('ends the oldest GET stream of an address past EXAI_HTTP_MAX_STREAMS_PER_CLIENT', async () => {
    const streams = [];
    for (let i = 0; i < 3; i++) {
      const headers = await openSession(server.url);
      streams.push(await send(server.url, { method: 'GET', headers }));
    }
    await streams[0]?.ended;
    expect(streams[0]?.res.complete).toBe(true);
    expect(streams[2]?.res.closed).toBe(false);
    for (const stream of streams) stream.req.destroy();
  });
});

describe('cancelled calls of a 2025-era session', () => {
  let server: HttpProcess;
  beforeAll(async () => {
    server = await startHttpProcess(
      ctx.dir,
      serverEnv(ctx.dir, { fakeUrl: ctx.fake.url, extra: { EXAI_HTTP_SESSION_IDLE_SECS: '1' } }),
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('end their response stream with no answer, so the session idles out', async () => {
    const session = await openSession(server.url);
    for (let id = 1; id <= 5; id++) {
      const call = await send(server.url, { headers: session, body: toolCall(id, FAKE.hang) });
      await upstreamActive(ctx.fake);
      const cancel = await send(server.url, {
        headers: session,
        body: {
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: 'stop' },
        },
      });
      await cancel.ended;
      const started = performance.now();
      await call.ended;
      expect(performance.now() - started).toBeLessThan(SLACK_MS);
      // MCP: a cancelled request gets no response.
      expect(call.text()).not.toMatch(/"id":\s*\d+/);
      await ctx.fake.waitForActive(0, 5_000);
    }
    // Nothing is in flight any more, so the session is idle and swept (idle 1 s, swept every second). Any
    // request would count as activity, so the test stays away for a while before asking once.
    await new Promise(resolve => setTimeout(resolve, 3_500));
    const ping = await send(server.url, {
      headers: session,
      body: { jsonrpc: '2.0', id: 99, method: 'ping' },
    });
    await ping.ended;
    expect(ping.res.statusCode).toBe(404);
  });
});
