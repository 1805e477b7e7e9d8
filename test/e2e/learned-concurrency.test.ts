/**
 * Learned concurrency through the built HTTP server and the real MCP client. With the default of 32 calls
 * per provider, a key that takes 1-3 at once (Kimi Tier0, GLM coding plans) answered most of a burst with
 * concurrency 429s we caused ourselves. Now each refusal (GLM 1302, Kimi "max organization concurrency")
 * lowers the limit for that key, calls still succeed, `status` shows the learned limit, and the next burst
 * waits in our queue instead of being sent into a 429. A per-minute 429 is no such refusal and leaves the
 * limit alone.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KeyLimit, keyWithConcurrency } from '../helpers/key-concurrency.js';
import { chat, connectHttp } from './files-fixtures.js';
import {
  fakeAndWorkDir,
  fakeModelEntry,
  type HttpProcess,
  reportOf,
  serverEnv,
  startHttpProcess,
  upstreamActive,
} from './harness.js';

describe('concurrency learned from the provider refusals (HTTP server)', () => {
  const shared = fakeAndWorkDir();
  let glmKey: KeyLimit;
  let kimiKey: KeyLimit;
  let server: HttpProcess;
  let clients: Client[];

  beforeAll(async () => {
    glmKey = await keyWithConcurrency(shared.fake.url, 2, 'glmerror,code=1302', 300);
    kimiKey = await keyWithConcurrency(shared.fake.url, 1, 'kimierror,kind=concurrency', 200);
    server = await startHttpProcess(
      shared.dir,
      serverEnv(shared.dir, {
        fakeUrl: shared.fake.url,
        extra: {
          GLM_API_URL: `${glmKey.url}/api/paas/v4`,
          KIMI_API_URL: `${kimiKey.url}/v1`,
          GLM_MAX_CONCURRENCY: '8',
          KIMI_MAX_CONCURRENCY: '4',
          GLM_TIMEOUT_SECS: '60',
          KIMI_TIMEOUT_SECS: '60',
          FALLBACK_ON_FAILURE: 'false',
          BREAKER_FAILURE_THRESHOLD: '3',
        },
      }),
    );
    // Several agents sharing one server, each with calls of its own in flight.
    clients = await Promise.all([1, 2, 3, 4].map(() => connectHttp(server.url)));
  });

  afterAll(async () => {
    await Promise.all((clients ?? []).map(c => c.close()));
    await server?.stop();
    await glmKey?.close();
    await kimiKey?.close();
  });

  const burst = (model: string, n: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        chat(clients[i % clients.length]!, { prompt: `call ${i}`, model, use_websearch: false }, 60_000),
      ),
    );
  const providerStatus = async (provider: string) => {
    const report = reportOf(await clients[0]!.callTool({ name: 'status', arguments: {} }));
    return {
      text: report.text,
      steps: report.data.next_steps as string[],
      provider: report.data.providers.find((p: { provider: string }) => p.provider === provider),
    };
  };

  it('GLM 1302s shrink the limit to what the key takes; every call is answered, the next burst is not refused', async () => {
    const first = await burst('glm-4.6', 8);
    for (const [i, result] of first.entries()) {
      expect(result.isError, result.output.content ?? '').toBe(false);
      expect(result.output.content).toContain(`echo: call ${i}`);
    }
    expect(glmKey.refusals).toBeGreaterThan(0);

    const { provider: glm, text, steps } = await providerStatus('glm');
    expect(glm.concurrency.max).toBe(8);
    expect(glm.concurrency.limit).toBeGreaterThanOrEqual(1);
    expect(glm.concurrency.limit).toBeLessThanOrEqual(2);
    // "Too many at once" is not "GLM is down": the breaker never counted the refusals.
    expect(glm.breaker).toMatchObject({ state: 'closed', consecutive_failures: 0 });
    expect(text).toContain(`limit ${glm.concurrency.limit} (learned from 429s; max 8)`);
    expect(steps.some(s => s.includes(`this key allows about ${glm.concurrency.limit} in flight`))).toBe(
      true,
    );
    // The status page shows the same limit.
    const page = (await (await fetch(`${server.origin}/status.json`)).json()) as {
      providers: Array<{ provider: string; concurrencyLimit: number; maxConcurrency: number }>;
    };
    expect(page.providers.find(p => p.provider === 'glm')).toMatchObject({
      concurrencyLimit: glm.concurrency.limit,
      maxConcurrency: 8,
    });

    // With the limit learned, a second burst queues here: the key never sees more than it takes. (No probe
    // above the limit either: PROVIDER_CONCURRENCY_PROBE_SECS, 60 s by default, has not passed.)
    glmKey.resetCounters();
    const second = await burst('glm-4.6', 8);
    expect(second.every(r => !r.isError)).toBe(true);
    expect(glmKey.refusals).toBe(0);
    expect(glmKey.requests).toBe(8);
    expect(glmKey.peak).toBeLessThanOrEqual(2);
    expect(second.every(r => r.output.metadata.attempts === 1)).toBe(true);
  }, 120_000);

  it('a Kimi concurrency 429 naming its limit sets the limit to it at once', async () => {
    const results = await burst('kimi-k2.6', 4);
    expect(results.every(r => !r.isError)).toBe(true);
    expect(results.map(r => r.output.metadata.provider_used)).toEqual(['kimi', 'kimi', 'kimi', 'kimi']);
    const { provider: kimi, text } = await providerStatus('kimi');
    expect(kimi.concurrency).toMatchObject({ limit: 1, max: 4, in_flight: 0 });
    expect(kimi.breaker).toMatchObject({ state: 'closed', consecutive_failures: 0 });
    expect(text).toContain('limit 1 (learned from 429s; max 4)');
    expect(kimiKey.peak).toBe(1);
  }, 120_000);
});

describe('a key whose plan is raised (HTTP server, PROVIDER_CONCURRENCY_PROBE_SECS=0.5)', () => {
  const shared = fakeAndWorkDir();
  let key: KeyLimit;
  let server: HttpProcess;
  let client: Client;

  beforeAll(async () => {
    key = await keyWithConcurrency(shared.fake.url, 1, 'kimierror,kind=concurrency', 150);
    server = await startHttpProcess(
      shared.dir,
      serverEnv(shared.dir, {
        fakeUrl: shared.fake.url,
        extra: {
          KIMI_API_URL: `${key.url}/v1`,
          KIMI_MAX_CONCURRENCY: '6',
          KIMI_TIMEOUT_SECS: '60',
          FALLBACK_ON_FAILURE: 'false',
          PROVIDER_CONCURRENCY_PROBE_SECS: '0.5',
        },
      }),
    );
    client = await connectHttp(server.url);
  });

  afterAll(async () => {
    await client?.close();
    await server?.stop();
    await key?.close();
  });

  const burst = (n: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        chat(client, { prompt: `call ${i}`, model: 'kimi-k2.6', use_websearch: false }, 60_000),
      ),
    );
  const learned = async () => {
    const report = reportOf(await client.callTool({ name: 'status', arguments: {} }));
    return report.data.providers.find((p: { provider: string }) => p.provider === 'kimi').concurrency.limit;
  };

  it('learns the key allows 1, then grows again once the probe interval has passed and the key takes more', async () => {
    expect((await burst(4)).every(r => !r.isError)).toBe(true);
    expect(key.refusals).toBeGreaterThan(0);
    // Set to 1 by the refusal; with a 0.5 s probe interval the burst may already have probed one above.
    expect(await learned()).toBeLessThanOrEqual(2);

    key.setAllowed(4);
    await new Promise(resolve => setTimeout(resolve, 600));
    // Each round of saturated successes past the probe interval raises the limit by one.
    for (let round = 0; round < 4 && (await learned()) < 3; round++) {
      expect((await burst(6)).every(r => !r.isError)).toBe(true);
      await new Promise(resolve => setTimeout(resolve, 600));
    }
    const grown = await learned();
    expect(grown).toBeGreaterThanOrEqual(3);
    expect(grown).toBeLessThanOrEqual(5);
  }, 120_000);
});

describe('a Kimi per-minute 429 (HTTP server, KIMI_MAX_CONCURRENCY=4)', () => {
  const shared = fakeAndWorkDir();
  const RPM = 'fake-kimierror,kind=rpm';
  const SLOW = 'fake-delay,ms=5000';
  let server: HttpProcess;
  let client: Client;

  beforeAll(async () => {
    await writeFile(
      join(shared.dir.path, 'models.json'),
      JSON.stringify({ models: [RPM, SLOW].map(name => fakeModelEntry(name, { provider: 'kimi' })) }),
    );
    server = await startHttpProcess(
      shared.dir,
      serverEnv(shared.dir, {
        fakeUrl: shared.fake.url,
        extra: {
          KIMI_MAX_CONCURRENCY: '4',
          KIMI_TIMEOUT_SECS: '60',
          PROVIDER_MAX_RETRIES: '0',
          FALLBACK_ON_FAILURE: 'false',
        },
      }),
    );
    client = await connectHttp(server.url);
  });

  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('is no concurrency refusal: the limit stays 4 and four calls reach Kimi at once', async () => {
    // Its message names no concurrency, but our hint for it ("lower KIMI_MAX_CONCURRENCY") does.
    const refused = await chat(client, { prompt: 'over the minute', model: RPM, use_websearch: false });
    expect(refused.isError).toBe(true);
    expect(refused.output.metadata.error_kind).toBe('rate_limited');
    const report = reportOf(await client.callTool({ name: 'status', arguments: {} }));
    const kimi = report.data.providers.find((p: { provider: string }) => p.provider === 'kimi');
    expect(kimi.concurrency).toMatchObject({ limit: 4, max: 4 });

    // Taken for a refusal, it set the limit to 1: these four would reach Kimi one after another.
    const burst = Promise.all(
      [1, 2, 3, 4].map(i => chat(client, { prompt: `call ${i}`, model: SLOW, use_websearch: false }, 60_000)),
    );
    await upstreamActive(shared.fake, 4, 4_000);
    const answers = await burst;
    expect(answers.map(a => a.isError)).toEqual([false, false, false, false]);
  }, 60_000);
});
