/**
 * The live status page in a real browser: Debian's Chromium driven by playwright-core loads it from the built
 * server, calls happen against the fake provider, and the numbers on the page move.
 */
import { existsSync } from 'node:fs';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  type HttpProcess,
  serverEnv,
  startHttpProcess,
  type WorkDir,
  workDir,
} from '../e2e/harness.js';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
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

describe('live status page', () => {
  it('shows provider state and recent calls, and the numbers move as calls happen', async () => {
    expect(
      existsSync(CHROMIUM),
      `Chromium is needed at ${CHROMIUM} (.ci/run installs Debian's chromium)`,
    ).toBe(true);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${server.origin}/`);
      const calls = page.locator('section[data-provider="glm"] [data-field="calls"]');
      await calls.waitFor();
      const before = Number(await calls.textContent());
      await chat('glm-4.6', 'first');
      await chat('glm-4.6', 'second');
      await expect
        .poll(async () => Number(await calls.textContent()), { timeout: 10_000, interval: 200 })
        .toBeGreaterThanOrEqual(before + 2);
      expect(await page.locator('section[data-provider="glm"] [data-field="breaker"]').textContent()).toBe(
        'closed',
      );
      expect(await page.locator('#calls tr').count()).toBeGreaterThanOrEqual(2);
      expect(await page.locator('#calls tr').first().textContent()).toMatch(/chat.*glm-4\.6.*ok/);
      expect(await page.locator('#chart polyline').count()).toBeGreaterThan(0);
      if (process.env.EXAI_SCREENSHOT)
        await page.screenshot({ path: process.env.EXAI_SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
