/**
 * The live status page in a real browser: Debian's Chromium driven by playwright-core loads it from the built
 * server, calls happen against the fake provider, and the numbers on the page move. The layout is checked
 * where people open it: a desktop window and a 420 px phone.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observedServer } from '../e2e/observed-server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const obs = observedServer();

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  height: number;
}

const boxOf = (page: Page, selector: string): Promise<Box[]> =>
  page.locator(selector).evaluateAll(els =>
    els.map(el => {
      const r = el.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height };
    }),
  );

describe('live status page', () => {
  let browser: Browser;

  beforeAll(async () => {
    expect(
      existsSync(CHROMIUM),
      `Chromium is needed at ${CHROMIUM} (.ci/run installs Debian's chromium)`,
    ).toBe(true);
    browser = await chromium.launch({
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
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens the page at a width, recording every response that was not a success. */
  async function open(width: number): Promise<{ page: Page; failed: string[] }> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const failed: string[] = [];
    page.on('response', res => {
      if (res.status() >= 400) failed.push(`${res.status()} ${res.url()}`);
    });
    await page.goto(`${obs.origin}/`);
    await page.locator('section[data-provider="glm"] [data-field="calls"]').waitFor();
    return { page, failed };
  }

  it('shows provider state and recent calls, and the numbers move as calls happen', async () => {
    const { page, failed } = await open(1200);
    try {
      const calls = page.locator('section[data-provider="glm"] [data-field="calls"]');
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
      // The icon is inline, and /favicon.ico answers too: nothing the browser asks for is missing.
      expect(
        await page.evaluate("fetch(document.querySelector('link[rel~=icon]').href).then(r => r.status)"),
      ).toBe(200);
      expect(await page.evaluate("fetch('/favicon.ico').then(r => r.status)")).toBe(200);
      expect(failed).toEqual([]);
      if (process.env.EXAI_SCREENSHOT)
        await page.screenshot({ path: process.env.EXAI_SCREENSHOT, fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('provider cards share the full width of the page', async () => {
    const { page } = await open(1200);
    try {
      const cards = await boxOf(page, '#providers > section');
      const [chart] = await boxOf(page, 'section:has(#chart)');
      expect(cards).toHaveLength(2);
      // One row, from the left edge of the content to its right edge, in two equal halves.
      expect(Math.abs(cards[0]!.top - cards[1]!.top)).toBeLessThan(1);
      expect(Math.abs(cards[0]!.left - chart!.left)).toBeLessThan(1);
      expect(Math.abs(cards[1]!.right - chart!.right)).toBeLessThan(1);
      expect(Math.abs(cards[0]!.width - cards[1]!.width)).toBeLessThan(1);
    } finally {
      await page.close();
    }
  });

  it('at 420 px: cards stack, nothing scrolls sideways, and the chart has a readable time axis', async () => {
    await obs.chat('glm-4.6', 'narrow');
    const { page } = await open(420);
    try {
      await page.locator('#chart .x-axis text').first().waitFor();
      const cards = await boxOf(page, '#providers > section');
      const [chartSection] = await boxOf(page, 'section:has(#chart)');
      expect(cards[1]!.top).toBeGreaterThanOrEqual(cards[0]!.bottom);
      for (const card of cards) expect(Math.abs(card.width - chartSection!.width)).toBeLessThan(1);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);

      // Drawn at its own size: one SVG unit is one CSS pixel, so labels are not squeezed with the lines.
      const scale = await page
        .locator('#chart')
        .evaluate(
          svg =>
            svg.getBoundingClientRect().width /
            (svg as unknown as { viewBox: { baseVal: { width: number } } }).viewBox.baseVal.width,
        );
      expect(scale).toBeCloseTo(1, 1);

      const [svg] = await boxOf(page, '#chart');
      const labels = await boxOf(page, '#chart text');
      for (const label of labels) {
        expect(label.height).toBeGreaterThanOrEqual(10);
        expect(label.left).toBeGreaterThanOrEqual(svg!.left - 0.5);
        expect(label.right).toBeLessThanOrEqual(svg!.right + 0.5);
      }
      const times = await page.locator('#chart .x-axis text').allTextContents();
      expect(times.length).toBeGreaterThanOrEqual(2);
      for (const time of times) expect(time).toMatch(/\d{1,2}:\d{2}/);
      const ticks = await boxOf(page, '#chart .x-axis text');
      for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.left).toBeGreaterThan(ticks[i - 1]!.right);
      expect(await page.locator('#chart .y-axis text').allTextContents()).toContain('0 ms');
      if (process.env.EXAI_SCREENSHOT_NARROW)
        await page.screenshot({ path: process.env.EXAI_SCREENSHOT_NARROW, fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('a consensus row names the models it consulted', async () => {
    const { page } = await open(1200);
    try {
      await obs.consensus(['glm-4.6', 'glm-4.7']);
      const row = page.locator('#calls tr').first();
      await expect
        .poll(async () => row.textContent(), { timeout: 10_000, interval: 200 })
        .toMatch(/consensus.*glm-4\.6, glm-4\.7.*ok/);
    } finally {
      await page.close();
    }
  });
});
