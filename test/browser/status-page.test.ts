/**
 * The live status page in a real browser: Debian's Chromium driven by playwright-core loads it from the built
 * server, calls happen against the fake provider, and the numbers on the page move.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { observedServer } from '../e2e/observed-server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const obs = observedServer();

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
      await page.goto(`${obs.origin}/`);
      const calls = page.locator('section[data-provider="glm"] [data-field="calls"]');
      await calls.waitFor();
      const before = Number(await calls.textContent());
      await obs.chat('glm-4.6', 'first');
      await obs.chat('glm-4.6', 'second');
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
