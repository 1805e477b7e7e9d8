/**
 * The bearer token as a user and a guesser meet it: too short a token stops startup, a 401 names
 * EXAI_HTTP_TOKEN where MCP clients show it, OAuth discovery gets a clear "no OAuth here", readiness tells a
 * stranger only ready or not, and repeated wrong tokens from one address are locked out for a while.
 */
import { spawn } from 'node:child_process';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, exited, fakeAndWorkDir, type HttpProcess, serverEnv, startHttpProcess } from './harness.js';
import { initMessage, send } from './raw-http.js';

const TOKEN = 'a-long-random-test-token-0123456789';
const ctx = fakeAndWorkDir();

describe('EXAI_HTTP_TOKEN at startup', () => {
  it('refuses a token under 16 characters, naming the variable and the rule', async () => {
    const child = spawn(process.execPath, [BIN, 'http', '--port', '0'], {
      cwd: ctx.dir.path,
      env: serverEnv(ctx.dir, { extra: { EXAI_HTTP_TOKEN: 'x' } }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', d => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited(child);
    clearTimeout(timer);
    expect(code).toBe(2);
    expect(stderr).toMatch(/EXAI_HTTP_TOKEN=<redacted>: must be at least 16 characters/);
  });
});

describe('a server with EXAI_HTTP_TOKEN', () => {
  let server: HttpProcess;
  beforeAll(async () => {
    server = await startHttpProcess(
      ctx.dir,
      serverEnv(ctx.dir, { fakeUrl: ctx.fake.url, extra: { EXAI_HTTP_TOKEN: TOKEN } }),
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers a request without the token with a 401 naming EXAI_HTTP_TOKEN in the body and WWW-Authenticate', async () => {
    const res = await send(server.url, { body: initMessage() });
    await res.ended;
    expect(res.res.statusCode).toBe(401);
    expect(res.text()).toMatch(/requires EXAI_HTTP_TOKEN.*Authorization: Bearer/);
    expect(res.res.headers['www-authenticate']).toMatch(
      /^Bearer realm="exai-mcp", error="invalid_token", error_description="[^"]*EXAI_HTTP_TOKEN[^"]*"$/,
    );
  });

  it('shows the MCP client user what to set', async () => {
    const client = new Client({ name: 'no-token', version: '0' });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(server.url)))).rejects.toThrow(
      /EXAI_HTTP_TOKEN/,
    );
  });

  it('answers OAuth discovery and registration with a 404 that points at EXAI_HTTP_TOKEN', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-authorization-server',
    ]) {
      const res = await fetch(`${server.origin}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({
        error: 'not_found',
        error_description: expect.stringMatching(/does not use OAuth.*EXAI_HTTP_TOKEN/),
      });
    }
    const register = await fetch(`${server.origin}/register`, { method: 'POST', body: '{}' });
    expect(register.status).toBe(404);
    expect(await register.text()).toMatch(/EXAI_HTTP_TOKEN/);
  });

  it('tells a caller without the token only whether it is ready, and the operator the details', async () => {
    const stranger = await fetch(`${server.origin}/readyz`);
    expect(stranger.status).toBe(200);
    expect(await stranger.json()).toEqual({ ready: true });
    const operator = await fetch(`${server.origin}/readyz`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(await operator.json()).toMatchObject({ ready: true, store: 'open', providers: { glm: 'closed' } });
  });

  it('locks out an address after repeated wrong tokens, even its right token, until the wait is over', async () => {
    const attempt = async (token: string) => {
      const res = await send(server.url, {
        headers: { authorization: `Bearer ${token}` },
        body: initMessage(),
      });
      await res.ended;
      return res;
    };
    // Earlier tests in this block already failed from this address: a success clears the count first.
    expect((await attempt(TOKEN)).res.statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await attempt(`wrong-${i}`)).res.statusCode).toBe(401);
    const locked = await attempt(TOKEN);
    expect(locked.res.statusCode).toBe(429);
    expect(locked.text()).toMatch(/Too many requests with a wrong or missing EXAI_HTTP_TOKEN/);
    const wait = Number(locked.res.headers['retry-after']);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
    await new Promise(resolve => setTimeout(resolve, wait * 1000 + 100));
    expect((await attempt(TOKEN)).res.statusCode).toBe(200);
  });
});
