/**
 * What operators read off the HTTP server: Prometheus metrics, readiness, and what the status page is built
 * from (/status.json, the icon). The page itself is tested in a real browser by test/browser
 * (npm run test:browser).
 */
import { describe, expect, it } from 'vitest';
import { observedServer } from './observed-server.js';

const obs = observedServer();

describe('metrics and readiness', () => {
  it('GET /metrics exposes provider call durations, retries, breaker state and tool call durations', async () => {
    await obs.chat('glm-4.6');
    await obs.chat('kimi-k2');
    const text = await (await fetch(`${obs.origin}/metrics`)).text();
    expect(text).toMatch(
      /exai_provider_call_duration_seconds_count\{provider="glm",model="glm-4\.6",outcome="ok"\} 1/,
    );
    expect(text).toMatch(
      /exai_provider_call_duration_seconds_count\{provider="kimi",model="kimi-k2.6",outcome="upstream_error"\} 1/,
    );
    expect(text).toMatch(/exai_tool_call_duration_seconds_count\{tool="chat",status="ok"\} 1/);
    expect(text).toMatch(/exai_tool_call_duration_seconds_count\{tool="chat",status="upstream_error"\} 1/);
    expect(text).toMatch(/exai_provider_breaker_state\{provider="glm"\} 0/);
    expect(text).toMatch(/exai_provider_in_flight\{provider="glm"\} 0/);
    expect(text).toMatch(/exai_active_sessions 1/);
    // What the answered call cost, from the catalogue's prices (the failed one cost nothing here).
    const spent = text.match(/exai_provider_cost_usd_total\{provider="glm",model="glm-4\.6"\} ([0-9.e-]+)/);
    expect(Number(spent?.[1])).toBeGreaterThan(0);
    expect(text).not.toMatch(/exai_provider_cost_usd_total\{provider="kimi"/);
    expect(text).not.toContain('test-key');
  });

  it('GET /readyz is ready while a configured provider breaker is closed', async () => {
    const res = await fetch(`${obs.origin}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true, store: 'open', providers: { glm: 'closed' } });
  });
});

describe('status page data and icon', () => {
  it('a consensus call is listed with the models it consulted', async () => {
    const result = await obs.consensus(['glm-4.6', 'glm-4.7']);
    expect(result.isError).toBeFalsy();
    const status = (await (await fetch(`${obs.origin}/status.json`)).json()) as {
      recentCalls: Array<Record<string, unknown>>;
      bucketMs: number;
      providers: Array<Record<string, unknown>>;
    };
    expect(status.recentCalls[0]).toMatchObject({
      tool: 'consensus',
      model: 'glm-4.6, glm-4.7',
      provider: 'glm',
      outcome: 'ok',
    });
    expect(status.bucketMs).toBe(5_000);
    expect(status.providers.find(p => p.provider === 'glm')).toMatchObject({
      concurrencyLimit: expect.any(Number),
      maxConcurrency: expect.any(Number),
    });
  });

  it('serves an icon at /favicon.ico and /favicon.svg, and the page names it inline', async () => {
    for (const path of ['/favicon.ico', '/favicon.svg']) {
      const res = await fetch(`${obs.origin}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/svg+xml');
      expect(await res.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>$/);
      const head = await fetch(`${obs.origin}${path}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
    }
    const page = await (await fetch(`${obs.origin}/`)).text();
    expect(page).toMatch(/<link rel="icon" type="image\/svg\+xml" href="data:image\/svg\+xml,%3Csvg/);
  });
});
